-- One row per configured system: is its data fresh enough to judge, and did the last
-- extraction fail (with the vendor's cause)?
with

system_status as (

    select * from {{ ref('int_system_status_evaluated') }}

),

final as (

    select
        system_id,
        role,
        connector,
        is_master,
        freshness_target_minutes,
        last_snapshot_id,
        last_status,
        last_error_cause,
        last_attempt_at,
        last_success_snapshot_id,
        last_success_at,
        last_success_as_of,
        age_minutes,
        is_stale,
        cycle_at

    from system_status

)

select * from final
