-- Bundles and kits on listing channels, current cycle: one row per channel x bundle SKU x
-- canonical location from the channel's latest successful snapshot, with how many bundles
-- the master's components can build there (int_bundle_availability_computed). A channel
-- listing more than buildable (less its buffer, beyond tolerance) is `bundle_overstated`
-- once settled: overstated for at least the channel's freshness target and no component's
-- master available changed within it (a component sale the channel has not caught up
-- with yet is in flight). Listing fewer than buildable is not an exception here.
with

history as (

    select * from {{ ref('int_bundle_availability_computed') }}
    where cycle_at <= {{ cycle_at() }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
    where cycle_at <= {{ cycle_at() }}

),

system_status as (

    select * from {{ ref('int_system_status_evaluated') }}

),

components as (

    select * from {{ ref('bundle_components') }}

),

master_positions as (

    select * from {{ ref('int_master_positions_selected') }}

),

master_changes as (

    select * from {{ ref('int_master_changes_detected') }}
    where value_kind = 'available'
        and changed_at <= {{ cycle_at() }}

),

current_rows as (

    {{ latest_snapshot_rows('history') }}

),

runs as (

    -- the key's drift run, kept from each cycle's rows (int_comparison_states)
    select
        system_id,
        item_sku as bundle_sku,
        canonical_location,
        run_since as drift_since

    from {{ ref('int_comparison_states') }}
    where state_kind = 'key'
        and comparison_kind = 'bundle'

),

component_changes as (

    select
        current_rows.snapshot_id,
        current_rows.bundle_sku,
        current_rows.canonical_location,
        max(master_changes.changed_at) as last_master_change_at

    from current_rows
    inner join components
        on current_rows.bundle_sku = components.bundle_sku
    inner join master_changes
        on components.component_sku = master_changes.canonical_sku
        and current_rows.canonical_location = master_changes.canonical_location
        and master_changes.changed_at <= current_rows.cycle_at
    group by
        current_rows.snapshot_id,
        current_rows.bundle_sku,
        current_rows.canonical_location

),

component_evidence as (

    -- "SD-1003 x1: 7 available; SD-1004 x2: 3 available" for the alert
    select
        current_rows.snapshot_id,
        current_rows.bundle_sku,
        current_rows.canonical_location,
        {{ dbt.listagg(
            dbt.concat(["components.component_sku", "' x'",
                        dbt.cast("components.component_qty", dbt.type_string()), "': '",
                        "coalesce(" ~ dbt.cast("master_positions.master_available", dbt.type_string()) ~ ", '0')",
                        "' available'"]),
            "'; '", 'order by components.component_sku') }} as components_evidence

    from current_rows
    inner join components
        on current_rows.bundle_sku = components.bundle_sku
    left join master_positions
        on current_rows.cycle_at = master_positions.cycle_at
        and components.component_sku = master_positions.canonical_sku
        and current_rows.canonical_location = master_positions.canonical_location
        and current_rows.master_system_id = master_positions.master_system_id
    group by
        current_rows.snapshot_id,
        current_rows.bundle_sku,
        current_rows.canonical_location

),

evaluated as (

    select
        current_rows.*,
        case when current_rows.is_overstated then runs.drift_since end as drift_since,
        component_changes.last_master_change_at,
        component_evidence.components_evidence,
        coalesce(
            current_rows.is_overstated
            and {{ minutes_between('runs.drift_since', cycle_at()) }}
                >= current_rows.freshness_target_minutes
            and (
                component_changes.last_master_change_at is null
                or {{ minutes_between('component_changes.last_master_change_at', cycle_at()) }}
                    >= current_rows.freshness_target_minutes
            ),
            false
        ) as is_settled,
        case
            when system_status.last_status = 'failed' then 'extract_failed'
            when system_status.is_stale then 'stale_system'
            when current_rows.master_snapshot_id is null
                or master_status.last_status = 'failed' then 'master_unavailable'
        end as suppression_reason

    from current_rows
    left join runs
        on current_rows.system_id = runs.system_id
        and current_rows.bundle_sku = runs.bundle_sku
        and current_rows.canonical_location = runs.canonical_location
    left join component_changes
        on current_rows.snapshot_id = component_changes.snapshot_id
        and current_rows.bundle_sku = component_changes.bundle_sku
        and current_rows.canonical_location = component_changes.canonical_location
    left join component_evidence
        on current_rows.snapshot_id = component_evidence.snapshot_id
        and current_rows.bundle_sku = component_evidence.bundle_sku
        and current_rows.canonical_location = component_evidence.canonical_location
    left join system_status
        on current_rows.system_id = system_status.system_id
    left join system_status as master_status
        on current_rows.master_system_id = master_status.system_id

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        system_id,
        bundle_sku as canonical_sku,
        canonical_location,
        external_sku,
        external_location,
        snapshot_id,
        cycle_at as snapshot_cycle_at,
        observed_at,
        source_records,
        listed_qty as observed_qty,
        buildable_qty,
        channel_buffer,
        expected_qty,
        variance_units,
        tolerance_units,
        components,
        components_booked,
        components_evidence,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        last_master_change_at,
        is_overstated,
        drift_since,
        freshness_target_minutes,
        is_settled,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        case when is_overstated then 'bundle_overstated' end as probable_cause,
        case
            when is_overstated then
                'The channel lists ' || cast(listed_qty as {{ dbt.type_string() }})
                || ' bundles but the components build only '
                || cast(buildable_qty as {{ dbt.type_string() }}) || ' (' || components_evidence
                || '): check that the bundle''s listed quantity is computed from its '
                || 'components (bundle app / kit sync) rather than set by hand, and lower it.'
        end as suggested_check,
        case
            when not is_overstated then 'low'
            when expected_qty <= 5 then 'critical'
            when variance_units >= 10 then 'high'
            else 'medium'
        end as severity,
        variance_units * (case when expected_qty <= 5 then 2 else 1 end) as severity_score

    from evaluated

)

select * from final
