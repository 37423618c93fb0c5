"""Which notifications one cycle owes, read from the queue and the outbox (nothing is sent here).

- opened: open, never alerted, severity not in `routing.digest_severities`;
- resolved: resolved after being alerted, no resolved notice since (a thread reply that also
  edits the original once everything it reported is resolved);
- worsened: severity above what the last opened/worsened notice said (thread reply);
- escalated: still `open` (not acknowledged) `routing.escalate_after_minutes` after the alert,
  to the matching rule's `escalate_to`, once per opening;
- reminder: still `open`, every `routing.reminder_every_minutes` since the last notice
  (thread reply);
- digest: open exceptions of digest severities, one message per owner per day, first cycle
  after `routing.digest_hour_utc`.

"Owed" is derived from `ops.alert_outbox` (which fingerprints each notice covered and when),
so a crash or a rerun never skips or repeats a notice.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import duckdb

from alerts.grouping import SEVERITY_RANK, alert_id_for, build_messages, keys_behind
from alerts.model import AlertKind, AlertMessage
from alerts.routing import RouteInput, route
from stockdrift.config import StockdriftConfig

Row = dict[str, Any]


def plan_notifications(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime,
    report_url: str = "", run_url: str = "",
) -> list[AlertMessage]:
    """Every message this cycle owes, in the order they should go out."""
    links = {"report_url": report_url, "run_url": run_url}
    digest: list[str] = list(cfg.routing.digest_severities) or ["_none_"]
    marks = ",".join("?" * len(digest))
    opened = exception_rows(con, f"status = 'open' and alerted_at is null and severity not in "
                                 f"({marks})", digest)
    messages = build_messages(opened, cfg, at, "opened", **links)
    messages += _resolved(con, cfg, at, links)
    worse = _worsened(con, cfg, at, links)
    messages += worse
    escalated = _escalated(con, cfg, at, links)
    messages += escalated
    just_notified = {fp for m in worse + escalated for fp in m.fingerprints}
    messages += _reminders(con, cfg, at, links, skip=just_notified)
    messages += _digests(con, cfg, at, links)
    return messages


def exception_rows(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[Row]:
    cur = con.execute(f"select * from ops.exceptions where {where} order by fingerprint", params)
    names = [d[0] for d in cur.description]
    out = []
    for values in cur.fetchall():
        rec = dict(zip(names, values, strict=True))
        if isinstance(rec.get("evidence"), str):
            rec["evidence"] = json.loads(rec["evidence"])
        out.append(rec)
    return out


def notices(
    con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], fingerprints: list[str]
) -> dict[str, list[tuple[datetime, str]]]:
    """Outbox notices of `kinds` covering each fingerprint: (created_at, message JSON)."""
    if not fingerprints:
        return {}
    rows = con.execute(
        "select fp, created_at, message from (select unnest(from_json(fingerprints, "
        "'[\"VARCHAR\"]')) as fp, created_at, message from ops.alert_outbox "
        f"where kind in ({','.join('?' * len(kinds))})) "
        f"where fp in ({','.join('?' * len(fingerprints))}) order by created_at",
        [*kinds, *fingerprints],
    ).fetchall()
    out: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for fp, created_at, message in rows:
        out[str(fp)].append((created_at, str(message)))
    return out


def _per_thread(
    rows: list[Row], cfg: StockdriftConfig, at: datetime, kind: AlertKind, links: dict[str, str]
) -> list[AlertMessage]:
    """Follow-ups grouped by the alert they reply to, so each lands in its own thread."""
    by_parent: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_parent[str(r.get("alert_id") or "")].append(r)
    return [m for _, grouped in sorted(by_parent.items())
            for m in build_messages(grouped, cfg, at, kind, **links)]


def _resolved(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime, links: dict[str, str]
) -> list[AlertMessage]:
    rows = exception_rows(
        con, "status = 'resolved' and alerted_at is not null and resolved_at >= alerted_at "
             "and resolved_at >= ?", [at - timedelta(days=7)])
    done = notices(con, ("resolved",), [r["fingerprint"] for r in rows])
    owed = [r for r in rows
            if not any(t >= r["resolved_at"] for t, _ in done.get(r["fingerprint"], []))]
    messages = []
    for msg in _per_thread(owed, cfg, at, "resolved", links):
        still_open = con.execute(
            "select count(*) from ops.exceptions where alert_id = ? and status <> 'resolved'",
            [msg.thread_of],
        ).fetchone() if msg.thread_of else (0,)
        closes = bool(still_open is not None and still_open[0] == 0)
        messages.append(replace(msg, evidence={**msg.evidence, "closes_parent": closes}))
    return messages


def _worsened(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime, links: dict[str, str]
) -> list[AlertMessage]:
    rows = exception_rows(con, "status in ('open', 'acknowledged') and alerted_at is not null",
                          [])
    told = notices(con, ("opened", "worsened"), [r["fingerprint"] for r in rows])
    worse: list[Row] = []
    grew: dict[str, int] = {}  # incident fingerprint -> keys behind when last told
    for r in rows:
        said = [json.loads(m) for t, m in told.get(r["fingerprint"], []) if t >= r["alerted_at"]]
        last = _severity_said(said[-1], r["fingerprint"]) if said else r["severity"]
        before = _keys_said(said, r["fingerprint"])
        now = keys_behind(r)
        if now is not None and before is not None and now > before:
            grew[r["fingerprint"]] = before  # an incident with more keys behind it
        if SEVERITY_RANK.get(r["severity"], 9) < SEVERITY_RANK.get(last, 9) or (
                r["fingerprint"] in grew):
            worse.append(r)
    messages = []
    for msg in _per_thread(worse, cfg, at, "worsened", links):
        # The same rise (or growth) is one notice, however often the cycle reruns.
        behind = msg.evidence.get("keys_behind") or {}
        parts = [f"{fp}@{msg.evidence['severities'][fp]}"
                 + (f"+{behind[fp]}" if fp in grew else "") for fp in msg.fingerprints]
        new_id = alert_id_for("worsened", msg.owner_id, msg.cause, msg.system_id, parts)
        messages.append(replace(msg, alert_id=new_id, summary=_growth(msg, grew) + msg.summary))
    return messages


def _severity_said(data: dict[str, Any], fp: str) -> str:
    return str((data.get("evidence") or {}).get("severities", {}).get(fp) or data["severity"])


def _keys_said(said: list[dict[str, Any]], fp: str) -> int | None:
    """Keys behind an incident in the last notice that counted them (None: never counted)."""
    counts = [(m.get("evidence") or {}).get("keys_behind", {}).get(fp) for m in said]
    known = [int(c) for c in counts if c is not None]
    return known[-1] if known else None


def _growth(msg: AlertMessage, grew: dict[str, int]) -> str:
    behind = msg.evidence.get("keys_behind") or {}
    counts = [(behind[fp], was) for fp, was in grew.items() if fp in behind]
    if not counts:
        return ""
    now, was = sum(c for c, _ in counts), sum(w for _, w in counts)
    return f"{now} SKUs behind the master now, {was} when last told. "


def _escalated(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime, links: dict[str, str]
) -> list[AlertMessage]:
    due = at - timedelta(minutes=cfg.routing.escalate_after_minutes)
    rows = exception_rows(con, "status = 'open' and alerted_at is not null and alerted_at <= ?",
                          [due])
    done = notices(con, ("escalated",), [r["fingerprint"] for r in rows])
    owed = [
        r for r in rows
        if _escalate_to(r, cfg) is not None
        and not any(t >= r["alerted_at"] for t, _ in done.get(r["fingerprint"], []))
    ]
    return build_messages(owed, cfg, at, "escalated", **links)


def _escalate_to(row: Row, cfg: StockdriftConfig) -> str | None:
    item = RouteInput(row["cause"], row.get("system_id"), row.get("canonical_location"),
                      row["severity"], row.get("canonical_sku"))
    try:
        return route(item, cfg).escalate_to
    except KeyError:
        return None


def _reminders(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime, links: dict[str, str],
    skip: set[str],
) -> list[AlertMessage]:
    every = timedelta(minutes=cfg.routing.reminder_every_minutes)
    rows = exception_rows(con, "status = 'open' and alerted_at is not null and alerted_at <= ?",
                          [at - every])
    told = notices(con, ("reminder", "worsened"), [r["fingerprint"] for r in rows])
    owed = []
    for r in rows:
        last = max([r["alerted_at"], *(t for t, _ in told.get(r["fingerprint"], []))])
        if last + every <= at and r["fingerprint"] not in skip:
            owed.append(r)
    return _per_thread(owed, cfg, at, "reminder", links)


def _digests(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime, links: dict[str, str]
) -> list[AlertMessage]:
    severities = list(cfg.routing.digest_severities)
    if at.hour < cfg.routing.digest_hour_utc or not severities:
        return []
    rows = exception_rows(
        con, f"status = 'open' and alerted_at is null and severity in "
             f"({','.join('?' * len(severities))})", severities)
    messages = []
    for msg in build_messages(rows, cfg, at, "digest", **links):
        # One digest per owner per day: the id is the owner and the date, nothing else.
        new_id = daily_id("digest", msg.owner_id, at)
        messages.append(replace(msg, alert_id=new_id))
    present = {r[0] for r in con.execute(
        "select alert_id from ops.alert_outbox where kind = 'digest' and created_at >= ?",
        [at - timedelta(days=1)]).fetchall()}
    return [m for m in messages if m.alert_id not in present]


def daily_id(kind: str, owner: str, at: datetime) -> str:
    return hashlib.sha1(f"{kind}|{owner}|{at.date().isoformat()}".encode()).hexdigest()[:16]
