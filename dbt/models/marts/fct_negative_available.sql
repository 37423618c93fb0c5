-- The master's own book per canonical key in the current cycle where available-to-promise
-- is below zero: more units are committed/reserved than are on hand. That is allowed only
-- for SKUs sold on backorder (seed sku_policies); otherwise it is `negative_available`.
-- Like drift, it is settled only once it outlives the master's freshness target (an order
-- imported a minute before the receipt that covers it is not an exception).
with

master_positions as {{ inline_cte() }} (

    select * from {{ ref('int_master_positions_selected') }}
    where cycle_at <= {{ cycle_at() }}

),

policies as (

    select * from {{ ref('sku_policies') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

latest_cycle as (

    select master_system_id, max(cycle_at) as latest_cycle_at
    from master_positions
    group by master_system_id

),

current_positions as (

    select master_positions.*
    from master_positions
    inner join latest_cycle
        on master_positions.master_system_id = latest_cycle.master_system_id
        and master_positions.cycle_at = latest_cycle.latest_cycle_at
    where master_positions.master_available < 0

),

last_non_negative as (

    select
        current_positions.canonical_sku,
        current_positions.canonical_location,
        max(
            case when history.master_available >= 0 then history.cycle_at end
        ) as last_non_negative_at

    from current_positions
    inner join master_positions as history
        on current_positions.canonical_sku = history.canonical_sku
        and current_positions.canonical_location = history.canonical_location
    group by
        current_positions.canonical_sku,
        current_positions.canonical_location

),

negative_runs as (

    select
        last_non_negative.canonical_sku,
        last_non_negative.canonical_location,
        min(history.cycle_at) as negative_since

    from last_non_negative
    inner join master_positions as history
        on last_non_negative.canonical_sku = history.canonical_sku
        and last_non_negative.canonical_location = history.canonical_location
        and history.master_available < 0
        and (
            last_non_negative.last_non_negative_at is null
            or history.cycle_at > last_non_negative.last_non_negative_at
        )
    group by
        last_non_negative.canonical_sku,
        last_non_negative.canonical_location

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        current_positions.master_system_id as system_id,
        current_positions.canonical_sku,
        current_positions.canonical_location,
        current_positions.master_snapshot_id as snapshot_id,
        current_positions.master_observed_at as observed_at,
        current_positions.master_on_hand,
        current_positions.master_available,
        current_positions.master_on_hand - current_positions.master_available
            as master_committed,
        coalesce(policies.backorder_allowed, false) as backorder_allowed,
        negative_runs.negative_since,
        systems.freshness_target_minutes,
        coalesce(
            not coalesce(policies.backorder_allowed, false)
            and {{ minutes_between('negative_runs.negative_since', cycle_at()) }}
                >= systems.freshness_target_minutes,
            false
        ) as is_settled,
        case
            when not coalesce(policies.backorder_allowed, false) then 'negative_available'
        end as probable_cause,
        'More units are committed or reserved than are on hand and the SKU is not sold on '
        || 'backorder: look for a duplicated or unreleased order, a shipment posted twice, '
        || 'or a receipt not yet posted, and correct the master.' as suggested_check,
        current_positions.unit_cost,
        -current_positions.master_available * current_positions.unit_cost as value_at_risk,
        case
            when -current_positions.master_available * current_positions.unit_cost >= 500
                then 'high'
            else 'medium'
        end as severity,
        coalesce(-current_positions.master_available * current_positions.unit_cost, 0)
            - current_positions.master_available as severity_score

    from current_positions
    inner join negative_runs
        on current_positions.canonical_sku = negative_runs.canonical_sku
        and current_positions.canonical_location = negative_runs.canonical_location
    inner join systems
        on current_positions.master_system_id = systems.system_id
    left join policies
        on current_positions.canonical_sku = policies.canonical_sku

)

select * from final
