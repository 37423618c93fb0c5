"""Drain the outbox: send every unsent alert in order and record the outcome.

A row is never dropped: a failure is recorded on the row (attempts, last_error) and the row
is retried next cycle, also after `max_attempts` (then it is `failed` and its owner gets an
`alert_delivery_failed` exception, see `alerts/watchdog.py`). Before re-sending a row whose
earlier attempt may have gone out (attempts > 0, no ts), the sender is asked whether it was
already delivered.

When Slack itself is down or refuses the token, the rest of the outbox waits for the next
cycle instead of each row burning an attempt against the same outage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from alerts import outbox
from alerts.senders import WORKSPACE_ERRORS, Delivery, DeliveryError, Sender

log = logging.getLogger("stockdrift.alerts")


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # attempts that failed this run (the rows stay queued)
    errors: list[str] = field(default_factory=list)
    recovered: int = 0  # already delivered before a crash; marked sent without re-sending
    deferred: int = 0  # not tried this run because Slack as a whole was failing


def deliver_pending(
    con: duckdb.DuckDBPyConnection, sender: Sender, at: datetime,
    max_attempts: int = outbox.MAX_ATTEMPTS, only: Sequence[str] | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    rows = outbox.pending_rows(con, only)
    for i, row in enumerate(rows):
        msg = row.message
        thread = outbox.thread_for(con, msg.thread_of) if msg.thread_of else None
        counted = False
        try:
            delivery = _already_delivered(sender, row, thread)
            if delivery is not None:
                report.recovered += 1
            else:
                outbox.begin_attempt(con, msg.alert_id)  # committed before the send
                counted = True
                delivery = sender.send(msg, thread)
        except Exception as exc:  # one bad alert must not block the others
            error = _as_delivery_error(exc, msg.alert_id, msg.owner_id, msg.slack_target)
            status = outbox.mark_failed(con, msg.alert_id, f"{error} [{error.error}]", at,
                                        max_attempts, counted=counted)
            report.failed += 1
            report.errors.append(str(error) if status == "pending"
                                 else f"{error} (attempts exhausted: alert_delivery_failed)")
            log.warning("alert %s not delivered: %s", msg.alert_id, error)
            if error.error in WORKSPACE_ERRORS:
                report.deferred = len(rows) - i - 1
                break
            continue
        outbox.mark_sent(con, msg.alert_id, delivery.delivered_to, delivery.ts, at)
        report.sent += 1
    return report


def _as_delivery_error(exc: Exception, alert_id: str, owner: str, target: str) -> DeliveryError:
    if isinstance(exc, DeliveryError):
        return exc
    return DeliveryError(f"alert {alert_id} for owner '{owner}' in channel {target}: "
                         f"{type(exc).__name__}: {exc}", owner, target, "internal")


def _already_delivered(
    sender: Sender, row: outbox.OutboxRow, thread: outbox.ThreadRef | None
) -> Delivery | None:
    if row.attempts == 0 or row.slack_ts is not None:
        return None
    try:
        return sender.find_delivered(row.message, row.created_at, thread)
    except DeliveryError as exc:
        if exc.error in WORKSPACE_ERRORS:
            raise  # Slack is down: sending now could not work either, and might double
        # Cannot check (e.g. missing history scope): fall back to at-least-once.
        log.warning("alert %s: cannot check for an earlier delivery: %s", row.message.alert_id, exc)
        return None
