with

source as (

    select * from {{ source('raw', 'snapshots') }}

),

renamed as (

    select
        snapshot_id,
        system_id,
        connector,
        cast(cycle_at as {{ dbt.type_timestamp() }}) as cycle_at,
        cast(started_at as {{ dbt.type_timestamp() }}) as started_at,
        cast(finished_at as {{ dbt.type_timestamp() }}) as finished_at,
        cast(source_as_of as {{ dbt.type_timestamp() }}) as source_as_of,
        cast(coalesce(source_as_of, finished_at) as {{ dbt.type_timestamp() }}) as as_of,
        status,
        status = 'succeeded' as is_succeeded,
        row_count,
        pages,
        attempts,
        error_cause

    from source

)

select * from renamed
