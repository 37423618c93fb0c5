-- A table, rebuilt every cycle: it is small and nearly every model reads it; as a view
-- each reader re-bound and re-optimized it (measured: dbt/README.md).
{{ config(materialized='table') }}
-- Per canonical location: its time zone and, when the master posts the location's physical
-- transactions in a daily batch, the batch's local time and its last and next run around
-- the cycle (naive UTC, computed in the location's zone so DST nights hold). Physical
-- differences against the master are in flight until the next batch after they began
-- (macro posting_window_passed).
with

locations as (

    select * from {{ ref('stg_config__locations') }}

),

policies as (

    select * from {{ ref('location_policies') }}

),

joined as (

    select
        locations.canonical_location,
        locations.timezone,
        locations.master_system_id,
        policies.posting_time_local,
        policies.restock_window_business_days,
        {{ next_posting_at(cycle_at(), 'locations.timezone', 'policies.posting_time_local') }}
            as next_posting_at,
        -- the batch before: the next one after the same wall time a day earlier
        {{ next_posting_at(dbt.dateadd('day', -1, cycle_at()), 'locations.timezone',
                           'policies.posting_time_local') }} as previous_candidate_at

    from locations
    left join policies
        on locations.canonical_location = policies.canonical_location

),

final as (

    select
        canonical_location,
        timezone,
        master_system_id,
        posting_time_local,
        restock_window_business_days,
        posting_time_local is not null as has_posting_batch,
        case
            when previous_candidate_at <= {{ cycle_at() }} then previous_candidate_at
            else {{ next_posting_at(dbt.dateadd('day', -2, cycle_at()), 'timezone',
                                    'posting_time_local') }}
        end as last_posting_at,
        next_posting_at,
        {{ utc_to_local(cycle_at(), 'timezone') }} as cycle_local_at,
        {{ cycle_at() }} as cycle_at

    from joined

)

select * from final
