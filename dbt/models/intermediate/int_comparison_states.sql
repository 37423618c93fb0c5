{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key=['state_kind', 'comparison_kind', 'system_id', 'item_sku',
                    'canonical_location', 'measure'],
        on_schema_change='append_new_columns',
    )
}}
-- Per-key drift runs of the comparison spine (int_comparisons_unioned): for each
-- comparison x system x item x location x measure (state_kind 'key'), run_since is the
-- first out-of-tolerance observation after the key's last in-tolerance one (null when the
-- latest judged observation was in tolerance); rows that could not be judged neither
-- start nor end a run. One 'applied' row per comparison x system is the watermark.
-- Like int_variance_states: a full build folds the whole spine; an incremental build
-- folds only the rows after each watermark into the stored runs and rewrites only the keys
-- whose run began or ended (a key drifting for hours is written once). Same SQL for both;
-- Spark always takes the full path.
with

spine as (

    select * from {{ ref('int_comparisons_unioned') }}
    where cycle_at <= {{ cycle_at() }}

),

{% if is_incremental() %}
stored as (

    select * from {{ this }}

),

watermarks as (

    select comparison_kind, system_id, applied_cycle_at, applied_observed_at
    from stored
    where state_kind = 'applied'

),

new_rows as (

    {{ rows_after_watermarks('spine', 'watermarks', ['comparison_kind', 'system_id']) }}

),

prior as (

    select * from stored
    where state_kind = 'key'

),
{% else %}
new_rows as (

    select * from spine

),

prior as (

    select
        cast(null as {{ dbt.type_string() }}) as comparison_kind,
        cast(null as {{ dbt.type_string() }}) as system_id,
        cast(null as {{ dbt.type_string() }}) as item_sku,
        cast(null as {{ dbt.type_string() }}) as canonical_location,
        cast(null as {{ dbt.type_string() }}) as measure,
        cast(null as {{ dbt.type_timestamp() }}) as run_since
    where 1 = 0

),
{% endif %}

per_key as (

    select
        comparison_kind,
        system_id,
        item_sku,
        canonical_location,
        measure,
        max(case when is_drifting = false then cycle_at end) as last_in_tolerance_at

    from new_rows
    group by comparison_kind, system_id, item_sku, canonical_location, measure

),

new_runs as (

    select
        per_key.comparison_kind,
        per_key.system_id,
        per_key.item_sku,
        per_key.canonical_location,
        per_key.measure,
        per_key.last_in_tolerance_at,
        min(
            case
                when new_rows.is_drifting
                    and (
                        per_key.last_in_tolerance_at is null
                        or new_rows.cycle_at > per_key.last_in_tolerance_at
                    )
                    then new_rows.cycle_at
            end
        ) as new_run_since

    from per_key
    inner join new_rows
        on per_key.comparison_kind = new_rows.comparison_kind
        and per_key.system_id = new_rows.system_id
        and per_key.item_sku = new_rows.item_sku
        and per_key.canonical_location = new_rows.canonical_location
        and per_key.measure = new_rows.measure
    group by
        per_key.comparison_kind,
        per_key.system_id,
        per_key.item_sku,
        per_key.canonical_location,
        per_key.measure,
        per_key.last_in_tolerance_at

),

folded as (

    select
        'key' as state_kind,
        new_runs.comparison_kind,
        new_runs.system_id,
        new_runs.item_sku,
        new_runs.canonical_location,
        new_runs.measure,
        -- an in-tolerance row ends the stored run; drifting rows after it start a new one
        case
            when new_runs.last_in_tolerance_at is not null then new_runs.new_run_since
            else coalesce(prior.run_since, new_runs.new_run_since)
        end as run_since,
        cast(null as {{ dbt.type_timestamp() }}) as applied_cycle_at,
        cast(null as {{ dbt.type_timestamp() }}) as applied_observed_at

    from new_runs
    left join prior
        on new_runs.comparison_kind = prior.comparison_kind
        and new_runs.system_id = prior.system_id
        and new_runs.item_sku = prior.item_sku
        and new_runs.canonical_location = prior.canonical_location
        and new_runs.measure = prior.measure

),

changed as (

    select folded.*
    from folded
    {% if is_incremental() %}
    left join prior
        on folded.comparison_kind = prior.comparison_kind
        and folded.system_id = prior.system_id
        and folded.item_sku = prior.item_sku
        and folded.canonical_location = prior.canonical_location
        and folded.measure = prior.measure
    where prior.system_id is null
        or folded.run_since is distinct from prior.run_since
    {% endif %}

),

applied as (

    select
        'applied' as state_kind,
        comparison_kind,
        system_id,
        '' as item_sku,
        '' as canonical_location,
        '' as measure,
        cast(null as {{ dbt.type_timestamp() }}) as run_since,
        max(cycle_at) as applied_cycle_at,
        max(observed_at) as applied_observed_at

    from (
        select
            comparison_kind,
            system_id,
            cycle_at,
            observed_at,
            rank() over (
                partition by comparison_kind, system_id order by cycle_at desc
            ) as cycle_rank
        from new_rows
    ) as ranked
    where cycle_rank = 1
    group by comparison_kind, system_id

),

final as (

    select * from changed
    union all
    select * from applied

)

select * from final
