{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Bundle history: per listing channel snapshot x bundle SKU (seed bundle_components) x
-- canonical location the channel sells from (location_map), the quantity the channel
-- lists against how many bundles the master's components can build at that location in
-- the same cycle: buildable = min over components of floor(component master available /
-- component_qty). A bundle has no stock row in the master, so int_variances_computed has no
-- expected value for it; this model gives it one. Incremental by snapshot.
with

positions as (

    select * from {{ ref('int_positions_mapped') }}
    where is_sku_mapped
        and is_location_mapped
        and cycle_at <= {{ cycle_at() }}

),

components as (

    select * from {{ ref('bundle_components') }}

),

master_positions as (

    select * from {{ ref('int_master_positions_selected') }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

bundles as (

    select distinct bundle_sku from components

),

listed as (

    select
        positions.system_id,
        positions.snapshot_id,
        positions.cycle_at,
        positions.observed_at,
        positions.canonical_sku as bundle_sku,
        positions.canonical_location,
        positions.master_system_id,
        min(positions.external_sku) as external_sku,
        min(positions.external_location) as external_location,
        count(*) as source_records,
        cast(sum(positions.available) as {{ dbt.type_bigint() }}) as listed_qty

    from positions
    inner join bundles
        on positions.canonical_sku = bundles.bundle_sku
    where positions.is_listing
        and not positions.is_master_position
    {% if is_incremental() %}
        and positions.snapshot_id not in (select distinct snapshot_id from {{ this }})
    {% endif %}
    group by
        positions.system_id,
        positions.snapshot_id,
        positions.cycle_at,
        positions.observed_at,
        positions.canonical_sku,
        positions.canonical_location,
        positions.master_system_id

),

master_snapshots as (

    -- the master must have a successful snapshot in the cycle: without one the components'
    -- stock is unknown, never zero
    select system_id, cycle_at, snapshot_id as master_snapshot_id
    from snapshots

),

component_stock as (

    select
        listed.snapshot_id,
        listed.bundle_sku,
        listed.canonical_location,
        count(*) as components,
        count(master_positions.canonical_sku) as components_booked,
        -- a component the master's snapshot does not book at the location has none there
        min(
            floor(
                cast(
                    case
                        when coalesce(master_positions.master_available, 0) > 0
                            then master_positions.master_available
                        else 0
                    end as {{ dbt.type_float() }}
                ) / components.component_qty
            )
        ) as buildable_qty,
        max(master_positions.master_observed_at) as master_observed_at

    from listed
    inner join components
        on listed.bundle_sku = components.bundle_sku
    left join master_positions
        on listed.cycle_at = master_positions.cycle_at
        and components.component_sku = master_positions.canonical_sku
        and listed.canonical_location = master_positions.canonical_location
        and listed.master_system_id = master_positions.master_system_id
    group by
        listed.snapshot_id,
        listed.bundle_sku,
        listed.canonical_location

),

compared as (

    select
        listed.*,
        master_snapshots.master_snapshot_id,
        component_stock.master_observed_at,
        component_stock.components,
        component_stock.components_booked,
        case
            when master_snapshots.master_snapshot_id is not null
                then cast(component_stock.buildable_qty as {{ dbt.type_bigint() }})
        end as buildable_qty,
        systems.channel_buffer,
        systems.tolerance_units,
        systems.freshness_target_minutes

    from listed
    inner join component_stock
        on listed.snapshot_id = component_stock.snapshot_id
        and listed.bundle_sku = component_stock.bundle_sku
        and listed.canonical_location = component_stock.canonical_location
    inner join systems
        on listed.system_id = systems.system_id
    left join master_snapshots
        on listed.master_system_id = master_snapshots.system_id
        and listed.cycle_at = master_snapshots.cycle_at

),

expected as (

    select
        *,
        -- the listing rule for any SKU: buildable less the channel buffer, never below 0
        case
            when buildable_qty is null then null
            when buildable_qty - channel_buffer > 0 then buildable_qty - channel_buffer
            else 0
        end as expected_qty

    from compared

),

final as (

    select
        {{ dbt.concat(["snapshot_id", "'|'", "bundle_sku", "'|'", "canonical_location"]) }}
            as bundle_availability_id,
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        bundle_sku,
        canonical_location,
        external_sku,
        external_location,
        source_records,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        components,
        components_booked,
        listed_qty,
        buildable_qty,
        channel_buffer,
        expected_qty,
        listed_qty - expected_qty as variance_units,
        tolerance_units,
        freshness_target_minutes,
        listed_qty - expected_qty > tolerance_units as is_overstated

    from expected

)

select * from final
