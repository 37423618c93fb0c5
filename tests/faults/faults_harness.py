"""Shared pieces of the reliability suite: a sandbox deployment (world, vendor servers,
config, warehouse in a temp dir), whole cycles through `stockdrift.pipeline.run_cycle`, and
the ledger behind the summary table (faults tried, survived, rows lost, alerts lost or
doubled)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from extractors.landing import SnapshotResult, land_snapshot
from extractors.registry import build_connector
from sandbox.scenario import Scenario
from sandbox.serve import SANDBOX_TOKENS, SandboxServers
from sandbox.world import World
from stockdrift.clock import Clock, ManualClock
from stockdrift.config import StockdriftConfig, load_config
from stockdrift.pipeline import CycleOutcome, run_cycle

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
TOKEN_ENV = {"erp": "NETSUITE_TOKEN", "shopify": "SHOPIFY_ACCESS_TOKEN", "shipbob": "SHIPBOB_TOKEN"}
PAGE_SIZES = {"erp": "20", "shopify": "20", "shipbob": "10"}  # several pages per snapshot
QUIET_SCENARIO = Scenario(sync_stopped=False, oversell_risk=False, unmapped_sku=False)
FULL = os.environ.get("STOCKDRIFT_FAULTS_FULL") == "1"


class Sleeps(list[float]):
    """A connector's throttle waits, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass
class LedgerEntry:
    area: str
    case: str
    survived: bool
    rows_lost: int = 0
    alerts_lost: int = 0
    alerts_doubled: int = 0


LEDGER: list[LedgerEntry] = []


def record(area: str, case: str, survived: bool, rows_lost: int = 0, alerts_lost: int = 0,
           alerts_doubled: int = 0) -> None:
    LEDGER.append(LedgerEntry(area, case, survived, rows_lost, alerts_lost, alerts_doubled))


def write_config(out: Path, base_urls: dict[str, str], timeout: float = 1.0) -> Path:
    data: dict[str, Any] = yaml.safe_load((ROOT / "stockdrift.example.yml").read_text("utf-8"))
    data["warehouse_path"] = str(out / "stockdrift.duckdb")
    data["out_dir"] = str(out)
    data["systems"] = [s for s in data["systems"] if s["id"] in TOKEN_ENV]
    for system in data["systems"]:
        system["base_url"] = base_urls[system["id"]]
        system["timeout_seconds"] = timeout
        system.setdefault("options", {})["page_size"] = PAGE_SIZES[system["id"]]
    path = out / "stockdrift.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def set_tokens() -> None:
    for system_id, env in TOKEN_ENV.items():
        os.environ[env] = SANDBOX_TOKENS[system_id]
    os.environ.pop("SLACK_BOT_TOKEN", None)


def extract_without_waits(
    cfg: StockdriftConfig, system_id: str, cycle_at: datetime, clock: Clock
) -> SnapshotResult:
    """`pipeline.extract_system` with the vendor's Retry-After waits recorded, not slept."""
    from stockdrift.warehouse import open_warehouse

    system = cfg.system(system_id)
    with open_warehouse(cfg.warehouse_path) as con:
        connector = build_connector(system)
        connector._sleep = Sleeps()  # type: ignore[attr-defined]
        try:
            return land_snapshot(con, system, connector, cycle_at, clock)
        finally:
            close = getattr(connector, "close", None)
            if callable(close):
                close()


def dbt_build(cfg: StockdriftConfig) -> Callable[[str], object]:
    from dagster_project.defs.transform import run_dbt_build

    def build(cycle_at: str) -> object:
        os.environ["STOCKDRIFT_WAREHOUSE"] = str(Path(cfg.warehouse_path).resolve())
        return run_dbt_build(cycle_at)

    return build


@dataclass
class Deployment:
    """A running sandbox: world, vendor servers and a config pointing at them."""

    out: Path
    clock: ManualClock
    servers: SandboxServers
    config_path: Path
    cycle_no: int = 0
    outcomes: list[CycleOutcome] = field(default_factory=list)

    @property
    def cfg(self) -> StockdriftConfig:
        return load_config(self.config_path)

    @property
    def warehouse(self) -> str:
        return self.cfg.warehouse_path

    def next_cycle_at(self) -> datetime:
        return START + timedelta(minutes=5 * (self.cycle_no + 1))

    def cycle(self, **kwargs: Any) -> CycleOutcome:
        self.cycle_no += 1
        at = START + timedelta(minutes=5 * self.cycle_no)
        self.clock.set(at)
        cfg = self.cfg
        outcome = run_cycle(cfg, at, self.clock, build=dbt_build(cfg),
                            extract=extract_without_waits, **kwargs)
        self.outcomes.append(outcome)
        return outcome

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(self.warehouse)  # same config as dbt's open connection
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


def start_deployment(out: Path, seed: int = 7) -> tuple[Deployment, SandboxServers]:
    clock = ManualClock(START)
    world = World(seed=seed, start=START, scenario=QUIET_SCENARIO)
    servers = SandboxServers(world, clock).start()
    set_tokens()
    config_path = write_config(out, servers.base_urls)
    return Deployment(out, clock, servers, config_path), servers


def rows_lost(dep: Deployment) -> int:
    """Succeeded snapshots whose raw rows are not all there (must be 0)."""
    tables = {"netsuite_suiteql": "raw.netsuite_inventory",
              "shopify_rest": "raw.shopify_inventory_levels", "shipbob": "raw.shipbob_inventory"}
    lost = 0
    for connector, table in tables.items():
        rows = dep.query(
            f"select s.row_count - count(r.snapshot_id) from raw.snapshots s "
            f"left join {table} r using (snapshot_id) where s.status = 'succeeded' "
            f"and s.connector = ? group by s.snapshot_id, s.row_count", [connector])
        lost += sum(abs(int(r[0])) for r in rows)
    return lost


def alert_ledger(dep: Deployment) -> tuple[int, int]:
    """(lost, doubled): alerted exceptions whose alert never reached the sink, and alert ids
    delivered more than once to the file sink."""
    lost = dep.query(
        "select count(*) from ops.exceptions e left join ops.alert_outbox o "
        "on o.alert_id = e.alert_id where e.alerted_at is not null "
        "and (o.alert_id is null or o.status <> 'sent')")[0][0]
    sink = dep.out / "alerts.jsonl"
    lines = sink.read_text("utf-8").splitlines() if sink.exists() else []
    ids = [json.loads(line)["alert_id"] for line in lines]
    doubled = len(ids) - len(set(ids))
    return int(lost), doubled
