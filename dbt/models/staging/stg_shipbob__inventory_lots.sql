-- ShipBob lot balances per item x lot x fulfillment center (see __sources_semantics.yml).
with

source as (

    select * from {{ source('raw', 'shipbob_inventory_lots') }}

),

renamed as (

    select
        snapshot_id,
        cast(inventory_id as {{ dbt.type_string() }}) as external_sku,
        cast(fulfillment_center_id as {{ dbt.type_string() }}) as external_location,
        lot_number as lot_id,
        cast(substring(expiration_date, 1, 10) as date) as expires_on,
        cast(onhand_quantity as {{ dbt.type_int() }}) as on_hand,
        cast(committed_quantity as {{ dbt.type_int() }}) as committed,
        cast(fulfillable_quantity as {{ dbt.type_int() }}) as available

    from source

)

select * from renamed
