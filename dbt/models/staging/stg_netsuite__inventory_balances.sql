with

source as (

    select * from {{ source('raw', 'netsuite_inventory') }}

),

renamed as (

    select
        snapshot_id,
        item as item_internal_id,
        itemid as external_sku,
        location as external_location,
        location_name,
        {{ string_to_quantity('quantityonhand') }} as on_hand,
        {{ string_to_quantity('quantityavailable') }} as available,
        {{ string_to_quantity('quantitycommitted') }} as committed,
        {{ string_to_quantity('quantityonorder') }} as incoming,
        cast(averagecost as {{ dbt.type_numeric() }}) as unit_cost

    from source

)

select * from renamed
