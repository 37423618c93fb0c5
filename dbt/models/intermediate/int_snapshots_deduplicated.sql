-- A table, rebuilt every cycle: it is small and nearly every model reads it; as a view
-- each reader re-bound and re-optimized it (measured: dbt/README.md).
{{ config(materialized='table') }}
-- The successful snapshot of each system in each cycle (the latest one should a cycle
-- ever land two). Failed snapshots have no rows and never count as zero stock.
with

snapshots as (

    select * from {{ ref('stg_raw__snapshots') }}

),

succeeded as (

    select
        snapshot_id,
        system_id,
        connector,
        cycle_at,
        as_of as observed_at,
        finished_at,
        row_count,
        row_number() over (
            partition by system_id, cycle_at
            order by finished_at desc, snapshot_id desc
        ) as attempt_rank

    from snapshots
    where is_succeeded

),

final as (

    select
        snapshot_id,
        system_id,
        connector,
        cycle_at,
        observed_at,
        finished_at,
        row_count

    from succeeded
    where attempt_rank = 1

)

select * from final
