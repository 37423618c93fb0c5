from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from alert_fixtures import CYCLE_AT, insert_exceptions
from rich.console import Console

from alerts import outbox
from alerts.deliver import deliver_pending
from alerts.grouping import build_messages
from alerts.model import AlertMessage
from alerts.senders import Delivery, DeliveryError, FileSender
from stockdrift.config import StockdriftConfig

RowFactory = Callable[..., dict[str, Any]]
LATER = datetime(2024, 5, 1, 12, 1)


def _messages(cfg: StockdriftConfig, rows: list[dict[str, Any]]) -> list[AlertMessage]:
    return build_messages(rows, cfg, CYCLE_AT)


def test_enqueue_is_idempotent_and_records_alerted(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory
) -> None:
    rows = [row("fp1"), row("fp2", sku="SD-1002"), row("fp3", cause="stale_system",
                                                       owner_id="data-team", sku=None)]
    insert_exceptions(con, rows)
    messages = _messages(cfg, rows)
    assert outbox.enqueue(con, messages, CYCLE_AT) == 2
    assert outbox.enqueue(con, _messages(cfg, rows), LATER) == 0  # rerun of the same cycle
    assert outbox.enqueue(con, [], CYCLE_AT) == 0
    assert [m.alert_id for m in outbox.pending(con)] == sorted(m.alert_id for m in messages)
    assert outbox.pending(con)[0] == next(m for m in messages
                                         if m.alert_id == outbox.pending(con)[0].alert_id)
    stamped = dict(con.execute("select fingerprint, alert_id from ops.exceptions").fetchall())
    by_fp = {fp: m.alert_id for m in messages for fp in m.fingerprints}
    assert stamped == by_fp


def test_mark_failed_keeps_pending_until_max_attempts(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory
) -> None:
    [msg] = _messages(cfg, [row("fp1")])
    outbox.enqueue(con, [msg], CYCLE_AT)
    statuses = [outbox.mark_failed(con, msg.alert_id, "boom", LATER, max_attempts=3)
                for _ in range(3)]
    assert statuses == ["pending", "pending", "failed"]
    attempts, status, error = con.execute(
        "select attempts, status, last_error from ops.alert_outbox").fetchone() or ()
    assert (attempts, status) == (3, "failed")
    assert error == "2024-05-01 12:01:00: boom"
    # Failed = attempts exhausted (the owner becomes alert_delivery_failed), still retried.
    assert [m.alert_id for m in outbox.pending(con)] == [msg.alert_id]


def test_mark_sent_and_thread_lookup(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory
) -> None:
    [msg] = _messages(cfg, [row("fp1")])
    outbox.enqueue(con, [msg], CYCLE_AT)
    assert outbox.thread_for(con, msg.alert_id) is None
    outbox.mark_sent(con, msg.alert_id, "C0ECOMM001", "1714564800.000100", LATER)
    ref = outbox.thread_for(con, msg.alert_id)
    assert ref == outbox.ThreadRef(msg.alert_id, "ecommerce", "C0ECOMM001", "1714564800.000100",
                                   msg)
    assert outbox.pending(con) == []


def test_deliver_never_drops_a_row_on_error(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory
) -> None:
    messages = _messages(cfg, [row("fp1"), row("fp2", system_id="shipbob",
                                                owner_id="inventory-ops")])
    outbox.enqueue(con, messages, CYCLE_AT)

    class Flaky:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def send(self, msg: AlertMessage, thread: Any = None) -> Delivery:
            if msg.owner_id == "ecommerce":
                raise DeliveryError("nope for ecommerce in C0ECOMM001", msg.owner_id,
                                    msg.slack_target, "channel_not_found")
            if msg.owner_id == "inventory-ops" and not self.sent:
                self.sent.append(msg.alert_id)
                raise RuntimeError("renderer bug")
            return Delivery("C0INVOPS01", "1.0")

        def find_delivered(self, msg: AlertMessage, since: datetime,
                           thread: Any = None) -> Delivery | None:
            return None

    flaky = Flaky()
    report = deliver_pending(con, flaky, LATER)
    assert (report.sent, report.failed) == (0, 2)
    assert any("renderer bug" in e for e in report.errors)
    assert len(outbox.pending(con)) == 2
    report = deliver_pending(con, flaky, LATER)
    assert (report.sent, report.failed) == (1, 1)
    rows = con.execute("select owner_id, status, attempts from ops.alert_outbox "
                       "order by owner_id").fetchall()
    assert rows == [("ecommerce", "pending", 2), ("inventory-ops", "sent", 2)]


def test_file_sender_writes_jsonl_and_panel(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, tmp_path: Path
) -> None:
    rows = [row("fp1", sku="[bold]<!channel>[/bold]")]
    outbox.enqueue(con, _messages(cfg, rows), CYCLE_AT)
    buffer = io.StringIO()
    sender = FileSender(tmp_path / "out" / "alerts.jsonl", Console(file=buffer, width=200))
    report = deliver_pending(con, sender, LATER)
    assert (report.sent, report.failed) == (1, 0)
    [line] = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["owner_id"] == "ecommerce" and record["target"] == "C0ECOMM001"
    assert record["payload"]["blocks"][0]["type"] == "header"
    assert "[bold]<!channel>[/bold]" in buffer.getvalue()  # rich markup not interpreted
    assert con.execute("select delivered_to, status from ops.alert_outbox").fetchone() == (
        "file", "sent")


def test_file_sender_crash_between_write_and_mark_is_not_doubled(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, tmp_path: Path
) -> None:
    [msg] = _messages(cfg, [row("fp1")])
    outbox.enqueue(con, [msg], CYCLE_AT)
    sender = FileSender(tmp_path / "alerts.jsonl", Console(file=io.StringIO()))
    outbox.begin_attempt(con, msg.alert_id)
    sender.send(msg)  # ...and the process dies before mark_sent
    report = deliver_pending(con, sender, LATER)
    assert (report.sent, report.recovered) == (1, 1)
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 1
