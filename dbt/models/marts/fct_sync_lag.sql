-- Sync lag per master change: for every real change of the master's value for a key (the
-- value each system is compared on) and every non-master system that carries the key, the
-- first snapshot of that system at or after the change that is within tolerance of the new
-- expected value. A change overtaken by the next change before the system caught up is
-- `is_superseded`; one still waiting is `is_open`.
with

master_change_sequence as (

    select
        master_change_id,
        canonical_sku,
        canonical_location,
        value_kind,
        master_system_id,
        changed_at,
        previous_value,
        new_value,
        is_initial,
        lead(changed_at) over (
            partition by canonical_sku, canonical_location, value_kind
            order by changed_at
        ) as next_changed_at

    from {{ ref('int_master_changes_detected') }}

),

master_changes as (

    select * from master_change_sequence
    where not is_initial
        and changed_at <= {{ cycle_at() }}

),

variance_history as {{ inline_cte() }} (

    select * from {{ ref('int_variances_computed') }}
    where cycle_at <= {{ cycle_at() }}

),

observers as (

    -- each system x key it carries, with the value it is compared on and its target: one
    -- state row per key (int_variance_states), not a distinct over the whole history
    select
        system_id,
        canonical_sku,
        canonical_location,
        compared_value_kind,
        freshness_target_minutes

    from {{ ref('int_variance_states') }}
    where state_kind = 'key'

),

change_events as (

    select
        observers.system_id,
        observers.freshness_target_minutes,
        master_changes.*

    from master_changes
    inner join observers
        on master_changes.canonical_sku = observers.canonical_sku
        and master_changes.canonical_location = observers.canonical_location
        and master_changes.value_kind = observers.compared_value_kind

),

synced as (

    select
        change_events.system_id,
        change_events.master_change_id,
        min(variance_history.cycle_at) as synced_at

    from change_events
    inner join variance_history
        on change_events.system_id = variance_history.system_id
        and change_events.canonical_sku = variance_history.canonical_sku
        and change_events.canonical_location = variance_history.canonical_location
        and variance_history.cycle_at >= change_events.changed_at
        and (
            change_events.next_changed_at is null
            or variance_history.cycle_at < change_events.next_changed_at
        )
        and variance_history.within_tolerance
    group by
        change_events.system_id,
        change_events.master_change_id

),

measured as (

    select
        change_events.system_id,
        change_events.canonical_sku,
        change_events.canonical_location,
        change_events.value_kind,
        change_events.master_system_id,
        change_events.master_change_id,
        change_events.changed_at as master_changed_at,
        change_events.previous_value as previous_master_value,
        change_events.new_value as new_master_value,
        change_events.next_changed_at as next_master_change_at,
        synced.synced_at,
        {{ minutes_between('change_events.changed_at', 'synced.synced_at') }} as lag_minutes,
        synced.synced_at is null and change_events.next_changed_at is null as is_open,
        synced.synced_at is null and change_events.next_changed_at is not null as is_superseded,
        change_events.freshness_target_minutes

    from change_events
    left join synced
        on change_events.system_id = synced.system_id
        and change_events.master_change_id = synced.master_change_id

),

final as (

    select
        {{ dbt.concat(["system_id", "'|'", "master_change_id"]) }} as sync_lag_id,
        system_id,
        canonical_sku,
        canonical_location,
        value_kind,
        master_system_id,
        master_changed_at,
        previous_master_value,
        new_master_value,
        next_master_change_at,
        synced_at,
        lag_minutes,
        is_open,
        is_superseded,
        case
            when is_open then {{ minutes_between('master_changed_at', cycle_at()) }}
        end as open_minutes,
        freshness_target_minutes,
        coalesce(
            lag_minutes > freshness_target_minutes
            or (is_open and {{ minutes_between('master_changed_at', cycle_at()) }}
                > freshness_target_minutes),
            false
        ) as is_breach,
        {{ cycle_at() }} as cycle_at

    from measured

)

select * from final
