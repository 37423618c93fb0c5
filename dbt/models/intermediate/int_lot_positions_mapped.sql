{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Lot / serial balances of every system that lands them, one row per vendor record, from
-- successful snapshots, translated to canonical SKU x location through the mapping seeds.
-- `lot_id` is the lot number, or the serial number for serialized items. Each row also
-- says until when its units are sellable: a dated lot stops being sellable
-- `sellable_days_before_expiry` days (seed sku_lot_policies, default 0) before it expires.
-- Incremental by snapshot, mapped with the mappings and policies of the cycle it lands in
-- (as int_positions_mapped): as a view, every cycle re-mapped the whole lot history.
with

shipbob as (

    select * from {{ ref('stg_shipbob__inventory_lots') }}

),

netsuite as (

    select * from {{ ref('stg_netsuite__inventory_lots') }}

),

wms as (

    select * from {{ ref('stg_wms__lots') }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
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

locations as (

    select * from {{ ref('stg_config__locations') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

policies as (

    select * from {{ ref('sku_lot_policies') }}

),

global_master as (

    select min(system_id) as master_system_id
    from systems
    where is_master

),

unioned as (

    select snapshot_id, external_sku, external_location, lot_id, expires_on, on_hand
    from shipbob
    union all
    select snapshot_id, external_sku, external_location, lot_id, expires_on, on_hand
    from netsuite
    union all
    select snapshot_id, external_sku, external_location, lot_id, expires_on, on_hand
    from wms

),

final as (

    select
        snapshots.system_id,
        unioned.snapshot_id,
        snapshots.cycle_at,
        snapshots.observed_at,
        unioned.external_sku,
        unioned.external_location,
        sku_map.canonical_sku,
        location_map.canonical_location,
        coalesce(unioned.lot_id, '(no lot)') as lot_id,
        unioned.expires_on,
        cast(unioned.on_hand as {{ dbt.type_bigint() }}) as on_hand,
        coalesce(policies.sellable_days_before_expiry, 0) as sellable_days_before_expiry,
        case
            when unioned.expires_on is not null then
                cast({{ dbt.dateadd('day', '-1 * coalesce(policies.sellable_days_before_expiry, 0)',
                                    'unioned.expires_on') }} as date)
        end as sellable_until,
        coalesce(locations.master_system_id, global_master.master_system_id) as master_system_id,
        snapshots.system_id = coalesce(locations.master_system_id, global_master.master_system_id)
            as is_master_position

    from unioned
    inner join snapshots
        on unioned.snapshot_id = snapshots.snapshot_id
    inner join sku_map
        on snapshots.system_id = sku_map.system_id
        and unioned.external_sku = sku_map.external_sku
    inner join location_map
        on snapshots.system_id = location_map.system_id
        and unioned.external_location = location_map.external_location
    left join locations
        on location_map.canonical_location = locations.canonical_location
    left join policies
        on sku_map.canonical_sku = policies.canonical_sku
    cross join global_master

)

select * from final
