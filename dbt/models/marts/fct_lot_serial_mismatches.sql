-- Lot / serial ids per non-master system x canonical SKU x location against the master at
-- that location, current cycle (int_lot_sets_compared, from the system's latest successful
-- snapshot that could be compared). `lot_serial_mismatch` once settled: the ids have
-- differed for at least the system's freshness target and the location's posting batch
-- (if any) has run since. Suppressed when either side's extraction failed or is stale.
with

history as (

    select * from {{ ref('int_lot_sets_compared') }}

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

last_master_changes as (

    select
        canonical_sku,
        canonical_location,
        max(changed_at) as last_master_change_at

    from {{ ref('int_master_changes_detected') }}
    where changed_at <= {{ cycle_at() }}
    group by
        canonical_sku,
        canonical_location

),

current_rows as (

    {{ latest_snapshot_rows('history') }}

),

runs as (

    -- the key's drift run, kept from each cycle's rows (int_comparison_states)
    select
        system_id,
        item_sku as canonical_sku,
        canonical_location,
        run_since as drift_since

    from {{ ref('int_comparison_states') }}
    where state_kind = 'key'
        and comparison_kind = 'lot_set'

),

evaluated as (

    select
        current_rows.*,
        case when current_rows.is_mismatch then runs.drift_since end as drift_since,
        master_freshness.freshness_target_minutes as master_freshness_target_minutes,
        last_master_changes.last_master_change_at,
        schedules.posting_time_local,
        coalesce(
            current_rows.is_mismatch
            and {{ minutes_between('runs.drift_since', cycle_at()) }}
                >= current_rows.freshness_target_minutes
            and {{ posting_window_passed('runs.drift_since', cycle_at(), 'schedules.timezone',
                                         'schedules.posting_time_local',
                                         'master_freshness.freshness_target_minutes') }},
            false
        ) as is_settled,
        case
            when system_status.last_status = 'failed' then 'extract_failed'
            when system_status.is_stale then 'stale_system'
            when master_status.last_status = 'failed' or master_status.is_stale
                then 'master_unavailable'
        end as suppression_reason

    from current_rows
    left join runs
        on current_rows.system_id = runs.system_id
        and current_rows.canonical_sku = runs.canonical_sku
        and current_rows.canonical_location = runs.canonical_location
    left join schedules
        on current_rows.canonical_location = schedules.canonical_location
    left join last_master_changes
        on current_rows.canonical_sku = last_master_changes.canonical_sku
        and current_rows.canonical_location = last_master_changes.canonical_location
    left join system_status
        on current_rows.system_id = system_status.system_id
    left join system_status as master_status
        on current_rows.master_system_id = master_status.system_id
    left join {{ ref('stg_config__systems') }} as master_freshness
        on current_rows.master_system_id = master_freshness.system_id

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        system_id,
        canonical_sku,
        canonical_location,
        snapshot_id,
        cycle_at as snapshot_cycle_at,
        observed_at,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        lots_compared,
        lots_only_in_system,
        lots_only_in_master,
        lots_quantity_differs,
        system_on_hand,
        master_on_hand,
        lots_evidence,
        is_mismatch,
        drift_since,
        last_master_change_at,
        freshness_target_minutes,
        posting_time_local,
        is_settled,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        case when is_mismatch then 'lot_serial_mismatch' end as probable_cause,
        case
            when is_mismatch then
                system_id || ' and the master disagree on which lots/serials are on hand ('
                || lots_evidence || ', system vs master): check lot capture at receiving '
                || 'and picking (wrong lot scanned, lot not assigned), then correct the lot '
                || 'assignment in the system that is wrong.'
        end as suggested_check,
        case
            when not is_mismatch then 'low'
            when lots_only_in_system + lots_only_in_master > 0 then 'medium'
            else 'low'
        end as severity,
        lots_only_in_system + lots_only_in_master + lots_quantity_differs as severity_score

    from evaluated

)

select * from final
