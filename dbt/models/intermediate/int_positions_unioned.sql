-- Every connector's rows in one canonical shape, one row per vendor record, tagged with
-- the (successful) snapshot they came from.
with

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}

),

netsuite as (

    select * from {{ ref('stg_netsuite__inventory_balances') }}

),

shopify as (

    select * from {{ ref('stg_shopify__inventory_levels') }}

),

shipbob as (

    select * from {{ ref('stg_shipbob__inventory_balances') }}

),

unioned as (

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        unit_cost,
        cast(null as {{ dbt.type_timestamp() }}) as source_updated_at
    from netsuite

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        cast(null as {{ dbt.type_int() }}) as on_hand,
        cast(null as {{ dbt.type_int() }}) as committed,
        available,
        cast(null as {{ dbt.type_int() }}) as incoming,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from shopify

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        cast(null as {{ dbt.type_timestamp() }}) as source_updated_at
    from shipbob

),

final as (

    select
        snapshots.system_id,
        unioned.snapshot_id,
        snapshots.cycle_at,
        snapshots.observed_at,
        unioned.external_sku,
        unioned.external_location,
        unioned.on_hand,
        unioned.committed,
        unioned.available,
        unioned.incoming,
        unioned.unit_cost,
        unioned.source_updated_at

    from unioned
    inner join snapshots
        on unioned.snapshot_id = snapshots.snapshot_id

)

select * from final
