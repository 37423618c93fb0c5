with

source as (

    select * from {{ source('config', 'systems') }}

),

renamed as (

    select
        system_id,
        role as system_role,
        connector,
        is_master,
        is_listing,
        freshness_target_minutes,
        timezone,
        channel_buffer,
        tolerance_units,
        cast(tolerance_percent as {{ dbt.type_float() }}) as tolerance_percent,
        cast(sync_stopped_share as {{ dbt.type_float() }}) as sync_stopped_share,
        sync_stopped_min_keys

    from source

)

select * from renamed
