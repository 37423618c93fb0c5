"""The report's figures as SQL over the warehouse, one query per table, for one period.

The same SQL text feeds the HTML page and the CSV/Parquet export (`COPY (query) TO ...`), so
the three can never disagree. Period bounds are inlined as timestamp literals built from
datetimes (never from user text), which is what lets COPY run the exact same statement.

Definitions (plain words beside each chart repeat them):
- accuracy: share of compared SKU-locations (per system) within tolerance in a cycle;
- settled drift: out of tolerance for at least the system's freshness target, both since the
  drift began and since the master last changed (it outlived the sync window: not in flight);
- units / value at risk: settled drift in units and units x unit cost, split by direction.
"""

from __future__ import annotations

from datetime import datetime

from reports.period import Period
from reports.queue_figures import queue_queries


def ts(value: datetime) -> str:
    return f"timestamp '{value:%Y-%m-%d %H:%M:%S}'"


KEY = "system_id, canonical_sku, canonical_location"


def settled_history(p: Period) -> str:
    """Every comparison up to the period end with `drift_since` (start of the unbroken run
    out of tolerance) and `is_settled`, as `int_current_variances_evaluated` defines them."""
    return f"""
with h as (
    select *, max(case when within_tolerance then cycle_at end) over (
        partition by {KEY} order by cycle_at rows between unbounded preceding and current row)
        as last_ok_at
    from marts.fct_variance_history where cycle_at <= {ts(p.end)}),
runs as (
    select *, min(case when within_tolerance = false then cycle_at end) over (
        partition by {KEY}, last_ok_at) as run_start
    from h)
select *,
    case when within_tolerance = false then run_start end as drift_since,
    coalesce(within_tolerance = false
        and date_diff('minute', run_start, cycle_at) >= freshness_target_minutes
        and date_diff('minute', last_master_change_at, cycle_at) >= freshness_target_minutes,
        false) as is_settled
from runs"""


def accuracy_trend(p: Period) -> str:
    return f"""
select cycle_at,
    count(*) as keys_compared,
    count(*) filter (where within_tolerance) as keys_within,
    round(100.0 * count(*) filter (where within_tolerance) / count(*), 1)::double
        as accuracy_pct,
    count(*) filter (where is_settled) as keys_settled_drift,
    coalesce(sum(abs_variance_units) filter (where is_settled and direction = 'overstated'), 0)
        as overstated_units,
    coalesce(sum(abs_variance_units) filter (where is_settled and direction = 'understated'), 0)
        as understated_units,
    round(coalesce(sum(abs_variance_units * coalesce(unit_cost, 0))
        filter (where is_settled and direction = 'overstated'), 0), 2)::double
        as overstated_value,
    round(coalesce(sum(abs_variance_units * coalesce(unit_cost, 0))
        filter (where is_settled and direction = 'understated'), 0), 2)::double
        as understated_value
from ({settled_history(p)})
where cycle_at between {ts(p.start)} and {ts(p.end)}
group by cycle_at order by cycle_at"""


def _snapshots_upto(p: Period) -> str:
    return f"""
select system_id, cycle_at, status, error_cause,
    coalesce(source_as_of, finished_at, started_at) as as_of
from raw.snapshots where cycle_at <= {ts(p.end)}"""


def system_freshness(p: Period) -> str:
    """Per system at the end of the period: age of the last good snapshot against target."""
    return f"""
with snaps as ({_snapshots_upto(p)}),
last_try as (
    select system_id, arg_max(status, cycle_at) as last_status,
        arg_max(error_cause, cycle_at) as last_error_cause, max(cycle_at) as last_attempt_at
    from snaps group by 1),
last_good as (
    select system_id, max(as_of) as last_success_as_of from snaps
    where status = 'succeeded' group by 1),
fails as (
    select system_id, count(*) as failures_in_period from snaps
    where status <> 'succeeded' and cycle_at >= {ts(p.start)} group by 1)
select s.system_id, s.role, s.freshness_target_minutes, t.last_status, t.last_error_cause,
    g.last_success_as_of,
    round(date_diff('second', g.last_success_as_of, {ts(p.end)}) / 60.0, 1) as age_minutes,
    coalesce(date_diff('second', g.last_success_as_of, {ts(p.end)}) / 60.0
        > s.freshness_target_minutes, true) as is_late,
    coalesce(f.failures_in_period, 0) as failures_in_period
from config.systems s
left join last_try t using (system_id)
left join last_good g using (system_id)
left join fails f using (system_id)
order by s.system_id"""


def snapshot_age_trend(p: Period) -> str:
    """Per system and cycle in the period: how old its newest good snapshot was."""
    return f"""
with snaps as ({_snapshots_upto(p)}),
cycles as (
    select distinct cycle_at from snaps where cycle_at >= {ts(p.start)})
select s.system_id, c.cycle_at, s.freshness_target_minutes,
    round(date_diff('second', max(n.as_of), c.cycle_at) / 60.0, 1) as age_minutes
from cycles c cross join config.systems s
left join snaps n on n.system_id = s.system_id and n.status = 'succeeded'
    and n.cycle_at <= c.cycle_at
group by s.system_id, c.cycle_at, s.freshness_target_minutes
order by s.system_id, c.cycle_at"""


def sync_lag_summary(p: Period) -> str:
    """Per non-master system: lag of master changes made in the period, against target.
    `waiting_past_target`: changes the system still did not show at the end of the period
    (or at the last cycle, if that is earlier) for longer than its target; `synced_late`:
    changes it showed, but later than its target. The p95 alone misses both when most
    changes sync at once and a stopped location's changes never do."""
    return f"""
with lag as (
    select *, least(cycle_at, {ts(p.end)}) as as_of from marts.fct_sync_lag
    where master_changed_at between {ts(p.start)} and {ts(p.end)})
select s.system_id, s.freshness_target_minutes,
    round(quantile_cont(l.lag_minutes, 0.5), 1) as p50_minutes,
    round(quantile_cont(l.lag_minutes, 0.95), 1) as p95_minutes,
    max(l.lag_minutes) as max_minutes,
    count(l.synced_at) as changes_synced,
    count(*) filter (where l.is_open) as changes_waiting,
    count(*) filter (where l.is_breach) as breaches,
    count(*) filter (where (l.synced_at is null or l.synced_at > l.as_of)
        and (l.next_master_change_at is null or l.next_master_change_at > l.as_of)
        and date_diff('second', l.master_changed_at, l.as_of) / 60.0
            > s.freshness_target_minutes) as waiting_past_target,
    count(*) filter (where l.lag_minutes > s.freshness_target_minutes) as synced_late,
    coalesce(quantile_cont(l.lag_minutes, 0.95) > s.freshness_target_minutes, false)
        as p95_over_target
from config.systems s left join lag l using (system_id)
where not s.is_master
group by s.system_id, s.freshness_target_minutes order by s.system_id"""


def sync_lag_trend(p: Period) -> str:
    return f"""
select system_id, date_trunc('{p.bucket}', master_changed_at) as bucket,
    any_value(freshness_target_minutes) as freshness_target_minutes,
    round(quantile_cont(lag_minutes, 0.5), 1) as p50_minutes,
    round(quantile_cont(lag_minutes, 0.95), 1) as p95_minutes,
    count(*) as changes_synced
from marts.fct_sync_lag
where synced_at is not null and master_changed_at between {ts(p.start)} and {ts(p.end)}
group by 1, 2 order by system_id, bucket"""


def top_drifting(p: Period) -> str:
    """SKU-locations in settled drift at their latest comparison, worst first, with the open
    exception's cause and owner (the key's own, else its system-location incident)."""
    return f"""
with latest as (
    select * from ({settled_history(p)})
    where cycle_at between {ts(p.start)} and {ts(p.end)}
    qualify row_number() over (partition by system_id, canonical_sku, canonical_location
        order by cycle_at desc) = 1),
drifting as (
    select *, abs_variance_units * coalesce(unit_cost, 0) as value_at_risk from latest
    where is_settled),
ex as (select * from ops.exceptions where status <> 'resolved')
select d.canonical_sku, d.canonical_location, d.system_id, d.observed_qty, d.expected_qty,
    d.variance_units, d.direction, round(d.value_at_risk, 2)::double as value_at_risk,
    coalesce(k.cause, i.cause, 'not yet an exception') as cause,
    coalesce(k.owner_id, i.owner_id, '—') as owner_id, d.cycle_at as last_seen_at
from drifting d
left join ex k on k.system_id = d.system_id and k.canonical_sku = d.canonical_sku
    and k.canonical_location = d.canonical_location
left join ex i on i.system_id = d.system_id and i.canonical_location = d.canonical_location
    and i.cause = 'sync_stopped' and i.canonical_sku is null
qualify row_number() over (partition by d.system_id, d.canonical_sku, d.canonical_location
    order by k.severity_score desc nulls last) = 1
order by d.value_at_risk desc, d.abs_variance_units desc, d.canonical_sku
limit 20"""


def extraction_failures(p: Period) -> str:
    return f"""
select cycle_at, system_id, connector, attempts, pages, error_cause
from raw.snapshots
where status <> 'succeeded' and cycle_at between {ts(p.start)} and {ts(p.end)}
order by cycle_at desc, system_id"""


def report_queries(p: Period) -> dict[str, str]:
    """Every table of the report, by export name, in page order."""
    return {
        "accuracy_trend": accuracy_trend(p),
        "system_freshness": system_freshness(p),
        "snapshot_age_trend": snapshot_age_trend(p),
        "sync_lag_summary": sync_lag_summary(p),
        "sync_lag_trend": sync_lag_trend(p),
        **queue_queries(p),
        "top_drifting": top_drifting(p),
        "extraction_failures": extraction_failures(p),
    }
