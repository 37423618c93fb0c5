-- WMS lot/serial balances: the id compared is the serial number when the row has one,
-- otherwise the lot number.
with

source as (

    select * from {{ source('raw', 'wms_lots') }}

),

renamed as (

    select
        snapshot_id,
        sku as external_sku,
        location as external_location,
        coalesce(serial_number, lot_number) as lot_id,
        cast(expiration_date as date) as expires_on,
        cast(on_hand as {{ dbt.type_int() }}) as on_hand,
        cast(null as {{ dbt.type_int() }}) as committed,
        cast(null as {{ dbt.type_int() }}) as available

    from source

)

select * from renamed
