-- Per non-master system: how long it takes to show a master change (p50 / p95 / max over
-- the changes it caught up with), against its freshness target.
with

sync_lag as (

    select * from {{ ref('fct_sync_lag') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

per_system as (

    select
        system_id,
        {{ percentile_cont('lag_minutes', 0.5) }} as p50_minutes,
        {{ percentile_cont('lag_minutes', 0.95) }} as p95_minutes,
        max(lag_minutes) as max_minutes,
        count(case when synced_at is not null then 1 end) as changes,
        count(case when is_open then 1 end) as open_changes,
        count(case when is_superseded then 1 end) as superseded_changes,
        count(case when is_breach then 1 end) as breaches

    from sync_lag
    group by system_id

),

final as (

    select
        systems.system_id,
        systems.system_role,
        per_system.p50_minutes,
        per_system.p95_minutes,
        per_system.max_minutes,
        coalesce(per_system.changes, 0) as changes,
        coalesce(per_system.open_changes, 0) as open_changes,
        coalesce(per_system.superseded_changes, 0) as superseded_changes,
        coalesce(per_system.breaches, 0) as breaches,
        systems.freshness_target_minutes,
        coalesce(per_system.p95_minutes > systems.freshness_target_minutes, false)
            as p95_exceeds_target,
        {{ cycle_at() }} as cycle_at

    from systems
    left join per_system
        on systems.system_id = per_system.system_id
    where not systems.is_master

)

select * from final
