-- SQL WMS export rows after the declared column mapping. Allocated units are the WMS's
-- committed bucket; available is the export's own figure, else on hand - allocated.
with

source as (

    select * from {{ source('raw', 'wms_inventory') }}

),

renamed as (

    select
        snapshot_id,
        sku as external_sku,
        location as external_location,
        cast(on_hand as {{ dbt.type_int() }}) as on_hand,
        cast(allocated as {{ dbt.type_int() }}) as committed,
        cast(coalesce(available, on_hand - allocated) as {{ dbt.type_int() }}) as available,
        cast(null as {{ dbt.type_int() }}) as incoming,
        -- WMS exports are naive; the sandbox writes UTC (convert here if yours is local)
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at

    from source

)

select * from renamed
