-- External SKUs and locations in each system's latest successful snapshot that no mapping
-- row translates. Their stock is not compared anywhere until someone maps them.
with

positions as {{ inline_cte() }} (

    select * from {{ ref('int_positions_mapped') }}
    where cycle_at <= {{ cycle_at() }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
    where cycle_at <= {{ cycle_at() }}

),

snapshots_ranked as (

    select
        system_id,
        snapshot_id,
        row_number() over (
            partition by system_id
            order by cycle_at desc, observed_at desc, snapshot_id desc
        ) as recency_rank

    from snapshots

),

latest_positions as (

    select positions.*
    from positions
    inner join snapshots_ranked
        on positions.snapshot_id = snapshots_ranked.snapshot_id
    where snapshots_ranked.recency_rank = 1

),

current_skus as (

    select
        system_id,
        'sku' as kind,
        external_sku,
        cast(null as {{ dbt.type_string() }}) as external_location,
        cast(sum(observed_qty) as {{ dbt.type_bigint() }}) as observed_qty,
        count(*) as source_records,
        max(snapshot_id) as snapshot_id

    from latest_positions
    where not is_sku_mapped
    group by
        system_id,
        external_sku

),

current_locations as (

    select
        system_id,
        'location' as kind,
        cast(null as {{ dbt.type_string() }}) as external_sku,
        external_location,
        cast(sum(observed_qty) as {{ dbt.type_bigint() }}) as observed_qty,
        count(*) as source_records,
        max(snapshot_id) as snapshot_id

    from latest_positions
    where not is_location_mapped
    group by
        system_id,
        external_location

),

first_seen_skus as (

    select
        system_id,
        external_sku,
        min(cycle_at) as first_seen_at

    from positions
    where not is_sku_mapped
    group by
        system_id,
        external_sku

),

first_seen_locations as (

    select
        system_id,
        external_location,
        min(cycle_at) as first_seen_at

    from positions
    where not is_location_mapped
    group by
        system_id,
        external_location

),

skus as (

    select
        current_skus.*,
        first_seen_skus.first_seen_at

    from current_skus
    left join first_seen_skus
        on current_skus.system_id = first_seen_skus.system_id
        and coalesce(current_skus.external_sku, '') = coalesce(first_seen_skus.external_sku, '')

),

locations as (

    select
        current_locations.*,
        first_seen_locations.first_seen_at

    from current_locations
    left join first_seen_locations
        on current_locations.system_id = first_seen_locations.system_id
        and current_locations.external_location = first_seen_locations.external_location

),

unioned as (

    select * from skus
    union all
    select * from locations

),

final as (

    select
        {{ dbt.concat(["system_id", "'|'", "kind", "'|'",
                       "coalesce(external_sku, external_location, '(blank)')"]) }}
            as unmapped_key_id,
        system_id,
        kind,
        external_sku,
        external_location,
        observed_qty,
        source_records,
        snapshot_id,
        first_seen_at,
        {{ cycle_at() }} as cycle_at

    from unioned

)

select * from final
