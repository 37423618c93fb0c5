-- FBA is marketplace-level (SP-API granularityType=Marketplace): the marketplace id is the
-- external location. Buckets per extractors/README.md (vendor_api_facts.md §2.4): physical
-- on hand = fulfillable + reserved + unfulfillable + researching; `totalQuantity` also
-- counts inbound, so it is kept but not used as on hand.
with

source as (

    select * from {{ source('raw', 'amazon_fba_inventory') }}

),

renamed as (

    select
        snapshot_id,
        seller_sku as external_sku,
        marketplace_id as external_location,
        asin,
        fn_sku,
        condition,
        cast(fulfillable_quantity as {{ dbt.type_int() }}) as available,
        cast(pending_customer_order_quantity as {{ dbt.type_int() }}) as committed,
        cast(reserved_quantity as {{ dbt.type_int() }}) as reserved,
        cast(
            coalesce(fulfillable_quantity, 0) + coalesce(reserved_quantity, 0)
            + coalesce(unfulfillable_quantity, 0) + coalesce(researching_quantity, 0)
            as {{ dbt.type_int() }}
        ) as on_hand,
        cast(
            coalesce(inbound_working_quantity, 0) + coalesce(inbound_shipped_quantity, 0)
            + coalesce(inbound_receiving_quantity, 0) as {{ dbt.type_int() }}
        ) as incoming,
        cast(unfulfillable_quantity as {{ dbt.type_int() }}) as unfulfillable,
        cast(total_quantity as {{ dbt.type_int() }}) as total_quantity,
        -- Amazon sends '' when it has no date (§2.4)
        {{ iso8601_to_naive_utc("nullif(last_updated_time, '')") }} as updated_at

    from source

)

select * from renamed
