with

source as (

    select * from {{ source('config', 'locations') }}

),

renamed as (

    select
        location_id as canonical_location,
        name as location_name,
        timezone,
        master_system_id

    from source

)

select * from renamed
