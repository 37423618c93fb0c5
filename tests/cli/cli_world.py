"""A small exception queue in a real warehouse, and the config file the CLI reads.

The warehouse runs on a simulated world in 2020 (as the sandbox does: each cycle is recorded
as finished at its own cycle time, the frozen clock's trace), so any age or snooze time
computed from the wall clock shows up as years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from expectations.findings import Finding, Scope, SuiteOutcome
from stockdrift import queue
from stockdrift.clock import to_naive_utc
from stockdrift.config import StockdriftConfig, parse_config
from stockdrift.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
SIM_T0 = datetime(2020, 3, 2, 14, 0, tzinfo=UTC)  # the simulated world's first cycle
DRIFT = Scope(causes=frozenset({"oversell_risk", "sync_lag_breach"}))


def oversell(sku: str, system: str = "shopify", location: str = "EAST-DC") -> Finding:
    return Finding(
        "oversell_risk", system, sku, location, None, "high", 10.0,
        f"{system} shows more for {sku} than the master can promise at {location}",
        "An order in flight was not pushed.", "Compare the channel with NetSuite.",
        {"observed_qty": 12, "expected_qty": 4, "variance_units": 8,
         "drift_since": "2020-03-02T13:40:00",
         "observed": {"system": system, "external_sku": sku.lower(),
                      "snapshot_id": "snap-0001"}},
    )


@dataclass
class QueueWorld:
    config: str
    cfg: StockdriftConfig
    old: str  # fingerprint of the exception first seen at the first cycle
    new: str  # ... first seen an hour later
    last_cycle: datetime


def record_cycles(cfg: StockdriftConfig, times: list[datetime], frozen: bool = True) -> None:
    """ops.cycles rows; a frozen (simulated) clock finishes a cycle at its own cycle time."""
    with open_warehouse(cfg.warehouse_path) as con:
        for at in times:
            done = at if frozen else at + timedelta(seconds=9)
            con.execute("insert into ops.cycles values (?, ?, ?, ?, 'succeeded', null)",
                        [at.isoformat(), to_naive_utc(at), to_naive_utc(at),
                         to_naive_utc(done)])


def build_world(tmp_path: Path, start: datetime = SIM_T0, frozen: bool = True) -> QueueWorld:
    data = yaml.safe_load((ROOT / "stockdrift.example.yml").read_text(encoding="utf-8"))
    data.update(warehouse_path=str(tmp_path / "wh.duckdb"), out_dir=str(tmp_path))
    cfg = parse_config(data)
    path = tmp_path / "stockdrift.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    first, second = oversell("SD-OLD"), oversell("SD-NEW", "shipbob", "CICERO-3PL")
    last = start + timedelta(minutes=90)
    with open_warehouse(cfg.warehouse_path) as con:
        for at, found in ((start, [first]), (start + timedelta(minutes=60), [first, second]),
                          (last, [first, second])):
            queue.apply_outcomes(con, [SuiteOutcome("variance", False, 2, len(found), found,
                                                    DRIFT)], at, cfg)
    record_cycles(cfg, [start, start + timedelta(minutes=60), last], frozen=frozen)
    return QueueWorld(str(path), cfg, first.fingerprint, second.fingerprint, last)

