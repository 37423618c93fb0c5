-- WMS customer returns: one row per return line still in the export.
with

source as (

    select * from {{ source('raw', 'wms_returns') }}

),

renamed as (

    select
        snapshot_id,
        return_id,
        sku as external_sku,
        location as external_location,
        cast(qty as {{ dbt.type_int() }}) as return_qty,
        {{ iso8601_to_naive_utc('received_at') }} as received_at,
        {{ iso8601_to_naive_utc('inspected_at') }} as inspected_at,
        {{ iso8601_to_naive_utc('restocked_at') }} as restocked_at,
        lower(disposition) as disposition

    from source

)

select * from renamed
