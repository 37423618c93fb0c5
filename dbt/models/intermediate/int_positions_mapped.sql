{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Positions translated to canonical SKU x location through the mapping seeds. Left joins:
-- an unmapped SKU or location keeps its row, flagged, so it is reported, never dropped.
-- Incremental by snapshot, like the variance history: a snapshot is mapped with the
-- mappings of the cycle it lands in (a mapping added later maps the next snapshots; run
-- `dbt build --full-refresh -s int_positions_mapped+` to remap history). Every model
-- downstream reads this one table instead of binding the union of ten staging views.
with

positions as (

    select * from {{ ref('int_positions_unioned') }}
    {% if is_incremental() %}
    where snapshot_id not in (select distinct snapshot_id from {{ this }})
    {% endif %}

),

sku_map as (

    select * from {{ ref('sku_map') }}

),

location_map as (

    select * from {{ ref('location_map') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

locations as (

    select * from {{ ref('stg_config__locations') }}

),

global_master as (

    select min(system_id) as master_system_id
    from systems
    where is_master

),

mapped as (

    select
        positions.system_id,
        systems.system_role,
        systems.is_listing,
        positions.snapshot_id,
        positions.cycle_at,
        positions.observed_at,
        positions.external_sku,
        positions.external_location,
        sku_map.canonical_sku,
        location_map.canonical_location,
        sku_map.canonical_sku is not null as is_sku_mapped,
        location_map.canonical_location is not null as is_location_mapped,
        positions.on_hand,
        positions.committed,
        positions.available,
        positions.incoming,
        positions.reserved,
        positions.safety_stock,
        positions.unit_cost,
        positions.source_updated_at,
        -- what this system's number means: a listed quantity or a physical count
        case
            when systems.is_listing then positions.available
            else positions.on_hand
        end as observed_qty,
        coalesce(locations.master_system_id, global_master.master_system_id) as master_system_id

    from positions
    left join sku_map
        on positions.system_id = sku_map.system_id
        and positions.external_sku = sku_map.external_sku
    left join location_map
        on positions.system_id = location_map.system_id
        and positions.external_location = location_map.external_location
    left join systems
        on positions.system_id = systems.system_id
    left join locations
        on location_map.canonical_location = locations.canonical_location
    cross join global_master

),

final as (

    select
        *,
        system_id = master_system_id as is_master_position

    from mapped

)

select * from final
