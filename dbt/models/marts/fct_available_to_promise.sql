-- Available-to-promise of the master, current cycle, per canonical SKU x location (from
-- each master's latest successful snapshot):
--   atp = on_hand - committed - reserved - safety_stock - units of dated lots past their
--         sellable date
-- from the buckets the master exposes (a bucket it does not publish counts 0; committed
-- falls back to on_hand - published available), next to the master's own published
-- available. `atp_gap_units` > 0 means the published available still counts units that
-- cannot be promised (e.g. a lot inside its no-sell window). Reserved and safety stock
-- come from the canonical buckets of int_positions_unioned (docs/SEMANTICS.md).
with

positions as {{ inline_cte() }} (

    select * from {{ ref('int_positions_mapped') }}
    where is_master_position
        and is_sku_mapped
        and is_location_mapped
        and cycle_at <= {{ cycle_at() }}

),

lot_sellability as (

    select * from {{ ref('fct_lot_sellability') }}
    where is_master_position

),

latest_cycle as (

    select system_id, max(cycle_at) as cycle_at
    from positions
    group by system_id

),

master_book as (

    select
        positions.cycle_at,
        positions.system_id as master_system_id,
        positions.snapshot_id as master_snapshot_id,
        positions.canonical_sku,
        positions.canonical_location,
        cast(sum(positions.on_hand) as {{ dbt.type_bigint() }}) as on_hand,
        cast(sum(positions.committed) as {{ dbt.type_bigint() }}) as committed,
        cast(sum(positions.reserved) as {{ dbt.type_bigint() }}) as reserved,
        cast(sum(positions.safety_stock) as {{ dbt.type_bigint() }}) as safety_stock,
        cast(sum(positions.available) as {{ dbt.type_bigint() }}) as published_available

    from positions
    inner join latest_cycle
        on positions.system_id = latest_cycle.system_id
        and positions.cycle_at = latest_cycle.cycle_at
    group by
        positions.cycle_at,
        positions.system_id,
        positions.snapshot_id,
        positions.canonical_sku,
        positions.canonical_location

),

buckets as (

    select
        master_book.cycle_at as snapshot_cycle_at,
        master_book.master_system_id,
        master_book.master_snapshot_id,
        master_book.canonical_sku,
        master_book.canonical_location,
        master_book.on_hand,
        coalesce(master_book.committed, master_book.on_hand - master_book.published_available)
            as committed,
        coalesce(master_book.reserved, 0) as reserved,
        coalesce(master_book.safety_stock, 0) as safety_stock,
        coalesce(lot_sellability.past_sellable_date_units, 0) as past_sellable_date_units,
        master_book.published_available

    from master_book
    left join lot_sellability
        on master_book.canonical_sku = lot_sellability.canonical_sku
        and master_book.canonical_location = lot_sellability.canonical_location
        and master_book.master_system_id = lot_sellability.system_id

),

final as (

    select
        {{ cycle_at() }} as cycle_at,
        snapshot_cycle_at,
        master_system_id,
        master_snapshot_id,
        canonical_sku,
        canonical_location,
        on_hand,
        committed,
        reserved,
        safety_stock,
        past_sellable_date_units,
        published_available,
        {{ available_to_promise('on_hand', 'committed', 'reserved', 'safety_stock',
                                'past_sellable_date_units') }} as atp,
        published_available - {{ available_to_promise('on_hand', 'committed', 'reserved',
                                                      'safety_stock',
                                                      'past_sellable_date_units') }}
            as atp_gap_units

    from buckets

)

select * from final
