"""Exception-queue figures for a period, replayed from the transition log.

`ops.exception_events` holds every transition (who, when, why), so the queue as it stood at
any moment is the last event per fingerprint at or before that moment. That is what lets a
report for last week say how big the queue was then, not only now.
"""

from __future__ import annotations

from datetime import datetime

from reports.period import Period

AGE_BUCKETS = ("under 1h", "1–4h", "4–24h", "1–7d", "over 7d")


def _ts(value: datetime) -> str:
    return f"timestamp '{value:%Y-%m-%d %H:%M:%S}'"


def _state_at(t: datetime) -> str:
    return f"""
select fingerprint, to_status as status, occurred_at as since from (
    select *, row_number() over (partition by fingerprint
        order by occurred_at desc, rowid desc) as rn
    from ops.exception_events where occurred_at <= {_ts(t)}) where rn = 1"""


# An episode starts when an exception is detected or reopened after resolution.
_STARTS = "to_status = 'open' and (from_status is null or from_status = 'resolved')"


def _responses(p: Period, to_status: str) -> str:
    """Minutes from the start of each episode to the first `to_status` decision in it."""
    return f"""
with starts as (select fingerprint, occurred_at from ops.exception_events where {_STARTS}),
ends as (select fingerprint, occurred_at from ops.exception_events
    where to_status = '{to_status}' and occurred_at between {_ts(p.start)} and {_ts(p.end)}),
paired as (
    select e.fingerprint, s.occurred_at as started_at, min(e.occurred_at) as ended_at
    from ends e asof join starts s
        on e.fingerprint = s.fingerprint and e.occurred_at >= s.occurred_at
    group by 1, 2)
select date_diff('second', started_at, ended_at) / 60.0 as minutes from paired"""


def queue_summary(p: Period) -> str:
    return f"""
with at_start as ({_state_at(p.start)}), at_end as ({_state_at(p.end)}),
ev as (select * from ops.exception_events
    where occurred_at between {_ts(p.start)} and {_ts(p.end)}),
ack as ({_responses(p, "acknowledged")}), res as ({_responses(p, "resolved")})
select
    (select count(*) from at_start where status <> 'resolved') as open_at_start,
    (select count(*) from at_end where status <> 'resolved') as open_at_end,
    (select count(*) from at_end where status = 'acknowledged') as acknowledged_at_end,
    (select count(*) from at_end where status = 'snoozed') as snoozed_at_end,
    (select count(*) from ev where {_STARTS}) as opened_in_period,
    (select count(*) from ev where to_status = 'resolved') as closed_in_period,
    (select count(*) from ack) as acknowledged_in_period,
    (select round(median(minutes), 1) from ack) as ack_p50_minutes,
    (select round(quantile_cont(minutes, 0.9), 1) from ack) as ack_p90_minutes,
    (select round(median(minutes), 1) from res) as resolve_p50_minutes,
    (select round(quantile_cont(minutes, 0.9), 1) from res) as resolve_p90_minutes"""


def queue_age(p: Period) -> str:
    """Open exceptions at the end of the period by how long ago they were first seen."""
    labels = ", ".join(f"('{label}', {i})" for i, label in enumerate(AGE_BUCKETS))
    return f"""
with at_end as ({_state_at(p.end)}),
open_ex as (
    select date_diff('minute', x.first_seen_at, {_ts(p.end)}) as age
    from at_end a join ops.exceptions x using (fingerprint) where a.status <> 'resolved'),
bucketed as (
    select case when age < 60 then 0 when age < 240 then 1 when age < 1440 then 2
        when age < 10080 then 3 else 4 end as ord from open_ex),
labels(age_bucket, ord) as (values {labels})
select l.age_bucket, count(b.ord) as open_exceptions
from labels l left join bucketed b using (ord) group by l.age_bucket, l.ord order by l.ord"""


def queue_flow(p: Period) -> str:
    """Opened (detected or reopened) against closed, per hour or day of the period."""
    return f"""
with ev as (select * from ops.exception_events
    where occurred_at between {_ts(p.start)} and {_ts(p.end)})
select date_trunc('{p.bucket}', occurred_at) as bucket,
    count(*) filter (where {_STARTS}) as opened,
    count(*) filter (where to_status = 'resolved') as closed
from ev group by 1 order by 1"""


def queue_by_owner(p: Period) -> str:
    return f"""
with at_end as ({_state_at(p.end)})
select x.cause, x.owner_id, count(*) as open_exceptions,
    min(x.first_seen_at) as oldest_first_seen_at
from at_end a join ops.exceptions x using (fingerprint)
where a.status <> 'resolved'
group by 1, 2 order by 3 desc, 1, 2"""


SEVERITY_ORDER = ("critical", "high", "medium", "low")


def open_exceptions(p: Period) -> str:
    """Every exception open (not resolved) at the end of the period, most severe first:
    what the report's headline names before anything else."""
    ranks = " ".join(f"when '{name}' then {i}" for i, name in enumerate(SEVERITY_ORDER))
    return f"""
with at_end as ({_state_at(p.end)})
select x.severity, x.cause, x.system_id, x.canonical_location, x.canonical_sku,
    x.external_id, x.owner_id, a.status, x.first_seen_at, x.title
from at_end a join ops.exceptions x using (fingerprint)
where a.status <> 'resolved'
order by case x.severity {ranks} else {len(SEVERITY_ORDER)} end, x.severity_score desc,
    x.first_seen_at, x.fingerprint"""


def queue_queries(p: Period) -> dict[str, str]:
    return {
        "queue_summary": queue_summary(p),
        "queue_age": queue_age(p),
        "queue_flow": queue_flow(p),
        "queue_by_owner": queue_by_owner(p),
        "open_exceptions": open_exceptions(p),
    }
