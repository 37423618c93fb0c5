-- Every connector's rows in one canonical shape, one row per vendor record, tagged with
-- the (successful) snapshot they came from. Buckets a vendor does not publish are null
-- (never zero); the mapping per vendor is the table in extractors/README.md.
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

shopify_gql as (

    select * from {{ ref('stg_shopify__inventory_quantities') }}

),

amazon as (

    select * from {{ ref('stg_amazon__fba_inventory') }}

),

square as (

    select * from {{ ref('stg_square__inventory_counts') }}

),

edi846 as (

    select * from {{ ref('stg_edi846__inventory') }}

),

csv_drop as (

    select * from {{ ref('stg_csv__inventory') }}

),

wms as (

    select * from {{ ref('stg_wms__inventory') }}

),

amazon_mfn as (

    select * from {{ ref('stg_amazon__mfn_listings') }}

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
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
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
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
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
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        cast(null as {{ dbt.type_timestamp() }}) as source_updated_at
    from shipbob

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        reserved,
        safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from shopify_gql

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from amazon

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from square

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        cast(null as {{ dbt.type_int() }}) as incoming,
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        cast(null as {{ dbt.type_timestamp() }}) as source_updated_at
    from edi846

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from csv_drop

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        on_hand,
        committed,
        available,
        incoming,
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from wms

    union all

    select
        snapshot_id,
        external_sku,
        external_location,
        cast(null as {{ dbt.type_int() }}) as on_hand,
        cast(null as {{ dbt.type_int() }}) as committed,
        available,
        cast(null as {{ dbt.type_int() }}) as incoming,
        cast(null as {{ dbt.type_int() }}) as reserved,
        cast(null as {{ dbt.type_int() }}) as safety_stock,
        cast(null as {{ dbt.type_numeric() }}) as unit_cost,
        updated_at as source_updated_at
    from amazon_mfn

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
        unioned.reserved,
        unioned.safety_stock,
        unioned.unit_cost,
        unioned.source_updated_at

    from unioned
    inner join snapshots
        on unioned.snapshot_id = snapshots.snapshot_id

)

select * from final
