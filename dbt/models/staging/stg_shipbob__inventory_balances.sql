with

source as (

    select * from {{ source('raw', 'shipbob_inventory') }}

),

renamed as (

    select
        snapshot_id,
        inventory_id,
        name as item_name,
        fulfillment_center_id,
        fulfillment_center_name,
        -- ShipBob's inventory list has no SKU field: the inventory id is the external SKU.
        cast(inventory_id as {{ dbt.type_string() }}) as external_sku,
        cast(fulfillment_center_id as {{ dbt.type_string() }}) as external_location,
        cast(onhand_quantity as {{ dbt.type_int() }}) as on_hand,
        cast(committed_quantity as {{ dbt.type_int() }}) as committed,
        cast(fulfillable_quantity as {{ dbt.type_int() }}) as available,
        cast(awaiting_quantity as {{ dbt.type_int() }}) as incoming,
        cast(internal_transfer_quantity as {{ dbt.type_int() }}) as internal_transfer

    from source

)

select * from renamed
