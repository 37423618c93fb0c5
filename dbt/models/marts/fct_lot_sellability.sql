-- Sellable is not on-hand: per system x canonical SKU x location (latest successful
-- snapshot of each system that lands lots), the units on hand and the units still
-- sellable at the cycle's local date in the location's time zone, a dated lot counting
-- only until `sellable_until` (expiry less sku_lot_policies.sellable_days_before_expiry).
with

lots as (

    select * from {{ ref('int_lot_positions_mapped') }}
    where cycle_at <= {{ cycle_at() }}

),

schedules as (

    select * from {{ ref('int_location_posting_schedules') }}

),

latest as (

    select
        system_id,
        max(cycle_at) as latest_cycle_at

    from lots
    group by system_id

),

current_lots as (

    select
        lots.*,
        cast({{ utc_to_local(cycle_at(), 'schedules.timezone') }} as date) as cycle_local_date

    from lots
    inner join latest
        on lots.system_id = latest.system_id
        and lots.cycle_at = latest.latest_cycle_at
    left join schedules
        on lots.canonical_location = schedules.canonical_location

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        system_id,
        canonical_sku,
        canonical_location,
        snapshot_id,
        is_master_position,
        count(*) as lots,
        cast(sum(on_hand) as {{ dbt.type_bigint() }}) as on_hand,
        cast(sum(
            case
                when sellable_until is null or cycle_local_date < sellable_until then on_hand
                else 0
            end
        ) as {{ dbt.type_bigint() }}) as sellable_on_hand,
        cast(sum(
            case
                when sellable_until is not null and cycle_local_date >= sellable_until
                    then on_hand
                else 0
            end
        ) as {{ dbt.type_bigint() }}) as past_sellable_date_units,
        min(
            case
                when sellable_until is not null and cycle_local_date < sellable_until
                    then sellable_until
            end
        ) as next_sellable_until

    from current_lots
    group by
        system_id,
        canonical_sku,
        canonical_location,
        snapshot_id,
        is_master_position

)

select * from final
