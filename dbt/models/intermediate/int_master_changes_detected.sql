{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- When the master's value changed, per key and value kind: `available` (what listing
-- channels are compared to) and `on_hand` (what physical holders are compared to).
-- The first master snapshot of a key is kept as an initial event (is_initial) so "last
-- master change" falls back to it; sync lag uses only real changes.
-- Incremental: a value only changes at a change event, so each key's latest event holds
-- its value as of the last build, and a build compares only the master snapshots after
-- the latest event of any key (every snapshot up to it was compared by an earlier build;
-- comparing a later one again finds nothing new). Replaying an older cycle's master
-- snapshot needs `--full-refresh`.
with

master_positions as {{ inline_cte() }} (

    select * from {{ ref('int_master_positions_selected') }}
    {% if is_incremental() %}
    where cycle_at > (select max(changed_at) from {{ this }})
    {% endif %}

),

values_long as (

    select
        cycle_at,
        master_system_id,
        canonical_sku,
        canonical_location,
        'available' as value_kind,
        master_available as master_value,
        false as is_known
    from master_positions

    union all

    select
        cycle_at,
        master_system_id,
        canonical_sku,
        canonical_location,
        'on_hand' as value_kind,
        master_on_hand as master_value,
        false as is_known
    from master_positions

),

{% if is_incremental() %}
latest_events as (

    select
        changed_at,
        master_system_id,
        canonical_sku,
        canonical_location,
        value_kind,
        new_value,
        row_number() over (
            partition by canonical_sku, canonical_location, value_kind
            order by changed_at desc
        ) as recency_rank

    from {{ this }}

),

observations as (

    select * from values_long

    union all

    -- each key's value as of the last build: the observation the new ones follow
    select
        changed_at as cycle_at,
        master_system_id,
        canonical_sku,
        canonical_location,
        value_kind,
        new_value as master_value,
        true as is_known
    from latest_events
    where recency_rank = 1

),
{% else %}
observations as (

    select * from values_long

),
{% endif %}

sequenced as (

    select
        *,
        lag(master_value) over (
            partition by canonical_sku, canonical_location, value_kind
            order by cycle_at
        ) as previous_value,
        row_number() over (
            partition by canonical_sku, canonical_location, value_kind
            order by cycle_at
        ) as observation_number

    from observations

),

changes as (

    select
        canonical_sku,
        canonical_location,
        value_kind,
        master_system_id,
        cycle_at as changed_at,
        previous_value,
        master_value as new_value,
        observation_number = 1 as is_initial

    from sequenced
    where not is_known
        and (observation_number = 1 or master_value is distinct from previous_value)

),

final as (

    select
        {{ dbt.concat(["canonical_sku", "'|'", "canonical_location", "'|'", "value_kind", "'|'",
                       dbt.cast("changed_at", dbt.type_string())]) }} as master_change_id,
        *

    from changes

)

select * from final
