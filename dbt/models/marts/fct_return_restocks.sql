-- Customer returns in each returns-feed system's latest successful snapshot, current cycle:
-- when each was received, inspected and restocked, and when it is due to be restocked: the
-- end of the Nth business day after receipt in the location's calendar (N =
-- location_policies.restock_window_business_days; business days are Monday-Friday local
-- time minus location_holidays). A return neither restocked nor dispositioned away (scrap,
-- vendor return) past that is `return_restock_delayed`. A location without a window is not
-- judged; a failed or stale returns feed suppresses its rows (missing data is not a delay).
with

returns as (

    select * from {{ ref('stg_wms__returns') }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
    where cycle_at <= {{ cycle_at() }}

),

system_status as (

    select * from {{ ref('int_system_status_evaluated') }}

),

sku_map as (

    select * from {{ ref('sku_map') }}

),

location_map as (

    select * from {{ ref('location_map') }}

),

schedules as (

    select * from {{ ref('int_location_posting_schedules') }}

),

holidays as (

    select * from {{ ref('location_holidays') }}

),

digits as (

    select 0 as d union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9

),

day_offsets as (

    -- 1..99 calendar days after receipt: enough for a 30-business-day window with holidays
    select tens.d * 10 + ones.d as day_offset
    from digits as tens
    cross join digits as ones
    where tens.d * 10 + ones.d > 0

),

latest_snapshots as (

    select
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        row_number() over (
            partition by system_id
            order by cycle_at desc, observed_at desc, snapshot_id desc
        ) as recency_rank

    from snapshots
    where snapshot_id in (select snapshot_id from returns)

),

current_returns as (

    select
        latest_snapshots.system_id,
        latest_snapshots.cycle_at as snapshot_cycle_at,
        latest_snapshots.observed_at,
        returns.*,
        sku_map.canonical_sku,
        location_map.canonical_location,
        schedules.timezone,
        schedules.restock_window_business_days,
        cast({{ utc_to_local('returns.received_at', 'schedules.timezone') }} as date)
            as received_local_date

    from returns
    inner join latest_snapshots
        on returns.snapshot_id = latest_snapshots.snapshot_id
        and latest_snapshots.recency_rank = 1
    left join sku_map
        on latest_snapshots.system_id = sku_map.system_id
        and returns.external_sku = sku_map.external_sku
    left join location_map
        on latest_snapshots.system_id = location_map.system_id
        and returns.external_location = location_map.external_location
    left join schedules
        on location_map.canonical_location = schedules.canonical_location

),

candidate_days as (

    select
        current_returns.system_id,
        current_returns.return_id,
        current_returns.canonical_location,
        current_returns.restock_window_business_days,
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset',
                            'current_returns.received_local_date') }} as date) as local_date

    from current_returns
    cross join day_offsets
    where current_returns.restock_window_business_days is not null
        and current_returns.received_local_date is not null

),

business_days as (

    select
        candidate_days.*,
        row_number() over (
            partition by candidate_days.system_id, candidate_days.return_id
            order by candidate_days.local_date
        ) as business_day_number

    from candidate_days
    left join holidays
        on candidate_days.canonical_location = holidays.canonical_location
        and candidate_days.local_date = holidays.holiday_date
    where {{ iso_day_of_week('candidate_days.local_date') }} <= 5
        and holidays.holiday_date is null

),

due_dates as (

    select
        system_id,
        return_id,
        local_date as due_local_date

    from business_days
    where business_day_number = restock_window_business_days

),

holidays_in_window as (

    select
        current_returns.system_id,
        current_returns.return_id,
        count(*) as holidays_in_window

    from current_returns
    inner join due_dates
        on current_returns.system_id = due_dates.system_id
        and current_returns.return_id = due_dates.return_id
    inner join holidays
        on current_returns.canonical_location = holidays.canonical_location
        and holidays.holiday_date > current_returns.received_local_date
        and holidays.holiday_date <= due_dates.due_local_date
    group by
        current_returns.system_id,
        current_returns.return_id

),

evaluated as (

    select
        current_returns.*,
        due_dates.due_local_date,
        coalesce(holidays_in_window.holidays_in_window, 0) as holidays_in_window,
        -- due at the end of the due business day, local time
        {{ local_to_utc(dbt.dateadd('day', 1,
                        'cast(due_dates.due_local_date as ' ~ dbt.type_timestamp() ~ ')'),
                        'current_returns.timezone') }} as restock_due_at,
        coalesce(current_returns.disposition, 'restock') not in ('scrap', 'vendor_return')
            as is_restockable,
        case
            when system_status.last_status = 'failed' then 'extract_failed'
            when system_status.is_stale then 'stale_system'
        end as suppression_reason

    from current_returns
    left join due_dates
        on current_returns.system_id = due_dates.system_id
        and current_returns.return_id = due_dates.return_id
    left join holidays_in_window
        on current_returns.system_id = holidays_in_window.system_id
        and current_returns.return_id = holidays_in_window.return_id
    left join system_status
        on current_returns.system_id = system_status.system_id

),

flagged as (

    select
        *,
        coalesce(
            is_restockable
            and restocked_at is null
            and restock_due_at < {{ cycle_at() }},
            false
        ) as is_overdue,
        coalesce(restocked_at > restock_due_at, false) as was_restocked_late

    from evaluated

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        {{ dbt.concat(["system_id", "'|'", "return_id"]) }} as return_restock_id,
        system_id,
        return_id,
        canonical_sku,
        canonical_location,
        external_sku,
        external_location,
        snapshot_id,
        snapshot_cycle_at,
        observed_at,
        return_qty,
        disposition,
        received_at,
        inspected_at,
        restocked_at,
        timezone,
        restock_window_business_days,
        holidays_in_window,
        due_local_date,
        restock_due_at,
        case when is_overdue then overdue_minutes_raw end as overdue_minutes,
        is_overdue,
        was_restocked_late,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        case when is_overdue then 'return_restock_delayed' end as probable_cause,
        case
            when is_overdue and inspected_at is null then
                'Received ' || cast(received_at as {{ dbt.type_string() }})
                || ' UTC and not inspected within '
                || cast(restock_window_business_days as {{ dbt.type_string() }})
                || ' business days: find the return in the receiving/returns area and '
                || 'inspect it; its units are not sellable until restocked.'
            when is_overdue then
                'Inspected ' || cast(inspected_at as {{ dbt.type_string() }})
                || ' UTC but not restocked within '
                || cast(restock_window_business_days as {{ dbt.type_string() }})
                || ' business days of receipt: check the disposition and the put-away '
                || 'task, then restock (or scrap) it so sellable stock is right.'
        end as suggested_check,
        case
            when not is_overdue then 'low'
            when overdue_minutes_raw >= 2880 then 'medium'
            else 'low'
        end as severity,
        case
            when is_overdue then coalesce(return_qty, 0) + overdue_minutes_raw / 1440.0
            else 0
        end as severity_score,
        canonical_sku is not null and canonical_location is not null as is_mapped

    from (
        select
            flagged.*,
            {{ minutes_between('restock_due_at', cycle_at()) }} as overdue_minutes_raw
        from flagged
    ) as with_overdue

)

select * from final
