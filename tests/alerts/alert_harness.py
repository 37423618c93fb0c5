"""A whole alert stage against the fake Slack: real queue, real outbox, real slack-sdk, and one
injected clock that drives cycles, Slack's ts and outages (unique module name)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from alerts.senders import SlackSender
from expectations.findings import Finding, Scope, SuiteOutcome
from sandbox.slack_api import FakeSlack
from stockdrift import queue
from stockdrift.alerting import AlertCycleResult, alert_cycle
from stockdrift.clock import ManualClock, to_naive_utc
from stockdrift.config import StockdriftConfig, parse_config
from stockdrift.warehouse import connect, ensure_schema

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # after the example's digest/heartbeat hour
DRIFT = Scope(causes=frozenset({"oversell_risk", "sync_lag_breach"}))


def oversell(sku: str, severity: str = "high", system: str = "shopify",
             location: str = "EAST-DC") -> Finding:
    return Finding("oversell_risk", system, sku, location, None, severity, 10.0,
                   f"{system} shows more for {sku}", "An order in flight was not pushed.",
                   "Compare the channel with NetSuite.",
                   {"observed_qty": 12, "expected_qty": 4, "variance_units": 8})


class Harness:
    def __init__(self, tmp: Path, fake: FakeSlack, clock: ManualClock, /,
                 **settings: Any) -> None:
        data = yaml.safe_load((ROOT / "stockdrift.example.yml").read_text())
        data.update(warehouse_path=str(tmp / "wh.duckdb"), out_dir=str(tmp))
        for section, values in settings.items():
            data[section].update(values)
        self.cfg: StockdriftConfig = parse_config(data)
        self.slack, self.clock = fake, clock
        self.sender = SlackSender(fake.token, fake.base_url, self.cfg, pace_seconds=0,
                                  server_error_backoff=0.01)

    def cycle(self, findings: list[Finding] | None = None, minutes: int = 5,
              record: bool = True) -> AlertCycleResult:
        """Advance the clock, fold findings into the queue (if given), run the alert stage."""
        at = self.clock.advance(timedelta(minutes=minutes))
        if findings is not None:
            with self.con() as con:
                queue.apply_outcomes(con, [SuiteOutcome("variance", not findings, 1,
                                                        len(findings), findings, DRIFT)],
                                     at, self.cfg)
                if record:
                    con.execute("insert into ops.cycles values (?, ?, ?, ?, 'succeeded', null)",
                                [at.isoformat(), to_naive_utc(at), to_naive_utc(at),
                                 to_naive_utc(at)])
        return alert_cycle(self.cfg, at, sender=self.sender)

    def con(self) -> duckdb.DuckDBPyConnection:
        con = connect(self.cfg.warehouse_path)
        ensure_schema(con)
        return con

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.con() as con:
            return con.execute(sql, params or []).fetchall()

    def posted(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Messages in Slack (top-level and replies), optionally of one alert kind."""
        ids = {r[0]: r[1] for r in self.query("select alert_id, kind from ops.alert_outbox")}
        return [m for m in self.slack.messages
                if kind is None or ids.get(_alert_id(m)) == kind]


def _alert_id(message: dict[str, Any]) -> str | None:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("alert_id")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def slack(clock: ManualClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock, users={"lead@example.com": "U0LEAD0001"}) as server:
        yield server
