-- X12 846 rows (vendor_api_facts.md §6.2): one per QTY total and one per SCH warehouse
-- breakdown under it. A line with SCH rows uses them (the warehouse is the location), a
-- line without uses its total with the sender id as location. QTY01 (element 673):
-- 17 -> on hand, 27 -> committed, 33 -> available for sale. Several files in one
-- snapshot: the newest report wins per key.
with

source as (

    select * from {{ source('raw', 'edi846_inventory') }}

),

lines as (

    select
        *,
        max(case when is_breakdown then 1 else 0 end) over (
            partition by snapshot_id, file_name, transaction_control, line_no, item_id,
                quantity_qualifier
        ) as has_breakdown,
        {{ dbt.concat(["report_date", "coalesce(report_time, '')"]) }} as report_stamp

    from source

),

chosen as (

    select * from lines
    where (is_breakdown and has_breakdown = 1) or (not is_breakdown and has_breakdown = 0)

),

latest as (

    select
        *,
        coalesce(location, sender_id) as location_or_sender,
        row_number() over (
            partition by snapshot_id, item_id, coalesce(location, sender_id),
                quantity_qualifier
            order by report_stamp desc, file_name desc
        ) as recency

    from chosen

),

pivoted as (

    select
        snapshot_id,
        item_id as external_sku,
        location_or_sender as external_location,
        sum(case when quantity_qualifier = '17'
            then cast(quantity as {{ dbt.type_numeric() }}) end) as on_hand_qty,
        sum(case when quantity_qualifier = '27'
            then cast(quantity as {{ dbt.type_numeric() }}) end) as committed_qty,
        sum(case when quantity_qualifier = '33'
            then cast(quantity as {{ dbt.type_numeric() }}) end) as available_qty,
        max(report_stamp) as report_stamp

    from latest
    where recency = 1
    group by snapshot_id, item_id, location_or_sender

),

final as (

    select
        snapshot_id,
        external_sku,
        external_location,
        cast(on_hand_qty as {{ dbt.type_int() }}) as on_hand,
        cast(committed_qty as {{ dbt.type_int() }}) as committed,
        cast(available_qty as {{ dbt.type_int() }}) as available,
        report_stamp

    from pivoted

)

select * from final
