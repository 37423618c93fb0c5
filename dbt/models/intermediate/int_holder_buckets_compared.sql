{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
    )
}}
-- Bucket history of physical holders (3PL, WMS, store) against the master, per successful
-- holder snapshot x canonical key: committed and incoming on both sides, compared with the
-- master snapshot of the SAME cycle. Incremental by snapshot like int_variances_computed.
--
-- A holder that shipped units the master has not posted yet shows less on-hand AND less
-- committed than the master; a receipt the master posted before the holder put the units
-- away shows more incoming at the holder and more on-hand in the master. Both are
-- explained by the on-hand gap `master_on_hand_ahead_units`; what remains is unexplained:
-- * unreleased_committed_units = (master committed - holder committed) - on-hand gap: the
--   master still holds a reservation the fulfilling holder released (a canceled order);
--   a partial shipment (part shipped, rest later) moves on-hand and committed together
--   and leaves 0;
-- * unexplained_incoming_units = (holder incoming - master incoming) - on-hand gap: stock
--   the holder expects that no open purchase order in the master explains.
with

positions as {{ inline_cte() }} (

    select * from {{ ref('int_positions_mapped') }}
    where is_sku_mapped
        and is_location_mapped
        and cycle_at <= {{ cycle_at() }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

holder_positions as (

    -- every non-master system; which buckets are judged depends on its role (macros
    -- reserves_for_our_orders, receives_our_purchase_orders)
    select * from positions
    where not is_master_position
    {% if is_incremental() %}
        and snapshot_id not in (select distinct snapshot_id from {{ this }})
    {% endif %}

),

holders as (

    select
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        is_listing,
        count(*) as source_records,
        cast(sum(on_hand) as {{ dbt.type_bigint() }}) as holder_on_hand,
        cast(sum(committed) as {{ dbt.type_bigint() }}) as holder_committed,
        cast(sum(incoming) as {{ dbt.type_bigint() }}) as holder_incoming

    from holder_positions
    group by
        system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        is_listing

),

holder_cycles as (

    select distinct cycle_at from holders

),

masters as (

    -- the master's buckets of the same cycles; committed falls back to on-hand - available
    -- for a master that publishes only those two
    select
        positions.cycle_at,
        positions.canonical_sku,
        positions.canonical_location,
        positions.system_id as master_system_id,
        positions.snapshot_id as master_snapshot_id,
        positions.observed_at as master_observed_at,
        cast(sum(positions.on_hand) as {{ dbt.type_bigint() }}) as master_on_hand,
        cast(coalesce(
            sum(positions.committed), sum(positions.on_hand) - sum(positions.available)
        ) as {{ dbt.type_bigint() }}) as master_committed,
        cast(sum(positions.incoming) as {{ dbt.type_bigint() }}) as master_incoming,
        max(positions.unit_cost) as unit_cost

    from positions
    inner join holder_cycles
        on positions.cycle_at = holder_cycles.cycle_at
    where positions.is_master_position
    group by
        positions.cycle_at,
        positions.canonical_sku,
        positions.canonical_location,
        positions.system_id,
        positions.snapshot_id,
        positions.observed_at

),

compared as (

    select
        holders.*,
        masters.master_snapshot_id,
        masters.master_observed_at,
        masters.master_on_hand,
        masters.master_committed,
        masters.master_incoming,
        masters.unit_cost,
        systems.system_role,
        systems.freshness_target_minutes,
        systems.tolerance_units,
        master_systems.freshness_target_minutes as master_freshness_target_minutes,
        case
            when masters.master_on_hand > holders.holder_on_hand
                then masters.master_on_hand - holders.holder_on_hand
            else 0
        end as master_on_hand_ahead_units

    from holders
    inner join masters
        on holders.cycle_at = masters.cycle_at
        and holders.canonical_sku = masters.canonical_sku
        and holders.canonical_location = masters.canonical_location
        and holders.master_system_id = masters.master_system_id
    inner join systems
        on holders.system_id = systems.system_id
    left join systems as master_systems
        on holders.master_system_id = master_systems.system_id

),

final as (

    select
        {{ dbt.concat(["snapshot_id", "'|'", "canonical_sku", "'|'", "canonical_location"]) }}
            as holder_bucket_id,
        system_id,
        system_role,
        snapshot_id,
        cycle_at,
        observed_at,
        canonical_sku,
        canonical_location,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        source_records,
        holder_on_hand,
        holder_committed,
        holder_incoming,
        master_on_hand,
        master_committed,
        master_incoming,
        unit_cost,
        master_on_hand_ahead_units,
        is_listing,
        case
            when {{ reserves_for_our_orders('system_role') }}
                then master_committed - holder_committed
        end as excess_committed_units,
        case
            when {{ reserves_for_our_orders('system_role') }}
                then master_committed - holder_committed - master_on_hand_ahead_units
        end as unreleased_committed_units,
        case
            when {{ receives_our_purchase_orders('system_role') }}
                then holder_incoming - coalesce(master_incoming, 0)
        end as excess_incoming_units,
        case
            when {{ receives_our_purchase_orders('system_role') }}
                then holder_incoming - coalesce(master_incoming, 0) - master_on_hand_ahead_units
        end as unexplained_incoming_units,
        tolerance_units,
        freshness_target_minutes,
        master_freshness_target_minutes

    from compared

)

select * from final
