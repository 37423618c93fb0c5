"""Alert stage: turn queue changes into grouped messages, write them to the outbox, deliver.

Order matters for the no-loss guarantee: messages are committed to `ops.alert_outbox`
(and the exceptions marked as alerted) in one transaction *before* any send; delivery then
drains the outbox, so a crash anywhere leaves either nothing written or a pending row that
the next run sends (see alerts/README.md for the exact guarantee).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console

from alerts.deliver import deliver_pending
from alerts.grouping import build_messages
from alerts.outbox import enqueue
from alerts.senders import Sender, SlackSender, build_sender
from stockdrift.clock import to_naive_utc
from stockdrift.config import StockdriftConfig
from stockdrift.warehouse import open_warehouse


@dataclass
class AlertCycleResult:
    enqueued: int
    sent: int
    failed: int
    errors: list[str] = field(default_factory=list)
    sink: str = "file"
    pending: int = 0


def _rows(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(f"select * from ops.exceptions where {where}", params)
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        rec = dict(zip(names, row, strict=True))
        if isinstance(rec.get("evidence"), str):
            rec["evidence"] = json.loads(rec["evidence"])
        out.append(rec)
    return out


def alert_cycle(
    cfg: StockdriftConfig,
    cycle_at: datetime,
    *,
    run_url: str = "",
    console: Console | None = None,
    sender: Sender | None = None,
) -> AlertCycleResult:
    at = to_naive_utc(cycle_at)
    report_url = cfg.slack.report_url or str((Path(cfg.out_dir) / "report.html").resolve())
    with open_warehouse(cfg.warehouse_path) as con:
        opened = _rows(con, "status = 'open' and alerted_at is null", [])
        resolved = _rows(
            con, "status = 'resolved' and resolved_at = ? and alerted_at is not null", [at]
        )
        messages = build_messages(
            opened, cfg, cycle_at, kind="opened", report_url=report_url, run_url=run_url
        )
        messages += build_messages(
            resolved, cfg, cycle_at, kind="resolved", report_url=report_url, run_url=run_url
        )
        # enqueue commits the messages and marks their exceptions alerted in one transaction.
        count = enqueue(con, messages, at)
        sender = sender or build_sender(cfg, console)
        report = deliver_pending(con, sender, at)
        pending = con.execute(
            "select count(*) from ops.alert_outbox where status = 'pending'"
        ).fetchone()
    return AlertCycleResult(
        enqueued=count,
        sent=report.sent,
        failed=report.failed,
        errors=list(report.errors),
        sink="slack" if isinstance(sender, SlackSender) else "file",
        pending=int(pending[0]) if pending else 0,
    )
