with

source as (

    select * from {{ source('raw', 'shopify_inventory_levels') }}

),

renamed as (

    select
        snapshot_id,
        inventory_item_id,
        location_id,
        sku as external_sku,
        cast(location_id as {{ dbt.type_string() }}) as external_location,
        cast(available as {{ dbt.type_int() }}) as available,
        {{ iso8601_to_naive_utc('updated_at') }} as updated_at

    from source

)

select * from renamed
