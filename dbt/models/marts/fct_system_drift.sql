-- Per non-master system x canonical location in the current cycle: how many keys are in
-- settled drift. Many at once is one `sync_stopped` incident, not a flood of key alerts.
-- Only rows that can be judged count (not suppressed by a failed, stale or master-less
-- extraction).
with

current_variances as (

    select * from {{ ref('int_current_variances_evaluated') }}

),

systems as (

    select * from {{ ref('stg_config__systems') }}

),

per_location as (

    select
        system_id,
        canonical_location,
        count(*) as keys_observed,
        count(
            case
                when base_suppression_reason is null and within_tolerance is not null then 1
            end
        ) as keys_compared,
        count(
            case when base_suppression_reason is null and is_settled then 1 end
        ) as keys_settled_drift,
        min(
            case when base_suppression_reason is null and is_settled then drift_since end
        ) as drift_since

    from current_variances
    group by
        system_id,
        canonical_location

),

settled_examples as (

    select
        system_id,
        canonical_location,
        {{ dbt.listagg('canonical_sku', "', '", 'order by canonical_sku', 5) }} as example_skus

    from current_variances
    where base_suppression_reason is null
        and is_settled
    group by
        system_id,
        canonical_location

),

final as (

    select
        per_location.system_id,
        per_location.canonical_location,
        per_location.keys_observed,
        per_location.keys_compared,
        per_location.keys_settled_drift,
        cast(per_location.keys_settled_drift as {{ dbt.type_float() }})
            / nullif(per_location.keys_compared, 0) as drift_share,
        coalesce(
            per_location.keys_settled_drift >= systems.sync_stopped_min_keys
            and cast(per_location.keys_settled_drift as {{ dbt.type_float() }})
                / nullif(per_location.keys_compared, 0) >= systems.sync_stopped_share,
            false
        ) as sync_stopped,
        systems.sync_stopped_min_keys,
        systems.sync_stopped_share,
        {{ cycle_at() }} as cycle_at,
        per_location.drift_since,
        settled_examples.example_skus

    from per_location
    inner join systems
        on per_location.system_id = systems.system_id
    left join settled_examples
        on per_location.system_id = settled_examples.system_id
        and per_location.canonical_location = settled_examples.canonical_location

)

select * from final
