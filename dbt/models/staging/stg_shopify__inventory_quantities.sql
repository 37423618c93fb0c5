-- Shopify Admin GraphQL inventoryLevel.quantities (vendor_api_facts.md §1.7), one row per
-- inventory level, names as documented. reserved, damaged, safety_stock and
-- quality_control are inside on_hand and not sellable.
with

source as (

    select * from {{ source('raw', 'shopify_inventory_quantities') }}

),

renamed as (

    select
        snapshot_id,
        inventory_level_id,
        inventory_item_id,
        location_id,
        location_name,
        sku as external_sku,
        cast(location_id as {{ dbt.type_string() }}) as external_location,
        cast(on_hand as {{ dbt.type_int() }}) as on_hand,
        cast(committed as {{ dbt.type_int() }}) as committed,
        cast(available as {{ dbt.type_int() }}) as available,
        cast(incoming as {{ dbt.type_int() }}) as incoming,
        cast(reserved as {{ dbt.type_int() }}) as reserved,
        cast(damaged as {{ dbt.type_int() }}) as damaged,
        cast(safety_stock as {{ dbt.type_int() }}) as safety_stock,
        cast(quality_control as {{ dbt.type_int() }}) as quality_control,
        {{ iso8601_to_naive_utc('updated_at') }} as updated_at

    from source

)

select * from renamed
