{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Variance history: every non-master system's successful snapshot x canonical key, compared
-- with the master snapshot of the SAME cycle. Incremental by snapshot: each build appends
-- only snapshots not yet compared, so a 5-minute cycle costs one snapshot per system.
-- Config (buffer, tolerances) is frozen at compare time; `--full-refresh` recomputes.
with

positions as (

    select * from {{ ref('int_positions_mapped') }}

),

master_positions as {{ inline_cte() }} (

    select * from {{ ref('int_master_positions_selected') }}

),

master_changes as (

    select * from {{ ref('int_master_changes_detected') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}

),

location_map as (

    select * from {{ ref('location_map') }}

),

new_positions as (

    select * from positions
    where not is_master_position
        and is_sku_mapped
        and is_location_mapped
        and cycle_at <= {{ cycle_at() }}
    {% if is_incremental() %}
        and snapshot_id not in (select distinct snapshot_id from {{ this }})
    {% endif %}

),

keyed as (

    select
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        min(external_sku) as external_sku,
        min(external_location) as external_location,
        count(*) as source_records,
        cast(sum(observed_qty) as {{ dbt.type_bigint() }}) as observed_qty,
        max(source_updated_at) as source_updated_at

    from new_positions
    group by
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id

),

new_listing_snapshots as (

    select snapshots.*
    from snapshots
    inner join systems
        on snapshots.system_id = systems.system_id
    where systems.is_listing
        and not systems.is_master
        and snapshots.cycle_at <= {{ cycle_at() }}
    {% if is_incremental() %}
        and snapshots.snapshot_id not in (select distinct snapshot_id from {{ this }})
    {% endif %}

),

missing_listings as (

    -- A listing channel feeds from every location its location_map maps. A master key at
    -- such a location with no row in the channel's successful snapshot is not listed: it
    -- shows 0 to customers (missing_listing when the master has sellable stock). A failed
    -- snapshot has no rows at all and is never read here (missing data is not zero stock).
    select
        new_listing_snapshots.system_id,
        new_listing_snapshots.snapshot_id,
        new_listing_snapshots.cycle_at,
        new_listing_snapshots.observed_at,
        master_positions.canonical_sku,
        master_positions.canonical_location,
        master_positions.master_system_id,
        cast(null as {{ dbt.type_string() }}) as external_sku,
        min(location_map.external_location) as external_location,
        cast(0 as {{ dbt.type_bigint() }}) as source_records,
        cast(0 as {{ dbt.type_bigint() }}) as observed_qty,
        cast(null as {{ dbt.type_timestamp() }}) as source_updated_at,
        false as is_listed

    from new_listing_snapshots
    inner join location_map
        on new_listing_snapshots.system_id = location_map.system_id
    inner join master_positions
        on new_listing_snapshots.cycle_at = master_positions.cycle_at
        and location_map.canonical_location = master_positions.canonical_location
    left join keyed
        on new_listing_snapshots.snapshot_id = keyed.snapshot_id
        and master_positions.canonical_sku = keyed.canonical_sku
        and master_positions.canonical_location = keyed.canonical_location
    where keyed.snapshot_id is null
    group by
        new_listing_snapshots.system_id,
        new_listing_snapshots.snapshot_id,
        new_listing_snapshots.cycle_at,
        new_listing_snapshots.observed_at,
        master_positions.canonical_sku,
        master_positions.canonical_location,
        master_positions.master_system_id

),

observations as (

    select keyed.*, true as is_listed from keyed
    union all
    select * from missing_listings

),

compared as (

    select
        observations.*,
        systems.system_role,
        systems.is_listing,
        systems.channel_buffer,
        systems.tolerance_units,
        systems.tolerance_percent,
        systems.freshness_target_minutes,
        case when systems.is_listing then 'available' else 'on_hand' end as compared_value_kind,
        master_positions.master_snapshot_id,
        master_positions.master_observed_at,
        master_positions.master_on_hand,
        master_positions.master_available,
        master_positions.unit_cost,
        -- the expected-value rule: listing channels show the master's available less the
        -- channel buffer (never below 0); physical holders show the master's book on-hand
        case
            when systems.is_listing and master_positions.master_available is not null
                then greatest(0, master_positions.master_available - systems.channel_buffer)
            when not systems.is_listing
                then master_positions.master_on_hand
        end as expected_qty

    from observations
    inner join systems
        on observations.system_id = systems.system_id
    left join master_positions
        on observations.cycle_at = master_positions.cycle_at
        and observations.canonical_sku = master_positions.canonical_sku
        and observations.canonical_location = master_positions.canonical_location
        and observations.master_system_id = master_positions.master_system_id

),

last_master_changes as (

    select
        compared.snapshot_id,
        compared.canonical_sku,
        compared.canonical_location,
        max(master_changes.changed_at) as last_master_change_at,
        -- the first observation of a key is not a change anyone made
        max(case when not master_changes.is_initial then master_changes.changed_at end)
            as last_real_master_change_at

    from compared
    inner join master_changes
        on compared.canonical_sku = master_changes.canonical_sku
        and compared.canonical_location = master_changes.canonical_location
        and compared.compared_value_kind = master_changes.value_kind
        and master_changes.changed_at <= compared.cycle_at
    group by
        compared.snapshot_id,
        compared.canonical_sku,
        compared.canonical_location

),

measured as (

    select
        compared.*,
        last_master_changes.last_master_change_at,
        last_master_changes.last_real_master_change_at,
        compared.observed_qty - compared.expected_qty as variance_units,
        abs(compared.observed_qty - compared.expected_qty) as abs_variance_units,
        case
            when compared.expected_qty <> 0
                then 100.0 * (compared.observed_qty - compared.expected_qty)
                    / abs(compared.expected_qty)
        end as variance_pct

    from compared
    left join last_master_changes
        on compared.snapshot_id = last_master_changes.snapshot_id
        and compared.canonical_sku = last_master_changes.canonical_sku
        and compared.canonical_location = last_master_changes.canonical_location

),

final as (

    select
        {{ dbt.concat(["snapshot_id", "'|'", "canonical_sku", "'|'", "canonical_location"]) }}
            as variance_id,
        system_id,
        system_role,
        is_listing,
        snapshot_id,
        cycle_at,
        observed_at,
        source_updated_at,
        canonical_sku,
        canonical_location,
        external_sku,
        external_location,
        source_records,
        is_listed,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        master_on_hand,
        master_available,
        unit_cost,
        compared_value_kind,
        last_master_change_at,
        last_real_master_change_at,
        channel_buffer,
        observed_qty,
        expected_qty,
        variance_units,
        abs_variance_units,
        variance_pct,
        case
            when variance_units > 0 then 'overstated'
            when variance_units < 0 then 'understated'
            when variance_units = 0 then 'match'
        end as direction,
        tolerance_units,
        tolerance_percent,
        freshness_target_minutes,
        case
            when variance_units is null then null
            when abs_variance_units <= tolerance_units then true
            when tolerance_percent > 0 and abs(variance_pct) <= tolerance_percent then true
            else false
        end as within_tolerance

    from measured

)

select * from final
