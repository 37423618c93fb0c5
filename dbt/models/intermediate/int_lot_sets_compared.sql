-- Lot / serial ids of each non-master system against the master at the same location, per
-- cycle in which both have a successful snapshot, one row per system x canonical SKU x
-- location. Only SKUs both sides track by lot at that location are compared (a master
-- that books the SKU without lots cannot say which lots should exist). The ids compared
-- are those with units on hand; quantities per id are compared too, but a per-lot
-- difference whose totals also differ is plain drift (fct_variance), not a lot problem.
-- Incremental by holder snapshot, like the variance history: each build compares only the
-- holder snapshots not compared yet, against the master's snapshot of the same cycle.
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
with

all_lots as (

    select * from {{ ref('int_lot_positions_mapped') }}
    where cycle_at <= {{ cycle_at() }}
        and on_hand <> 0

),

{% if is_incremental() %}
new_cycles as (

    select distinct cycle_at
    from all_lots
    where not is_master_position
        and snapshot_id not in (select distinct snapshot_id from {{ this }})

),

lots as (

    select * from all_lots
    where cycle_at in (select cycle_at from new_cycles)
        and (
            is_master_position
            or snapshot_id not in (select distinct snapshot_id from {{ this }})
        )

),
{% else %}
lots as (

    select * from all_lots

),
{% endif %}

systems as (

    select * from {{ ref('stg_config__systems') }}

),

holder_lots as (

    select
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        lot_id,
        sum(on_hand) as on_hand

    from lots
    where not is_master_position
    group by
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        lot_id

),

master_lots as (

    select
        system_id as master_system_id,
        snapshot_id as master_snapshot_id,
        cycle_at,
        observed_at as master_observed_at,
        canonical_sku,
        canonical_location,
        lot_id,
        sum(on_hand) as on_hand

    from lots
    where is_master_position
    group by
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        lot_id

),

pairs as (

    -- (system, SKU, location) keys tracked by lot on both sides in the same cycle
    select distinct
        holder_lots.system_id,
        holder_lots.snapshot_id,
        holder_lots.cycle_at,
        holder_lots.observed_at,
        holder_lots.canonical_sku,
        holder_lots.canonical_location,
        master_lots.master_system_id,
        master_lots.master_snapshot_id,
        master_lots.master_observed_at

    from holder_lots
    inner join master_lots
        on holder_lots.cycle_at = master_lots.cycle_at
        and holder_lots.canonical_sku = master_lots.canonical_sku
        and holder_lots.canonical_location = master_lots.canonical_location
        and holder_lots.master_system_id = master_lots.master_system_id

),

pair_lots as (

    select pairs.*, holder_lots.lot_id
    from pairs
    inner join holder_lots
        on pairs.snapshot_id = holder_lots.snapshot_id
        and pairs.canonical_sku = holder_lots.canonical_sku
        and pairs.canonical_location = holder_lots.canonical_location

    union

    select pairs.*, master_lots.lot_id
    from pairs
    inner join master_lots
        on pairs.master_snapshot_id = master_lots.master_snapshot_id
        and pairs.canonical_sku = master_lots.canonical_sku
        and pairs.canonical_location = master_lots.canonical_location

),

per_lot as (

    select
        pair_lots.*,
        holder_lots.on_hand as holder_on_hand,
        master_lots.on_hand as master_on_hand

    from pair_lots
    left join holder_lots
        on pair_lots.snapshot_id = holder_lots.snapshot_id
        and pair_lots.canonical_sku = holder_lots.canonical_sku
        and pair_lots.canonical_location = holder_lots.canonical_location
        and pair_lots.lot_id = holder_lots.lot_id
    left join master_lots
        on pair_lots.master_snapshot_id = master_lots.master_snapshot_id
        and pair_lots.canonical_sku = master_lots.canonical_sku
        and pair_lots.canonical_location = master_lots.canonical_location
        and pair_lots.lot_id = master_lots.lot_id

),

aggregated as (

    select
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        count(*) as lots_compared,
        count(case when master_on_hand is null then 1 end) as lots_only_in_system,
        count(case when holder_on_hand is null then 1 end) as lots_only_in_master,
        count(
            case when holder_on_hand is not null and master_on_hand is not null
                and holder_on_hand <> master_on_hand then 1 end
        ) as lots_quantity_differs,
        cast(sum(coalesce(holder_on_hand, 0)) as {{ dbt.type_bigint() }}) as system_on_hand,
        cast(sum(coalesce(master_on_hand, 0)) as {{ dbt.type_bigint() }}) as master_on_hand,
        {{ dbt.listagg(
            dbt.concat(["lot_id", "': '",
                        "coalesce(" ~ dbt.cast("holder_on_hand", dbt.type_string()) ~ ", '-')",
                        "' vs '",
                        "coalesce(" ~ dbt.cast("master_on_hand", dbt.type_string()) ~ ", '-')"]),
            "'; '", 'order by lot_id', 20) }} as lots_evidence

    from per_lot
    group by
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        master_snapshot_id,
        master_observed_at

),

final as (

    select
        {{ dbt.concat(["aggregated.snapshot_id", "'|'", "aggregated.canonical_sku", "'|'",
                       "aggregated.canonical_location"]) }} as lot_comparison_id,
        aggregated.*,
        systems.freshness_target_minutes,
        (
            aggregated.lots_only_in_system > 0
            or aggregated.lots_only_in_master > 0
            or (aggregated.lots_quantity_differs > 0
                and aggregated.system_on_hand = aggregated.master_on_hand)
        ) as is_mismatch

    from aggregated
    inner join systems
        on aggregated.system_id = systems.system_id

)

select * from final
