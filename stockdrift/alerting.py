"""Alert stage: turn queue changes into grouped messages, write them to the outbox, deliver,
then let the alert path check itself.

Order matters for the no-loss guarantee: messages are committed to `ops.alert_outbox`
(and the exceptions marked as alerted) in one transaction *before* any send; delivery then
drains the outbox, so a crash anywhere leaves either nothing written or a pending row that
the next run sends (see alerts/README.md for the exact guarantee).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
from rich.console import Console

from alerts.deliver import deliver_pending
from alerts.followups import plan_notifications
from alerts.outbox import enqueue
from alerts.senders import Sender, SlackSender, build_sender
from alerts.watchdog import CAUSE as DELIVERY_FAILED
from alerts.watchdog import delivery_outcome, heartbeat
from stockdrift.clock import to_naive_utc
from stockdrift.config import StockdriftConfig
from stockdrift.queue import apply_outcomes
from stockdrift.warehouse import open_warehouse


@dataclass
class AlertCycleResult:
    enqueued: int
    sent: int
    failed: int
    errors: list[str] = field(default_factory=list)
    sink: str = "file"
    pending: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)  # enqueued this cycle
    delivery_problems: list[str] = field(default_factory=list)  # open alert_delivery_failed

    @property
    def healthy(self) -> bool:
        """No owner is cut off: what the `alert_delivery_healthy` check reports."""
        return not self.delivery_problems


def alert_cycle(
    cfg: StockdriftConfig,
    cycle_at: datetime,
    *,
    run_url: str = "",
    console: Console | None = None,
    sender: Sender | None = None,
) -> AlertCycleResult:
    at = to_naive_utc(cycle_at) if cycle_at.tzinfo else cycle_at
    report_url = cfg.slack.report_url or str((Path(cfg.out_dir) / "report.html").resolve())
    sender = sender or build_sender(cfg, console)
    with open_warehouse(cfg.warehouse_path) as con:
        messages = plan_notifications(con, cfg, at, report_url, run_url)
        beat = heartbeat(con, cfg, at, report_url)
        messages += [beat] if beat is not None else []
        # enqueue commits the messages and marks their exceptions alerted in one transaction.
        count = enqueue(con, messages, at)
        report = deliver_pending(con, sender, at, cfg.slack.max_attempts)
        # The alert path watches itself: owners cut off become exceptions now, and their
        # alert (to the default owner) goes out in this same cycle, as does the notice
        # that an owner is reachable again. Re-planning only finds what is new: everything
        # planned above is in the outbox now.
        changes = apply_outcomes(con, [delivery_outcome(con, cfg.slack.max_attempts)], at, cfg)
        if changes.newly_alertable or changes.resolved:
            own = plan_notifications(con, cfg, at, report_url, run_url)
            count += enqueue(con, own, at)
            messages += own
            extra = deliver_pending(con, sender, at, cfg.slack.max_attempts,
                                    only=[m.alert_id for m in own])
            report.sent += extra.sent
            report.failed += extra.failed
            report.errors += extra.errors
        return AlertCycleResult(
            enqueued=count,
            sent=report.sent,
            failed=report.failed,
            errors=list(report.errors),
            sink="slack" if isinstance(sender, SlackSender) else "file",
            pending=_count(con, "select count(*) from ops.alert_outbox "
                                "where status in ('pending', 'failed')"),
            by_kind=dict(Counter(m.kind for m in messages)),
            delivery_problems=_delivery_problems(con),
        )


def _delivery_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select title from ops.exceptions where cause = ? and status <> 'resolved' "
        "order by first_seen_at", [DELIVERY_FAILED]).fetchall()
    return [str(r[0]) for r in rows]


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
