"""The exception queue: lifecycle of every exception and the log of each transition.

open -> acknowledged | snoozed (until a time) -> resolved (by the data or by a person);
a resolved exception that fails again is reopened. Every transition is written to
`ops.exception_events` with who, when and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from alerts.routing import RouteInput, route
from expectations.findings import Finding, SuiteOutcome
from stockdrift.clock import to_naive_utc
from stockdrift.config import StockdriftConfig

SYSTEM_ACTOR = "stockdrift"
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}
STATUSES: tuple[str, ...] = ("open", "acknowledged", "snoozed", "resolved")
# what `list_exceptions(status=...)` accepts: a status, `active` (not resolved) or `all`
STATUS_FILTERS: tuple[str, ...] = (*STATUSES, "active", "all")
# A person's moves from each status. A resolved exception is not acknowledged or snoozed: it
# reopens (by itself when it fails again). Staying put is a no-op, never a logged event.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("acknowledged", "snoozed", "resolved"),
    "acknowledged": ("snoozed", "resolved", "open"),
    "snoozed": ("acknowledged", "resolved", "open"),
    "resolved": ("open",),
}


class PermissionDenied(PermissionError):
    pass


class InvalidTransition(ValueError):
    """A decision the lifecycle does not allow from the exception's current status."""


@dataclass(frozen=True)
class Decision:
    fingerprint: str
    from_status: str
    to_status: str
    changed: bool  # False: it already had that status; nothing was written or logged


@dataclass
class QueueChanges:
    opened: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    worsened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    still_open: list[str] = field(default_factory=list)

    @property
    def newly_alertable(self) -> list[str]:
        return self.opened + self.reopened


def _log(
    con: duckdb.DuckDBPyConnection,
    fp: str,
    at: datetime,
    old: str | None,
    new: str,
    actor: str,
    reason: str,
) -> None:
    con.execute(
        "insert into ops.exception_events values (?, ?, ?, ?, ?, ?)",
        [fp, at, old, new, actor, reason],
    )


def _insert(con: duckdb.DuckDBPyConnection, f: Finding, owner: str, at: datetime) -> None:
    con.execute(
        """insert into ops.exceptions (fingerprint, cause, system_id, canonical_sku,
        canonical_location, external_id, owner_id, severity, severity_score, status,
        first_seen_at, last_seen_at, times_opened, title, probable_cause, suggested_check,
        evidence) values (?,?,?,?,?,?,?,?,?,'open',?,?,1,?,?,?,?)""",
        [
            f.fingerprint,
            f.cause,
            f.system_id,
            f.canonical_sku,
            f.canonical_location,
            f.external_id,
            owner,
            f.severity,
            f.severity_score,
            at,
            at,
            f.title,
            f.probable_cause,
            f.suggested_check,
            json.dumps(f.evidence, default=str),
        ],
    )


def _refresh(con: duckdb.DuckDBPyConnection, f: Finding, at: datetime) -> None:
    con.execute(
        """update ops.exceptions set last_seen_at = ?, severity = ?, severity_score = ?,
        title = ?, probable_cause = ?, suggested_check = ?, evidence = ?
        where fingerprint = ?""",
        [
            at,
            f.severity,
            f.severity_score,
            f.title,
            f.probable_cause,
            f.suggested_check,
            json.dumps(f.evidence, default=str),
            f.fingerprint,
        ],
    )


def apply_outcomes(
    con: duckdb.DuckDBPyConnection,
    outcomes: Iterable[SuiteOutcome],
    cycle_at: datetime,
    cfg: StockdriftConfig,
) -> QueueChanges:
    """Fold one cycle's findings into the queue, in one transaction."""
    at = to_naive_utc(cycle_at)
    outcomes = list(outcomes)
    findings = {f.fingerprint: f for o in outcomes for f in o.findings}
    existing = {
        r[0]: (r[1], r[2], r[3], r[4], r[5], r[6])
        for r in con.execute(
            "select fingerprint, status, severity, snoozed_until, cause, system_id, "
            "canonical_location from ops.exceptions"
        ).fetchall()
    }
    changes = QueueChanges()
    con.execute("begin transaction")
    try:
        for fp, f in findings.items():
            if fp not in existing:
                decision = route(
                    RouteInput(
                        cause=f.cause,
                        system_id=f.system_id,
                        location=f.canonical_location,
                        severity=f.severity,
                        sku=f.canonical_sku,
                    ),
                    cfg,
                )
                _insert(con, f, decision.owner_id, at)
                _log(con, fp, at, None, "open", SYSTEM_ACTOR, f"detected: {decision.reason}")
                changes.opened.append(fp)
                continue
            status, severity, snoozed_until = existing[fp][:3]
            _refresh(con, f, at)
            if status == "resolved":
                con.execute(
                    "update ops.exceptions set status='open', resolved_at=null, "
                    "times_opened = times_opened + 1, alerted_at=null where fingerprint=?",
                    [fp],
                )
                _log(con, fp, at, "resolved", "open", SYSTEM_ACTOR, "failed again after resolution")
                changes.reopened.append(fp)
            elif status == "snoozed" and snoozed_until is not None and snoozed_until <= at:
                con.execute(
                    "update ops.exceptions set status='open', snoozed_until=null "
                    "where fingerprint=?",
                    [fp],
                )
                _log(con, fp, at, "snoozed", "open", SYSTEM_ACTOR, "snooze expired, still failing")
                changes.still_open.append(fp)
            else:
                changes.still_open.append(fp)
                if SEVERITY_RANK.get(f.severity, 0) > SEVERITY_RANK.get(severity, 0):
                    changes.worsened.append(fp)
        _fold_into_incidents(con, findings.values(), at, changes)
        scopes = [o.scope for o in outcomes]
        for fp, (status, _sev, _snz, cause, system_id, location) in existing.items():
            if status == "resolved" or fp in findings:
                continue
            if any(s.covers(cause, system_id, location) for s in scopes):
                con.execute(
                    "update ops.exceptions set status='resolved', resolved_at=?, "
                    "snoozed_until=null where fingerprint=?",
                    [at, fp],
                )
                _log(
                    con,
                    fp,
                    at,
                    status,
                    "resolved",
                    SYSTEM_ACTOR,
                    "checks pass again: resolved by the data",
                )
                changes.resolved.append(fp)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return changes


PER_KEY_DRIFT = ("oversell_risk", "sync_lag_breach")


def _fold_into_incidents(con: duckdb.DuckDBPyConnection, findings: Iterable[Finding],
                         at: datetime, changes: QueueChanges) -> None:
    """One incident, not a flood: per-key drift exceptions at a system-location that is now a
    `sync_stopped` incident are closed into it (no 'resolved' notice: nothing was fixed)."""
    for incident in (f for f in findings if f.cause == "sync_stopped"):
        rows = con.execute(
            "select fingerprint, status from ops.exceptions where status <> 'resolved' "
            "and cause in (?, ?) and system_id = ? and canonical_location = ?",
            [*PER_KEY_DRIFT, incident.system_id, incident.canonical_location],
        ).fetchall()
        for fp, status in rows:
            con.execute("update ops.exceptions set status='resolved', resolved_at=?, "
                        "alerted_at=null where fingerprint=?", [at, fp])
            _log(con, fp, at, status, "resolved", SYSTEM_ACTOR,
                 f"grouped into sync_stopped incident {incident.fingerprint}")
            changes.resolved.append(fp)


def _require(
    con: duckdb.DuckDBPyConnection, fp: str, actor: str, cfg: StockdriftConfig
) -> tuple[str, str]:
    row = con.execute(
        "select fingerprint, status, owner_id from ops.exceptions where fingerprint like ?",
        [fp + "%"],
    ).fetchall()
    if not row:
        raise KeyError(f"no exception with fingerprint {fp!r}")
    if len(row) > 1:
        raise KeyError(f"fingerprint prefix {fp!r} is ambiguous ({len(row)} matches)")
    full, status, owner = row[0]
    if actor != owner and actor not in cfg.admins:
        raise PermissionDenied(
            f"{actor!r} may not act on {full}: it is owned by {owner!r}; only its owner or "
            f"an admin ({', '.join(cfg.admins) or 'none configured'}) may"
        )
    return str(full), str(status)


def transition(
    con: duckdb.DuckDBPyConnection,
    fp: str,
    to_status: str,
    actor: str,
    reason: str,
    at: datetime,
    cfg: StockdriftConfig,
    snoozed_until: datetime | None = None,
) -> Decision:
    """A person's decision: acknowledge, snooze (until a time) or resolve with a reason.
    A move `TRANSITIONS` does not allow raises `InvalidTransition`; asking for the status it
    already has changes and logs nothing (`Decision.changed` is False)."""
    if to_status not in TRANSITIONS:
        raise ValueError(f"unknown status {to_status!r}")
    if not reason.strip():
        raise ValueError("a reason is required for every decision")
    if to_status == "snoozed" and snoozed_until is None:
        raise ValueError("snooze needs an until time")
    full, status = _require(con, fp, actor, cfg)
    if status == to_status:
        return Decision(full, status, to_status, changed=False)
    if to_status not in TRANSITIONS[status]:
        raise InvalidTransition(_refusal(full, status, to_status))
    when = to_naive_utc(at)
    until = to_naive_utc(snoozed_until) if snoozed_until else None
    con.execute(
        "update ops.exceptions set status=?, snoozed_until=?, resolved_at=? where fingerprint=?",
        [to_status, until, when if to_status == "resolved" else None, full],
    )
    _log(con, full, when, status, to_status, actor, reason)
    return Decision(full, status, to_status, changed=True)


def _refusal(fp: str, status: str, to_status: str) -> str:
    allowed = TRANSITIONS[status]
    if status == "resolved":
        return (f"{fp} is resolved: it cannot be {to_status}; a resolved exception can only "
                "reopen (it does by itself when its check fails again)")
    return f"{fp} is {status}: it cannot be {to_status}; allowed: {', '.join(allowed)}"


def list_exceptions(
    con: duckdb.DuckDBPyConnection,
    *,
    status: str | None = "open",
    owner: str | None = None,
    system: str | None = None,
    cause: str | None = None,
    first_seen_before: datetime | None = None,
) -> list[dict[str, Any]]:
    """Exceptions by status (`active` = not resolved, `all`), owner, system, cause and age
    (`first_seen_before`: only those first seen at or before this time)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("owner_id", owner), ("system_id", system), ("cause", cause)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if first_seen_before is not None:
        clauses.append("first_seen_at <= ?")
        params.append(to_naive_utc(first_seen_before) if first_seen_before.tzinfo
                      else first_seen_before)
    if status == "active":
        clauses.append("status <> 'resolved'")
    elif status and status != "all":
        clauses.append("status = ?")
        params.append(status)
    where = f"where {' and '.join(clauses)}" if clauses else ""
    cur = con.execute(
        f"select * from ops.exceptions {where} order by severity_score desc, first_seen_at",
        params,
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
