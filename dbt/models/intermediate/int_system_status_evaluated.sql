-- A table, rebuilt every cycle: it is small and nearly every model reads it; as a view
-- each reader re-bound and re-optimized it (measured: dbt/README.md).
{{ config(materialized='table') }}
-- Each configured system's extraction status as of the cycle: latest attempt, latest
-- success, snapshot age against the freshness target.
with

systems as (

    select * from {{ ref('stg_config__systems') }}

),

snapshots as (

    select * from {{ ref('stg_raw__snapshots') }}
    where cycle_at <= {{ cycle_at() }}

),

attempts_ranked as (

    select
        *,
        row_number() over (
            partition by system_id
            order by cycle_at desc, started_at desc, snapshot_id desc
        ) as attempt_rank

    from snapshots

),

successes_ranked as (

    select
        *,
        row_number() over (
            partition by system_id
            order by cycle_at desc, as_of desc, snapshot_id desc
        ) as success_rank

    from snapshots
    where is_succeeded

),

latest_attempts as (

    select * from attempts_ranked where attempt_rank = 1

),

latest_successes as (

    select * from successes_ranked where success_rank = 1

),

joined as (

    select
        systems.system_id,
        systems.system_role as role,
        systems.connector,
        systems.is_master,
        systems.is_listing,
        systems.freshness_target_minutes,
        latest_attempts.snapshot_id as last_snapshot_id,
        latest_attempts.status as last_status,
        latest_attempts.error_cause as last_error_cause,
        coalesce(latest_attempts.finished_at, latest_attempts.started_at) as last_attempt_at,
        latest_successes.snapshot_id as last_success_snapshot_id,
        latest_successes.cycle_at as last_success_cycle_at,
        latest_successes.finished_at as last_success_at,
        latest_successes.as_of as last_success_as_of,
        {{ minutes_between('latest_successes.as_of', cycle_at()) }} as raw_age_minutes

    from systems
    left join latest_attempts
        on systems.system_id = latest_attempts.system_id
    left join latest_successes
        on systems.system_id = latest_successes.system_id

),

final as (

    select
        system_id,
        role,
        connector,
        is_master,
        is_listing,
        freshness_target_minutes,
        last_snapshot_id,
        last_status,
        last_error_cause,
        last_attempt_at,
        last_success_snapshot_id,
        last_success_cycle_at,
        last_success_at,
        last_success_as_of,
        -- an as-of slightly after cycle_at (extraction ran past the tick) is age 0
        case when raw_age_minutes < 0 then 0 else raw_age_minutes end as age_minutes,
        coalesce(
            last_success_snapshot_id is null or raw_age_minutes > freshness_target_minutes,
            true
        ) as is_stale,
        {{ cycle_at() }} as cycle_at

    from joined

)

select * from final
