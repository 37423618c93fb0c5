-- The landed rows of each system's successful snapshot per cycle (the latest one should a
-- cycle ever land two), with the cycle and the time the numbers were true.
with

landed as (

    select * from {{ ref('int_positions_landed') }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}

),

final as (

    select
        snapshots.system_id,
        landed.snapshot_id,
        snapshots.cycle_at,
        snapshots.observed_at,
        landed.external_sku,
        landed.external_location,
        landed.on_hand,
        landed.committed,
        landed.available,
        landed.incoming,
        landed.reserved,
        landed.safety_stock,
        landed.unit_cost,
        landed.source_updated_at

    from landed
    inner join snapshots
        on landed.snapshot_id = snapshots.snapshot_id

)

select * from final
