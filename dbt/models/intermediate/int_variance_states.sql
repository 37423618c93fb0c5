{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key=['state_kind', 'system_id', 'canonical_sku', 'canonical_location'],
        on_schema_change='append_new_columns',
    )
}}
-- Per-key drift state of the variance history, so a cycle reads state + its own rows
-- instead of every key's whole history (issue 15). One row per non-master system x
-- canonical key (state_kind 'key'), holding what int_current_variances_evaluated used to
-- derive from the history each cycle:
-- * the current out-of-tolerance run: run_since (its first observation), run_last_at (its
--   latest), and relative to the system's latest missed cycle before run_last_at (a cycle
--   the master was observed and the system was not) run_since_last_gap and
--   run_last_before_gap. Observations with no master (within_tolerance null) neither
--   extend nor break a run; an in-tolerance one ends it;
-- * the key's last observed quantity and when (and by how much) it last changed.
-- Plus one 'applied' row per system: the latest observation folded in (the watermark).
--
-- One fold, two inputs: a full build folds every history row into an empty state; an
-- incremental build folds the history rows after each system's watermark into the stored
-- state and writes back only the keys whose state changed (a drifting key, a moved
-- quantity, a run that began or ended) and the watermarks: a quiet key costs a join, not a
-- write. Both paths run the same SQL below, and tests check them equal; Spark (no
-- delete+insert on plain Parquet tables) always takes the full path, so the parity test
-- compares the two as well. A snapshot landed for a cycle older than a system's watermark
-- is not folded in: replaying an older cycle needs `--full-refresh`, as for the history.
with

history as (

    select
        system_id,
        canonical_sku,
        canonical_location,
        master_system_id,
        snapshot_id,
        cycle_at,
        observed_at,
        observed_qty,
        within_tolerance,
        compared_value_kind,
        freshness_target_minutes

    from {{ ref('int_variances_computed') }}
    where cycle_at <= {{ cycle_at() }}

),

snapshots as (

    select * from {{ ref('int_snapshots_deduplicated') }}
    where cycle_at <= {{ cycle_at() }}

),

{% if is_incremental() %}
stored as (

    select * from {{ this }}

),

watermarks as (

    select system_id, applied_cycle_at, applied_observed_at
    from stored
    where state_kind = 'applied'

),

new_rows as (

    {{ rows_after_watermarks('history', 'watermarks', ['system_id']) }}

),

prior as (

    select * from stored
    where state_kind = 'key'

),
{% else %}
new_rows as (

    select * from history

),

prior as (

    -- the empty state: a full build folds the whole history into it
    select
        cast(null as {{ dbt.type_string() }}) as system_id,
        cast(null as {{ dbt.type_string() }}) as canonical_sku,
        cast(null as {{ dbt.type_string() }}) as canonical_location,
        cast(null as {{ dbt.type_timestamp() }}) as run_since,
        cast(null as {{ dbt.type_timestamp() }}) as run_last_at,
        cast(null as {{ dbt.type_timestamp() }}) as run_since_last_gap,
        cast(null as {{ dbt.type_timestamp() }}) as run_last_before_gap,
        cast(null as {{ dbt.type_bigint() }}) as last_observed_qty,
        cast(null as {{ dbt.type_timestamp() }}) as last_observed_change_at,
        cast(null as {{ dbt.type_bigint() }}) as last_observed_change_units
    where 1 = 0

),
{% endif %}

sequenced as (

    -- each new row with the quantity observed just before it (the stored state's for a
    -- key's first new row)
    select
        new_rows.*,
        case
            when row_number() over (
                partition by new_rows.system_id, new_rows.canonical_sku,
                    new_rows.canonical_location
                order by new_rows.cycle_at, new_rows.observed_at, new_rows.snapshot_id
            ) = 1 then prior.last_observed_qty
            else lag(new_rows.observed_qty) over (
                partition by new_rows.system_id, new_rows.canonical_sku,
                    new_rows.canonical_location
                order by new_rows.cycle_at, new_rows.observed_at, new_rows.snapshot_id
            )
        end as previous_observed_qty

    from new_rows
    left join prior
        on new_rows.system_id = prior.system_id
        and new_rows.canonical_sku = prior.canonical_sku
        and new_rows.canonical_location = prior.canonical_location

),

last_in_tolerance as (

    select
        system_id,
        canonical_sku,
        canonical_location,
        max(case when within_tolerance then cycle_at end) as last_within_tolerance_at

    from new_rows
    group by system_id, canonical_sku, canonical_location

),

new_run_rows as (

    -- out-of-tolerance rows after the key's last in-tolerance new row
    select new_rows.*
    from new_rows
    inner join last_in_tolerance
        on new_rows.system_id = last_in_tolerance.system_id
        and new_rows.canonical_sku = last_in_tolerance.canonical_sku
        and new_rows.canonical_location = last_in_tolerance.canonical_location
    where new_rows.within_tolerance = false
        and (
            last_in_tolerance.last_within_tolerance_at is null
            or new_rows.cycle_at > last_in_tolerance.last_within_tolerance_at
        )

),

run_ends as (

    select
        system_id,
        canonical_sku,
        canonical_location,
        max(master_system_id) as master_system_id,
        min(cycle_at) as new_run_since,
        max(cycle_at) as new_run_last_at

    from new_run_rows
    group by system_id, canonical_sku, canonical_location

),

missed_cycles as (

    -- per system x master: cycles with a master snapshot but none of the system's
    select distinct
        system_masters.system_id,
        system_masters.master_system_id,
        master_snapshots.cycle_at as missed_cycle_at

    from (select distinct system_id, master_system_id from run_ends) as system_masters
    inner join snapshots as master_snapshots
        on system_masters.master_system_id = master_snapshots.system_id
    left join snapshots as system_snapshots
        on system_masters.system_id = system_snapshots.system_id
        and master_snapshots.cycle_at = system_snapshots.cycle_at
    where system_snapshots.snapshot_id is null

),

run_gaps as (

    -- the system's latest missed cycle before the run's latest row: a run cannot reach
    -- back across it unless it had already lasted the freshness target before it
    select
        run_ends.system_id,
        run_ends.canonical_sku,
        run_ends.canonical_location,
        max(missed_cycles.missed_cycle_at) as last_missed_cycle_at

    from run_ends
    inner join missed_cycles
        on run_ends.system_id = missed_cycles.system_id
        and run_ends.master_system_id = missed_cycles.master_system_id
        and missed_cycles.missed_cycle_at < run_ends.new_run_last_at
    group by run_ends.system_id, run_ends.canonical_sku, run_ends.canonical_location

),

new_run_gap_split as (

    select
        new_run_rows.system_id,
        new_run_rows.canonical_sku,
        new_run_rows.canonical_location,
        min(
            case
                when run_gaps.last_missed_cycle_at is null
                    or new_run_rows.cycle_at > run_gaps.last_missed_cycle_at
                    then new_run_rows.cycle_at
            end
        ) as new_since_last_gap,
        max(
            case
                when new_run_rows.cycle_at < run_gaps.last_missed_cycle_at
                    then new_run_rows.cycle_at
            end
        ) as new_last_before_gap,
        max(run_gaps.last_missed_cycle_at) as last_missed_cycle_at

    from new_run_rows
    left join run_gaps
        on new_run_rows.system_id = run_gaps.system_id
        and new_run_rows.canonical_sku = run_gaps.canonical_sku
        and new_run_rows.canonical_location = run_gaps.canonical_location
    group by new_run_rows.system_id, new_run_rows.canonical_sku, new_run_rows.canonical_location

),

changes_ranked as (

    select
        system_id,
        canonical_sku,
        canonical_location,
        cycle_at,
        observed_qty - previous_observed_qty as change_units,
        row_number() over (
            partition by system_id, canonical_sku, canonical_location
            order by cycle_at desc, observed_at desc, snapshot_id desc
        ) as change_rank

    from sequenced
    where previous_observed_qty is not null
        and observed_qty <> previous_observed_qty

),

latest_rows as (

    select
        system_id,
        canonical_sku,
        canonical_location,
        observed_qty,
        compared_value_kind,
        freshness_target_minutes,
        row_number() over (
            partition by system_id, canonical_sku, canonical_location
            order by cycle_at desc, observed_at desc, snapshot_id desc
        ) as recency_rank

    from new_rows

),

folded as (

    select
        'key' as state_kind,
        latest_rows.system_id,
        latest_rows.canonical_sku,
        latest_rows.canonical_location,
        -- the run: a new in-tolerance row ends the stored one; new out-of-tolerance rows
        -- after it extend the stored run or start one
        case
            when last_in_tolerance.last_within_tolerance_at is not null
                then run_ends.new_run_since
            else coalesce(prior.run_since, run_ends.new_run_since)
        end as run_since,
        case
            when last_in_tolerance.last_within_tolerance_at is not null
                then run_ends.new_run_last_at
            else coalesce(run_ends.new_run_last_at, prior.run_last_at)
        end as run_last_at,
        case
            when last_in_tolerance.last_within_tolerance_at is not null
                then new_run_gap_split.new_since_last_gap
            when run_ends.new_run_last_at is null then prior.run_since_last_gap
            -- no missed cycle between the stored run's latest row and the new ones: the
            -- stored split still holds
            when prior.run_last_at is not null
                and (
                    new_run_gap_split.last_missed_cycle_at is null
                    or new_run_gap_split.last_missed_cycle_at < prior.run_last_at
                )
                then prior.run_since_last_gap
            else new_run_gap_split.new_since_last_gap
        end as run_since_last_gap,
        case
            when last_in_tolerance.last_within_tolerance_at is not null
                then new_run_gap_split.new_last_before_gap
            when run_ends.new_run_last_at is null then prior.run_last_before_gap
            when prior.run_last_at is not null
                and (
                    new_run_gap_split.last_missed_cycle_at is null
                    or new_run_gap_split.last_missed_cycle_at < prior.run_last_at
                )
                then prior.run_last_before_gap
            -- the stored run lies wholly before the missed cycle
            when prior.run_last_at is not null
                then greatest(
                    prior.run_last_at,
                    coalesce(new_run_gap_split.new_last_before_gap, prior.run_last_at)
                )
            else new_run_gap_split.new_last_before_gap
        end as run_last_before_gap,
        latest_rows.observed_qty as last_observed_qty,
        -- what the key is compared on, and against which target, as of its latest row
        -- (fct_sync_lag's observers: one row per key, not a scan of the history)
        latest_rows.compared_value_kind,
        latest_rows.freshness_target_minutes,
        coalesce(changes_ranked.cycle_at, prior.last_observed_change_at)
            as last_observed_change_at,
        case
            when changes_ranked.cycle_at is not null then changes_ranked.change_units
            else prior.last_observed_change_units
        end as last_observed_change_units,
        cast(null as {{ dbt.type_timestamp() }}) as applied_cycle_at,
        cast(null as {{ dbt.type_timestamp() }}) as applied_observed_at

    from latest_rows
    inner join last_in_tolerance
        on latest_rows.system_id = last_in_tolerance.system_id
        and latest_rows.canonical_sku = last_in_tolerance.canonical_sku
        and latest_rows.canonical_location = last_in_tolerance.canonical_location
    left join run_ends
        on latest_rows.system_id = run_ends.system_id
        and latest_rows.canonical_sku = run_ends.canonical_sku
        and latest_rows.canonical_location = run_ends.canonical_location
    left join new_run_gap_split
        on latest_rows.system_id = new_run_gap_split.system_id
        and latest_rows.canonical_sku = new_run_gap_split.canonical_sku
        and latest_rows.canonical_location = new_run_gap_split.canonical_location
    left join changes_ranked
        on latest_rows.system_id = changes_ranked.system_id
        and latest_rows.canonical_sku = changes_ranked.canonical_sku
        and latest_rows.canonical_location = changes_ranked.canonical_location
        and changes_ranked.change_rank = 1
    left join prior
        on latest_rows.system_id = prior.system_id
        and latest_rows.canonical_sku = prior.canonical_sku
        and latest_rows.canonical_location = prior.canonical_location
    where latest_rows.recency_rank = 1

),

changed as (

    select folded.*
    from folded
    {% if is_incremental() %}
    left join prior
        on folded.system_id = prior.system_id
        and folded.canonical_sku = prior.canonical_sku
        and folded.canonical_location = prior.canonical_location
    -- a key whose state is what is stored is not rewritten
    where prior.system_id is null
        or folded.run_since is distinct from prior.run_since
        or folded.run_last_at is distinct from prior.run_last_at
        or folded.run_since_last_gap is distinct from prior.run_since_last_gap
        or folded.run_last_before_gap is distinct from prior.run_last_before_gap
        or folded.last_observed_qty is distinct from prior.last_observed_qty
        or folded.last_observed_change_at is distinct from prior.last_observed_change_at
        or folded.last_observed_change_units is distinct from prior.last_observed_change_units
        or folded.compared_value_kind is distinct from prior.compared_value_kind
        or folded.freshness_target_minutes is distinct from prior.freshness_target_minutes
    {% endif %}

),

applied as (

    -- per system, the latest observation folded in
    select
        'applied' as state_kind,
        system_id,
        '' as canonical_sku,
        '' as canonical_location,
        cast(null as {{ dbt.type_timestamp() }}) as run_since,
        cast(null as {{ dbt.type_timestamp() }}) as run_last_at,
        cast(null as {{ dbt.type_timestamp() }}) as run_since_last_gap,
        cast(null as {{ dbt.type_timestamp() }}) as run_last_before_gap,
        cast(null as {{ dbt.type_bigint() }}) as last_observed_qty,
        cast(null as {{ dbt.type_string() }}) as compared_value_kind,
        cast(null as {{ dbt.type_int() }}) as freshness_target_minutes,
        cast(null as {{ dbt.type_timestamp() }}) as last_observed_change_at,
        cast(null as {{ dbt.type_bigint() }}) as last_observed_change_units,
        max(cycle_at) as applied_cycle_at,
        max(observed_at) as applied_observed_at

    from (
        select
            system_id,
            cycle_at,
            observed_at,
            rank() over (partition by system_id order by cycle_at desc) as cycle_rank
        from new_rows
    ) as ranked
    where cycle_rank = 1
    group by system_id

),

final as (

    select * from changed
    union all
    select * from applied

)

select * from final
