-- CSV drop rows after the declared column mapping (bad rows were quarantined by the
-- connector). Several files in one snapshot: the newest file's row wins per key.
with

source as (

    select * from {{ source('raw', 'csv_drop_inventory') }}

),

latest as (

    select
        *,
        row_number() over (
            partition by snapshot_id, sku, location
            order by file_name desc, row_number desc
        ) as recency

    from source

),

renamed as (

    select
        snapshot_id,
        file_name,
        sku as external_sku,
        location as external_location,
        cast(on_hand as {{ dbt.type_int() }}) as on_hand,
        cast(committed as {{ dbt.type_int() }}) as committed,
        cast(available as {{ dbt.type_int() }}) as available,
        cast(incoming as {{ dbt.type_int() }}) as incoming,
        {{ iso8601_to_naive_utc('updated_at') }} as updated_at

    from latest
    where recency = 1

)

select * from renamed
