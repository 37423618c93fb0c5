{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Every connector's rows in one canonical shape, one row per vendor record of a successful
-- snapshot. Incremental by snapshot: landed rows never change, so each cycle appends only
-- the snapshots landed since, and every model downstream reads one table instead of
-- re-expanding ten staging views over the whole raw history (measured: bench/README.md).
-- Buckets a vendor does not publish are null (never zero); the mapping per vendor is the
-- table in extractors/README.md. A new connector is one entry in `arms`.
{%- set buckets = {
    'on_hand': dbt.type_int(), 'committed': dbt.type_int(), 'available': dbt.type_int(),
    'incoming': dbt.type_int(), 'reserved': dbt.type_int(), 'safety_stock': dbt.type_int(),
    'unit_cost': dbt.type_numeric(), 'source_updated_at': dbt.type_timestamp(),
} %}
{#- staging model -> {bucket: its column there}; a bucket not listed is null -#}
{%- set arms = [
    ('stg_netsuite__inventory_balances', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming', 'unit_cost': 'unit_cost'}),
    ('stg_shopify__inventory_levels', {'available': 'available',
        'source_updated_at': 'updated_at'}),
    ('stg_shipbob__inventory_balances', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming'}),
    ('stg_shopify__inventory_quantities', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming', 'reserved': 'reserved',
        'safety_stock': 'safety_stock', 'source_updated_at': 'updated_at'}),
    ('stg_amazon__fba_inventory', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming', 'reserved': 'reserved',
        'source_updated_at': 'updated_at'}),
    ('stg_square__inventory_counts', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming', 'source_updated_at': 'updated_at'}),
    ('stg_edi846__inventory', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available'}),
    ('stg_csv__inventory', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming', 'source_updated_at': 'updated_at'}),
    ('stg_wms__inventory', {'on_hand': 'on_hand', 'committed': 'committed',
        'available': 'available', 'incoming': 'incoming', 'source_updated_at': 'updated_at'}),
    ('stg_amazon__mfn_listings', {'available': 'available', 'source_updated_at': 'updated_at'}),
] %}
with

snapshots as (

    select * from {{ ref('stg_raw__snapshots') }}

),

new_snapshots as (

    select snapshot_id, system_id
    from snapshots
    where is_succeeded
    {% if is_incremental() %}
        and snapshot_id not in (select distinct snapshot_id from {{ this }})
    {% endif %}

),
{% for model, columns in arms %}
{{ model }} as (

    select * from {{ ref(model) }}
    where snapshot_id in (select snapshot_id from new_snapshots)

),
{% endfor %}
unioned as (
{% for model, columns in arms %}
    select
        snapshot_id,
        external_sku,
        external_location,
        {%- for bucket, type in buckets.items() %}
        {% if bucket in columns -%}
        {{ columns[bucket] }} as {{ bucket }}
        {%- else -%}
        cast(null as {{ type }}) as {{ bucket }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    {% if not loop.last %}
    union all
    {% endif %}
{%- endfor %}

),

final as (

    select
        new_snapshots.system_id,
        unioned.*

    from unioned
    inner join new_snapshots
        on unioned.snapshot_id = new_snapshots.snapshot_id

)

select * from final
