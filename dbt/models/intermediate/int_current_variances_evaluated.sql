-- A table, not a view: fct_system_drift and fct_variance both read it every cycle. Its
-- drift runs and last observed changes come from int_variance_states (per-key state kept
-- from each cycle's rows), not from a scan of the whole history every cycle.
{{ config(materialized='table') }}

-- The current cycle's comparison per non-master system x key, with settledness:
-- * drift_since: the earliest cycle of the current unbroken run of out-of-tolerance
--   observations of this key in this system's successful snapshots (observations with no
--   master to compare against neither extend nor break a run). A run crosses a cycle the
--   master was observed in but this system was not (failed or not extracted) only if it
--   had already lasted the freshness target before it: what the key did during the outage
--   is unknown, so an in-flight difference before it and another after it are two
--   observations, not an old drift (a ShipBob shipment on each side would otherwise be
--   settled at once), while a settled drift stays settled (no resolve and reopen). Only the
--   latest such cycle is checked;
-- * is_settled: out of tolerance, and both the drift and the master's last change for the
--   key are at least the system's freshness target old. Anything younger is in flight.
-- * base_suppression_reason: why the row must not raise a per-key exception (extraction
--   failed, system stale, no master snapshot in the row's cycle or the master's latest
--   attempt failed); sync_stopped is added in fct_variance.
with

variance_history as (

    select * from {{ ref('int_variances_computed') }}
    where cycle_at <= {{ cycle_at() }}

),

states as (

    -- each key's run and last change, kept up to date from each cycle's rows only
    select * from {{ ref('int_variance_states') }}
    where state_kind = 'key'

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
    where cycle_at <= {{ cycle_at() }}

),

system_status as (

    select * from {{ ref('int_system_status_evaluated') }}

),

schedules as (select * from {{ ref('int_location_posting_schedules') }}),

master_on_hand_changes as (

    select * from {{ ref('int_master_changes_detected') }}
    where value_kind = 'on_hand'
        and not is_initial

),

current_rows as (

    {{ latest_snapshot_rows('variance_history') }}

),

last_on_hand_changes as (

    -- the master's latest real on-hand change at or before the row's snapshot: a channel
    -- that moved by exactly that much, after it, tracks on-hand (not available)
    select
        current_rows.system_id,
        current_rows.canonical_sku,
        current_rows.canonical_location,
        master_on_hand_changes.changed_at as last_on_hand_change_at,
        master_on_hand_changes.new_value - master_on_hand_changes.previous_value
            as last_on_hand_change_units,
        row_number() over (
            partition by current_rows.system_id, current_rows.canonical_sku,
                current_rows.canonical_location
            order by master_on_hand_changes.changed_at desc
        ) as change_rank

    from current_rows
    inner join master_on_hand_changes
        on current_rows.canonical_sku = master_on_hand_changes.canonical_sku
        and current_rows.canonical_location = master_on_hand_changes.canonical_location
        and master_on_hand_changes.changed_at <= current_rows.cycle_at

),

with_drift as (

    select
        current_rows.*,
        states.last_observed_change_at,
        states.last_observed_change_units,
        last_on_hand_changes.last_on_hand_change_at,
        last_on_hand_changes.last_on_hand_change_units,
        case
            when current_rows.within_tolerance is distinct from false then null
            when states.run_last_before_gap is null
                or {{ minutes_between('states.run_since', 'states.run_last_before_gap') }}
                    >= current_rows.freshness_target_minutes
                then states.run_since
            else states.run_since_last_gap
        end as drift_since

    from current_rows
    left join states
        on current_rows.system_id = states.system_id
        and current_rows.canonical_sku = states.canonical_sku
        and current_rows.canonical_location = states.canonical_location
    left join last_on_hand_changes
        on current_rows.system_id = last_on_hand_changes.system_id
        and current_rows.canonical_sku = last_on_hand_changes.canonical_sku
        and current_rows.canonical_location = last_on_hand_changes.canonical_location
        and last_on_hand_changes.change_rank = 1

),

evaluated as (

    select
        with_drift.*,
        coalesce(
            with_drift.within_tolerance = false
            and {{ minutes_between('with_drift.drift_since', 'with_drift.cycle_at') }}
                >= with_drift.freshness_target_minutes
            and {{ minutes_between('with_drift.last_master_change_at', 'with_drift.cycle_at') }}
                >= with_drift.freshness_target_minutes
            and (with_drift.is_listing or {{ posting_window_passed('with_drift.drift_since',
                'with_drift.cycle_at', 'schedules.timezone', 'schedules.posting_time_local',
                'with_drift.freshness_target_minutes') }}),
            false
        ) as is_settled,
        case
            when system_status.last_status = 'failed' then 'extract_failed'
            when system_status.is_stale then 'stale_system'
            -- no master snapshot for the cycle (a key the master lacks is not suppressed:
            -- it simply has no expected value)
            when master_snapshots.snapshot_id is null
                or master_status.last_status = 'failed' then 'master_unavailable'
        end as base_suppression_reason

    from with_drift
    left join system_status
        on with_drift.system_id = system_status.system_id
    left join system_status as master_status
        on with_drift.master_system_id = master_status.system_id
    left join schedules on with_drift.canonical_location = schedules.canonical_location
    left join snapshots as master_snapshots
        on with_drift.master_system_id = master_snapshots.system_id
        and with_drift.cycle_at = master_snapshots.cycle_at

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        cycle_at as snapshot_cycle_at,
        variance_id,
        system_id,
        system_role,
        is_listing,
        canonical_sku,
        canonical_location,
        external_sku,
        external_location,
        source_records,
        is_listed,
        snapshot_id,
        observed_at,
        source_updated_at,
        observed_qty,
        expected_qty,
        compared_value_kind,
        channel_buffer,
        master_system_id,
        master_on_hand,
        master_available,
        master_snapshot_id,
        master_observed_at,
        last_master_change_at,
        last_real_master_change_at,
        last_observed_change_at,
        last_observed_change_units,
        last_on_hand_change_at,
        last_on_hand_change_units,
        variance_units,
        abs_variance_units,
        variance_pct,
        direction,
        tolerance_units,
        tolerance_percent,
        within_tolerance,
        drift_since,
        freshness_target_minutes,
        is_settled,
        base_suppression_reason,
        unit_cost

    from evaluated

)

select * from final
