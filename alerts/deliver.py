"""Drain the outbox: send every pending alert in order and record the outcome.

A row is never dropped: a failure is recorded on the row (attempts, last_error) and it stays
pending until `max_attempts`. Before re-sending a row whose earlier attempt may have gone
out (attempts > 0, no ts), the sender is asked whether it was already delivered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from alerts import outbox
from alerts.senders import Delivery, DeliveryError, Sender

log = logging.getLogger("stockdrift.alerts")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # attempts that failed this run (the rows stay pending until max_attempts)
    errors: list[str] = field(default_factory=list)
    recovered: int = 0  # already delivered before a crash; marked sent without re-sending


def deliver_pending(
    con: duckdb.DuckDBPyConnection, sender: Sender, at: datetime,
    max_attempts: int = outbox.MAX_ATTEMPTS,
) -> DeliveryReport:
    report = DeliveryReport()
    for row in outbox.pending_rows(con):
        msg = row.message
        thread = outbox.thread_for(con, msg.thread_of) if msg.thread_of else None
        try:
            delivery = _already_delivered(sender, row, thread)
            if delivery is not None:
                report.recovered += 1
            else:
                outbox.begin_attempt(con, msg.alert_id)  # committed before the send
                delivery = sender.send(msg, thread)
        except Exception as exc:  # one bad alert must not block the others
            if not isinstance(exc, DeliveryError):
                exc = DeliveryError(f"alert {msg.alert_id} for owner '{msg.owner_id}' in channel "
                                    f"{msg.slack_target}: {type(exc).__name__}: {exc}",
                                    msg.owner_id, msg.slack_target, "internal")
            status = outbox.mark_failed(con, msg.alert_id, str(exc), at, max_attempts, counted=True)
            report.failed += 1
            report.errors.append(str(exc) if status == "pending" else f"{exc} (gave up: failed)")
            log.warning("alert %s not delivered: %s", msg.alert_id, exc)
            continue
        outbox.mark_sent(con, msg.alert_id, delivery.delivered_to, delivery.ts, at)
        report.sent += 1
    return report


def _already_delivered(
    sender: Sender, row: outbox.OutboxRow, thread: outbox.ThreadRef | None
) -> Delivery | None:
    if row.attempts == 0 or row.slack_ts is not None:
        return None
    try:
        return sender.find_delivered(row.message, row.created_at, thread)
    except DeliveryError as exc:
        # Cannot check (e.g. missing history scope): fall back to at-least-once.
        log.warning("alert %s: cannot check for an earlier delivery: %s", row.message.alert_id, exc)
        return None
