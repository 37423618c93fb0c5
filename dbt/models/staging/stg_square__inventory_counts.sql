-- Square counts are one row per catalog object x location x state, the states disjoint
-- buckets (vendor_api_facts.md §5): pivoted to one row per item variation and location.
-- The external SKU is the catalog object id (mapped in sku_map).
with

source as (

    select * from {{ source('raw', 'square_inventory_counts') }}

),

pivoted as (

    select
        snapshot_id,
        catalog_object_id as external_sku,
        location_id as external_location,
        sum(case when state = 'IN_STOCK'
            then cast(quantity as {{ dbt.type_numeric() }}) end) as in_stock,
        sum(case when state = 'RESERVED_FOR_SALE'
            then cast(quantity as {{ dbt.type_numeric() }}) end) as reserved_for_sale,
        sum(case when state in ('ORDERED_FROM_VENDOR', 'IN_TRANSIT_TO', 'IN_TRANSIT')
            then cast(quantity as {{ dbt.type_numeric() }}) end) as incoming_qty,
        max({{ iso8601_to_naive_utc('calculated_at') }}) as updated_at

    from source
    group by snapshot_id, catalog_object_id, location_id

),

renamed as (

    select
        snapshot_id,
        external_sku,
        external_location,
        cast(coalesce(in_stock, 0) + coalesce(reserved_for_sale, 0) as {{ dbt.type_int() }})
            as on_hand,
        cast(coalesce(reserved_for_sale, 0) as {{ dbt.type_int() }}) as committed,
        cast(coalesce(in_stock, 0) as {{ dbt.type_int() }}) as available,
        cast(incoming_qty as {{ dbt.type_int() }}) as incoming,
        updated_at

    from pivoted

)

select * from renamed
