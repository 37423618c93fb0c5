-- Per non-master system x canonical location in the current cycle: how many keys are in
-- settled drift. Many at once is one `sync_stopped` incident, not a flood of key alerts.
-- Only rows that can be judged count (not suppressed by a failed, stale or master-less
-- extraction).
--
-- drift_share is measured among the location's *active* keys: those in settled drift plus
-- those whose master really changed within the look-back window and whose own number then
-- followed (moved in a later snapshot) and now matches. A channel-led change (an order on
-- the channel that the master imports) proves nothing about the push, so it is not counted. A stopped
-- sync drives it towards 1 within a cycle or two; a healthy channel keeps it near 0. (A share
-- of all keys would take hours to cross a threshold on a large catalog.)
-- sync_stopped also forms before sync_stopped_min_keys keys have settled when the channel
-- itself has gone quiet: no key at the location shows the sync working, at least one has
-- outlived the target, the settled keys plus those still in flight behind the master reach
-- sync_stopped_min_keys, and the vendor's own write times (source_updated_at) show no
-- write at the location since before the oldest settled drift began (drift_since), and
-- none for two freshness targets. Keys in flight alone prove nothing (a working push
-- carries them a minute or two later, and a channel-led location is always behind for a
-- moment); a channel that took no write at all while the master moved that many keys is
-- the stopped push itself. Without vendor write times the rule cannot fire.
-- sync_stopped_by says which rule fired.
-- sync_stop_forming: the share is over the threshold and 2 or more, but fewer than
-- sync_stopped_min_keys, keys drift yet.
-- key_alert_hold_minutes: how long fct_variance holds this location's per-key drift alerts
-- (null: not held) because an incident may be forming: while 2 or more keys drift with
-- little sign of a working sync, or one key drifts with none (keys_recently_synced = 0:
-- the first key of a stopped sync looks exactly like that, e.g. a push that died just
-- before monitoring started). Four targets when some key synced; else the look-back
-- window, as only a key that syncs (then the drifting key is a key problem) or more
-- drifting keys (then it is an incident) can settle the question. A lone drifting key
-- where other keys do follow the master is a key problem and is not held.
with

current_variances as (

    -- is_sync_evidence: the key's drift says the system did not follow the master (null
    -- when in tolerance); a key whose drift has a specific mechanism (duplicate, missing
    -- listing, manual edit, ...) is its own exception, not evidence that the sync stopped
    select
        *,
        {{ is_sync_evidence_cause(variance_probable_cause()) }} as is_sync_evidence

    from {{ ref('int_current_variances_evaluated') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

per_location as (

    select
        system_id,
        canonical_location,
        count(*) as keys_observed,
        count(
            case
                when base_suppression_reason is null and within_tolerance is not null then 1
            end
        ) as keys_compared,
        count(
            case
                when base_suppression_reason is null and is_settled and is_sync_evidence
                    then 1
            end
        ) as keys_settled_drift,
        count(
            case
                when base_suppression_reason is null
                    and within_tolerance = false
                    and not is_settled
                    and is_sync_evidence
                    then 1
            end
        ) as keys_in_flight_drift,
        max(
            case when base_suppression_reason is null then source_updated_at end
        ) as channel_last_write_at,
        count(
            case
                when base_suppression_reason is null
                    and within_tolerance
                    and last_real_master_change_at is not null
                    and last_observed_change_at > last_real_master_change_at
                    and {{ minutes_between('last_real_master_change_at', cycle_at()) }}
                        <= {{ sync_activity_window_minutes('freshness_target_minutes') }}
                    then 1
            end
        ) as keys_recently_synced,
        min(
            case when base_suppression_reason is null and is_settled then drift_since end
        ) as drift_since

    from current_variances
    group by
        system_id,
        canonical_location

),

measured as (

    select
        per_location.*,
        cast(per_location.keys_settled_drift as {{ dbt.type_float() }})
            / nullif(per_location.keys_settled_drift + per_location.keys_recently_synced, 0)
            as drift_share,
        systems.sync_stopped_min_keys,
        systems.sync_stopped_share,
        systems.freshness_target_minutes

    from per_location
    inner join systems
        on per_location.system_id = systems.system_id

),

judged as (

    select
        measured.*,
        case
            when keys_settled_drift >= sync_stopped_min_keys
                and drift_share >= sync_stopped_share
                then 'settled_keys'
            when keys_recently_synced = 0
                and keys_settled_drift >= 1
                and keys_settled_drift + keys_in_flight_drift >= sync_stopped_min_keys
                and channel_last_write_at < drift_since
                and {{ minutes_between('channel_last_write_at', cycle_at()) }}
                    >= 2 * freshness_target_minutes
                then 'channel_silent'
        end as sync_stopped_by

    from measured

),

settled_examples as (

    select
        system_id,
        canonical_location,
        {{ dbt.listagg('canonical_sku', "', '", 'order by canonical_sku', 5) }} as example_skus

    from current_variances
    where base_suppression_reason is null
        and is_settled
    group by
        system_id,
        canonical_location

),

final as (

    select
        judged.system_id,
        judged.canonical_location,
        judged.keys_observed,
        judged.keys_compared,
        judged.keys_settled_drift,
        judged.keys_recently_synced,
        judged.keys_in_flight_drift,
        judged.channel_last_write_at,
        judged.drift_share,
        judged.sync_stopped_by is not null as sync_stopped,
        judged.sync_stopped_by,
        coalesce(
            judged.sync_stopped_by is null
            and judged.keys_settled_drift >= 2
            and judged.keys_settled_drift < judged.sync_stopped_min_keys
            and judged.drift_share >= judged.sync_stopped_share,
            false
        ) as sync_stop_forming,
        case
            when judged.sync_stopped_by is null
                and judged.keys_settled_drift < judged.sync_stopped_min_keys
                and judged.drift_share >= judged.sync_stopped_share
                and (judged.keys_settled_drift >= 2 or judged.keys_recently_synced = 0)
                then
                    case
                        when judged.keys_recently_synced = 0
                            then {{ sync_activity_window_minutes('judged.freshness_target_minutes') }}
                        else 4 * judged.freshness_target_minutes
                    end
        end as key_alert_hold_minutes,
        judged.sync_stopped_min_keys,
        judged.sync_stopped_share,
        {{ cycle_at() }} as cycle_at,
        judged.drift_since,
        settled_examples.example_skus

    from judged
    left join settled_examples
        on judged.system_id = settled_examples.system_id
        and judged.canonical_location = settled_examples.canonical_location

)

select * from final
