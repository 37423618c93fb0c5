{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- The master's book per cycle: for every cycle, the successful snapshot of the system that
-- masters each location, one row per canonical SKU x location. Incremental by snapshot
-- (a snapshot's rows never change): its readers join it to one cycle at a time, and as a
-- view it re-aggregated the master's whole history for each of them, every cycle.
with

positions as (

    select * from {{ ref('int_positions_mapped') }}
    {% if is_incremental() %}
    where snapshot_id not in (select distinct master_snapshot_id from {{ this }})
    {% endif %}

),

master_positions as (

    select * from positions
    where is_master_position
        and is_sku_mapped
        and is_location_mapped

),

aggregated as (

    select
        cycle_at,
        canonical_sku,
        canonical_location,
        system_id as master_system_id,
        snapshot_id as master_snapshot_id,
        observed_at as master_observed_at,
        cast(sum(on_hand) as {{ dbt.type_bigint() }}) as master_on_hand,
        cast(sum(available) as {{ dbt.type_bigint() }}) as master_available,
        max(unit_cost) as unit_cost,
        count(*) as source_records

    from master_positions
    group by
        cycle_at,
        canonical_sku,
        canonical_location,
        system_id,
        snapshot_id,
        observed_at

)

select * from aggregated
