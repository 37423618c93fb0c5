-- Reservations and incoming at physical holders against the master, current cycle, one row
-- per non-master physical holder x canonical key x bucket (committed | incoming), from the
-- holder's latest successful snapshot (int_holder_buckets_compared has the arithmetic):
-- * committed: canceled_order_not_released when the master still holds more committed
--   units than the fulfilling holder, beyond what shipped-but-unposted units explain;
-- * incoming: incoming_stuck when the holder expects stock no open purchase order in the
--   master explains.
-- Settled like drift: the unexplained units have been over tolerance for at least the
-- slower of the two systems' freshness targets, and the location's posting batch (if any)
-- has run since and had the master's target to show. Suppressed when either side's data
-- cannot be judged (failed or stale extraction).
with

history as (

    select * from {{ ref('int_holder_buckets_compared') }}
    where cycle_at <= {{ cycle_at() }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
    where cycle_at <= {{ cycle_at() }}

),

system_status as (

    select * from {{ ref('int_system_status_evaluated') }}

),

schedules as (

    select * from {{ ref('int_location_posting_schedules') }}

),

master_changes as (

    select * from {{ ref('int_master_changes_detected') }}
    where changed_at <= {{ cycle_at() }}

),

current_history as (

    -- each holder's latest snapshot rows: everything below reads these, never the history
    {{ latest_snapshot_rows('history') }}

),

current_long as (

    select
        holder_bucket_id,
        system_id,
        snapshot_id,
        cycle_at,
        canonical_sku,
        canonical_location,
        'committed' as bucket,
        unreleased_committed_units as unexplained_units,
        tolerance_units

    from current_history
    where unreleased_committed_units is not null

    union all

    select
        holder_bucket_id,
        system_id,
        snapshot_id,
        cycle_at,
        canonical_sku,
        canonical_location,
        'incoming' as bucket,
        unexplained_incoming_units as unexplained_units,
        tolerance_units

    from current_history
    where unexplained_incoming_units is not null

),

current_rows as (

    select * from current_long

),

runs as (

    -- the key's drift run, kept from each cycle's rows (int_comparison_states)
    select
        system_id,
        item_sku as canonical_sku,
        canonical_location,
        measure as bucket,
        run_since as drift_since

    from {{ ref('int_comparison_states') }}
    where state_kind = 'key'
        and comparison_kind = 'holder_bucket'

),

last_master_changes as (

    select
        canonical_sku,
        canonical_location,
        max(changed_at) as last_master_change_at

    from master_changes
    group by
        canonical_sku,
        canonical_location

),

joined as (

    select
        history.*,
        current_rows.bucket,
        current_rows.unexplained_units,
        current_rows.unexplained_units > current_rows.tolerance_units as is_unexplained,
        case
            when current_rows.unexplained_units > current_rows.tolerance_units
                then runs.drift_since
        end as drift_since,
        last_master_changes.last_master_change_at,
        schedules.timezone,
        schedules.posting_time_local,
        case
            when history.freshness_target_minutes > history.master_freshness_target_minutes
                then history.freshness_target_minutes
            else coalesce(history.master_freshness_target_minutes, history.freshness_target_minutes)
        end as settle_after_minutes,
        case
            when system_status.last_status = 'failed' then 'extract_failed'
            when system_status.is_stale then 'stale_system'
            when master_status.last_status = 'failed' or master_status.is_stale
                then 'master_unavailable'
        end as suppression_reason

    from current_rows
    inner join current_history as history
        on current_rows.holder_bucket_id = history.holder_bucket_id
    left join runs
        on current_rows.system_id = runs.system_id
        and current_rows.canonical_sku = runs.canonical_sku
        and current_rows.canonical_location = runs.canonical_location
        and current_rows.bucket = runs.bucket
    left join last_master_changes
        on current_rows.canonical_sku = last_master_changes.canonical_sku
        and current_rows.canonical_location = last_master_changes.canonical_location
    left join schedules
        on current_rows.canonical_location = schedules.canonical_location
    left join system_status
        on current_rows.system_id = system_status.system_id
    left join system_status as master_status
        on history.master_system_id = master_status.system_id

),

evaluated as (

    select
        *,
        coalesce(
            is_unexplained
            -- aged to the row's own snapshot cycle, not to now: a holder that missed this
            -- cycle's extraction has not shown the difference for any longer
            and {{ minutes_between('drift_since', 'cycle_at') }} >= settle_after_minutes
            and {{ posting_window_passed('drift_since', 'cycle_at', 'timezone',
                                         'posting_time_local',
                                         'master_freshness_target_minutes') }},
            false
        ) as is_settled,
        {{ next_posting_at('drift_since', 'timezone', 'posting_time_local') }}
            as expected_posting_at

    from joined

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        {{ dbt.concat(["system_id", "'|'", "canonical_sku", "'|'", "canonical_location",
                       "'|'", "bucket"]) }} as bucket_drift_id,
        system_id,
        system_role,
        canonical_sku,
        canonical_location,
        bucket,
        snapshot_id,
        cycle_at as snapshot_cycle_at,
        observed_at,
        holder_on_hand,
        holder_committed,
        holder_incoming,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        master_on_hand,
        master_committed,
        master_incoming,
        master_on_hand_ahead_units,
        excess_committed_units,
        excess_incoming_units,
        unexplained_units,
        tolerance_units,
        is_unexplained,
        drift_since,
        last_master_change_at,
        freshness_target_minutes,
        master_freshness_target_minutes,
        settle_after_minutes,
        posting_time_local,
        expected_posting_at,
        is_settled,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        case
            when not is_unexplained then null
            when bucket = 'committed' then 'canceled_order_not_released'
            else 'incoming_stuck'
        end as probable_cause,
        case
            when not is_unexplained then null
            when bucket = 'committed' then
                'The master holds ' || cast(unexplained_units as {{ dbt.type_string() }})
                || ' more committed units than ' || system_id || ' that no shipment explains: '
                || 'look for an order canceled (or edited down) at the holder whose '
                || 'reservation is still open in the master, and close or release it there.'
            else
                system_id || ' expects ' || cast(unexplained_units as {{ dbt.type_string() }})
                || ' incoming units that no open purchase order in the master explains: '
                || 'find the inbound shipment (ASN / receiving order) and its purchase order; '
                || 'a PO closed or received early in the master, or an inbound never '
                || 'cancelled at the holder, leaves stock that will never arrive.'
        end as suggested_check,
        unit_cost,
        unexplained_units * unit_cost as value_at_risk,
        case
            when not is_unexplained then 'low'
            when coalesce(unexplained_units * unit_cost, 0) >= 500 then 'high'
            when coalesce(unexplained_units * unit_cost, 0) + unexplained_units >= 50
                then 'medium'
            else 'low'
        end as severity,
        coalesce(unexplained_units * unit_cost, 0) + unexplained_units as severity_score

    from evaluated

)

select * from final
