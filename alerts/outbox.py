"""The alert outbox (`ops.alert_outbox`): every alert is committed here before any send.

- `enqueue` inserts messages, ignoring alert_ids already present (a rerun of the same
  cycle builds the same ids, so it enqueues nothing twice), and in the same transaction
  stamps `ops.exceptions.alerted_at/alert_id` for opened alerts.
- `begin_attempt` counts an attempt *before* the send is made, so after a crash between
  the send and `mark_sent` the row shows attempts > 0 and no ts: the deliverer then asks
  the sender whether it already went out before sending again.
- `mark_failed` keeps the row pending until `max_attempts`, then marks it failed (its owner
  becomes an `alert_delivery_failed` exception); failed rows are still retried every cycle
  and rows are never deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb

from alerts.model import AlertMessage
from stockdrift.clock import to_naive_utc

MAX_ATTEMPTS = 5
_KIND_ORDER = (
    "case kind when 'opened' then 0 when 'worsened' then 1 when 'escalated' then 2 "
    "when 'reminder' then 3 when 'digest' then 4 else 5 end"
)
# `failed` = attempts exhausted: its owner gets an alert_delivery_failed exception, and the
# row is still retried every cycle, so it is delivered once Slack or the config is fixed.
UNSENT = "status in ('pending', 'failed')"


@dataclass(frozen=True)
class OutboxRow:
    message: AlertMessage
    created_at: datetime
    attempts: int
    status: str
    slack_ts: str | None
    delivered_to: str | None
    last_error: str | None


@dataclass(frozen=True)
class ThreadRef:
    """Where an earlier alert landed, so a follow-up can reply in its thread."""

    alert_id: str
    owner_id: str
    channel: str
    ts: str
    message: AlertMessage | None = None  # the parent, so a resolve can edit it


def enqueue(
    con: duckdb.DuckDBPyConnection, messages: Sequence[AlertMessage], created_at: datetime
) -> int:
    """Insert new messages as pending; returns how many were new (0 on a rerun)."""
    at = _naive(created_at)
    ids = [m.alert_id for m in messages]
    if not ids:
        return 0
    con.begin()
    try:
        present = {
            r[0] for r in con.execute(
                "select alert_id from ops.alert_outbox where alert_id in "
                f"({','.join('?' * len(ids))})", ids,
            ).fetchall()
        }
        new = [m for m in _unique(messages) if m.alert_id not in present]
        for m in new:
            con.execute(
                "insert into ops.alert_outbox (alert_id, created_at, kind, owner_id, "
                "slack_target, fingerprints, message, status, attempts) "
                "values (?, ?, ?, ?, ?, ?, ?, 'pending', 0)",
                [m.alert_id, at, m.kind, m.owner_id, m.slack_target,
                 json.dumps(m.fingerprints), m.to_json()],
            )
        for m in new:
            if m.kind == "opened":
                _record_alerted(con, m.fingerprints, m.alert_id, at)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return len(new)


def pending_rows(
    con: duckdb.DuckDBPyConnection, only: Sequence[str] | None = None
) -> list[OutboxRow]:
    """Unsent rows (pending or failed) in delivery order: oldest first, openings before their
    follow-ups. `only` restricts to these alert ids."""
    where, params = UNSENT, []
    if only is not None:
        if not only:
            return []
        where += f" and alert_id in ({','.join('?' * len(only))})"
        params = list(only)
    rows = con.execute(
        "select message, created_at, attempts, status, slack_ts, delivered_to, last_error "
        f"from ops.alert_outbox where {where} order by created_at, {_KIND_ORDER}, alert_id",
        params,
    ).fetchall()
    return [
        OutboxRow(AlertMessage.from_json(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows
    ]


def pending(con: duckdb.DuckDBPyConnection) -> list[AlertMessage]:
    return [row.message for row in pending_rows(con)]


def begin_attempt(con: duckdb.DuckDBPyConnection, alert_id: str) -> int:
    """Count an attempt before sending (committed), returning the attempt number."""
    row = con.execute(
        "update ops.alert_outbox set attempts = attempts + 1 where alert_id = ? "
        "returning attempts", [alert_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"alert {alert_id} is not in ops.alert_outbox")
    return int(row[0])


def mark_sent(
    con: duckdb.DuckDBPyConnection, alert_id: str, delivered_to: str, slack_ts: str | None,
    at: datetime,
) -> None:
    con.execute(
        "update ops.alert_outbox set status = 'sent', sent_at = ?, delivered_to = ?, "
        "slack_ts = ?, last_error = null where alert_id = ?",
        [_naive(at), delivered_to, slack_ts, alert_id],
    )


def mark_failed(
    con: duckdb.DuckDBPyConnection, alert_id: str, error: str, at: datetime,
    max_attempts: int = MAX_ATTEMPTS, counted: bool = False,
) -> str:
    """Record a failed attempt; the row stays pending until `max_attempts`. Returns status.

    Increments attempts unless the attempt was already counted by `begin_attempt`
    (`counted=True`, what `deliver_pending` does).
    """
    step = 0 if counted else 1
    row = con.execute(
        "update ops.alert_outbox set attempts = attempts + ?, "
        "last_error = ?, status = case when attempts + ? >= ? then 'failed' else status end "
        "where alert_id = ? returning status",
        [step, f"{_naive(at).isoformat(sep=' ')}: {error}", step, max_attempts, alert_id],
    ).fetchone()
    if row is None:
        raise KeyError(f"alert {alert_id} is not in ops.alert_outbox")
    return str(row[0])


def record_alerted(
    con: duckdb.DuckDBPyConnection, fingerprints: Iterable[str], alert_id: str, at: datetime
) -> None:
    """Stamp the exceptions an opened alert covers, so later updates thread under it."""
    _record_alerted(con, list(fingerprints), alert_id, _naive(at))


def thread_for(con: duckdb.DuckDBPyConnection, alert_id: str) -> ThreadRef | None:
    """Where a sent alert landed (channel + ts), or None if not sent to Slack yet."""
    row = con.execute(
        "select owner_id, delivered_to, slack_ts, message from ops.alert_outbox "
        "where alert_id = ? and status = 'sent' and slack_ts is not null",
        [alert_id],
    ).fetchone()
    if row is None:
        return None
    return ThreadRef(alert_id, row[0], row[1], row[2], AlertMessage.from_json(row[3]))


def _record_alerted(
    con: duckdb.DuckDBPyConnection, fingerprints: list[str], alert_id: str, at: datetime
) -> None:
    if not fingerprints:
        return
    con.execute(
        "update ops.exceptions set alerted_at = ?, alert_id = ? "
        f"where fingerprint in ({','.join('?' * len(fingerprints))}) "
        "and alert_id is distinct from ?",
        [at, alert_id, *fingerprints, alert_id],
    )


def _unique(messages: Iterable[AlertMessage]) -> list[AlertMessage]:
    seen: dict[str, AlertMessage] = {}
    for m in messages:
        seen.setdefault(m.alert_id, m)
    return list(seen.values())


def _naive(at: datetime) -> datetime:
    return to_naive_utc(at) if at.tzinfo else at
