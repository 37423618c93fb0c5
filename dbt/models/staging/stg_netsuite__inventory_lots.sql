-- NetSuite lot/serial balances per item x location x inventory number (SuiteQL
-- inventorynumberlocation x inventorynumber, extractors/netsuite.py LOT_QUERY); values
-- are strings and expirationdate arrives as YYYY-MM-DD (TO_CHAR in the query).
with

source as (

    select * from {{ source('raw', 'netsuite_inventory_lots') }}

),

renamed as (

    select
        snapshot_id,
        itemid as external_sku,
        location as external_location,
        inventorynumber as lot_id,
        cast(expirationdate as date) as expires_on,
        {{ string_to_quantity('quantityonhand') }} as on_hand,
        cast(null as {{ dbt.type_int() }}) as committed,
        {{ string_to_quantity('quantityavailable') }} as available

    from source

)

select * from renamed
