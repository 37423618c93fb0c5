{{ config(materialized='table') }}
-- When the master's value changed, per key and value kind: `available` (what listing
-- channels are compared to) and `on_hand` (what physical holders are compared to).
-- The first master snapshot of a key is kept as an initial event (is_initial) so "last
-- master change" falls back to it; sync lag uses only real changes.
with

master_positions as (

    select * from {{ ref('int_master_positions_selected') }}

),

values_long as (

    select
        cycle_at,
        master_system_id,
        canonical_sku,
        canonical_location,
        'available' as value_kind,
        master_available as master_value
    from master_positions

    union all

    select
        cycle_at,
        master_system_id,
        canonical_sku,
        canonical_location,
        'on_hand' as value_kind,
        master_on_hand as master_value
    from master_positions

),

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

    from values_long

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
    where observation_number = 1
        or master_value is distinct from previous_value

),

final as (

    select
        {{ dbt.concat(["canonical_sku", "'|'", "canonical_location", "'|'", "value_kind", "'|'",
                       dbt.cast("changed_at", dbt.type_string())]) }} as master_change_id,
        *,
        lead(changed_at) over (
            partition by canonical_sku, canonical_location, value_kind
            order by changed_at
        ) as next_changed_at

    from changes

)

select * from final
