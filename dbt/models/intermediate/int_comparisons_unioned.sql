-- The comparison spine (issue 15): every comparison besides the position quantities, in
-- one long format, one row per system snapshot x item x location x measure, with whether
-- it is out of tolerance (null: it could not be judged, which neither starts nor ends a
-- drift run). int_comparison_states folds these rows into per-key drift runs, so the
-- marts read state instead of rescanning their histories. (Position quantities have their
-- own gap-aware state, int_variance_states.)
with

holder_buckets as {{ inline_cte() }} (

    select * from {{ ref('int_holder_buckets_compared') }}

),

bundles as (

    select * from {{ ref('int_bundle_availability_computed') }}

),

lot_sets as (

    select * from {{ ref('int_lot_sets_compared') }}

),

unioned as (

    select
        'holder_bucket' as comparison_kind,
        system_id,
        canonical_sku as item_sku,
        canonical_location,
        'committed' as measure,
        snapshot_id,
        cycle_at,
        observed_at,
        unreleased_committed_units > tolerance_units as is_drifting

    from holder_buckets
    where unreleased_committed_units is not null

    union all

    select
        'holder_bucket' as comparison_kind,
        system_id,
        canonical_sku as item_sku,
        canonical_location,
        'incoming' as measure,
        snapshot_id,
        cycle_at,
        observed_at,
        unexplained_incoming_units > tolerance_units as is_drifting

    from holder_buckets
    where unexplained_incoming_units is not null

    union all

    select
        'bundle' as comparison_kind,
        system_id,
        bundle_sku as item_sku,
        canonical_location,
        'buildable' as measure,
        snapshot_id,
        cycle_at,
        observed_at,
        is_overstated as is_drifting

    from bundles

    union all

    select
        'lot_set' as comparison_kind,
        system_id,
        canonical_sku as item_sku,
        canonical_location,
        'lot_ids' as measure,
        snapshot_id,
        cycle_at,
        observed_at,
        is_mismatch as is_drifting

    from lot_sets

)

select * from unioned
