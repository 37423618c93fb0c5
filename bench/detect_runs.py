"""The benchmark's worlds: which scenario each seed runs, and one monitoring loop over it.

The loop drives the stage functions directly (no Dagster): extract each system over HTTP
from the sandbox servers, `dbt run` in-process with the manifest parsed once, then the GX
suites and the exception queue. dbt's data tests and unit tests run in `make test`, not here.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from bench.detect_replay import CompiledProject
from sandbox.library import library_scenario
from sandbox.scenario import Fault, Scenario
from sandbox.serve import SANDBOX_TOKENS, FaultMode, SandboxServers
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.warehouse import open_warehouse

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"
CYCLE_MINUTES = 5
TOKEN_ENV = {"erp": "NETSUITE_TOKEN", "shopify": "SHOPIFY_ACCESS_TOKEN", "shipbob": "SHIPBOB_TOKEN"}
# A US DST night: clocks fall back at 02:00 local on 2026-11-01 (06:00 UTC New York,
# 07:00 UTC Chicago); runs starting here cross it.
DST_START = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
PLAIN_START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def scenarios_for(seed: int, hours: float) -> tuple[str, datetime, Scenario]:
    """Even seeds: the scenario library; odd seeds: the demo's faults across a DST night."""
    if seed % 2 == 0:
        return "library", PLAIN_START, library_scenario(hours)
    return "default+dst", DST_START, Scenario.default()


@dataclass
class RunResult:
    seed: int
    name: str
    cycles: int
    seconds: float
    faults: list[Fault]
    alarms: list[dict[str, Any]]            # ops.exceptions rows
    naive: list[dict[str, Any]]             # first difference per system x key
    targets: dict[str, int] = field(default_factory=dict)


def write_config(out_dir: Path, base_urls: dict[str, str]) -> Path:
    data: dict[str, Any] = yaml.safe_load((REPO / "stockdrift.example.yml").read_text("utf-8"))
    data["warehouse_path"] = str(out_dir / "stockdrift.duckdb")
    data["out_dir"] = str(out_dir)
    data["systems"] = [s for s in data["systems"] if s["id"] in base_urls]
    for system in data["systems"]:
        system["base_url"] = base_urls[system["id"]]
    path = out_dir / "stockdrift.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


class DbtRunner:
    """`dbt run` in-process with one parsed manifest (a new --vars would force a re-parse)."""

    def __init__(self, target: Path) -> None:
        from dbt.cli.main import dbtRunner

        self.args = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
                     "--target-path", str(target), "--log-path", str(target / "logs"), "--quiet"]
        parsed = dbtRunner().invoke(["parse", *self.args])
        if not parsed.success:
            raise RuntimeError(f"dbt parse failed: {parsed.exception}")
        self.runner = dbtRunner(manifest=parsed.result)  # type: ignore[arg-type]
        self.target = target
        self.compiled: CompiledProject | None = None

    def run(self, cycle_at: datetime, first: bool = False, replay: bool = True) -> None:
        """The first cycle (and every cycle without `replay`) runs dbt itself."""
        text = cycle_at.strftime("%Y-%m-%d %H:%M:%S")
        if first or not replay:
            for cmd in (["seed", "run"] if first else ["run"]):
                res = self.runner.invoke([cmd, "--vars", json.dumps({"cycle_at": text}),
                                          *self.args])
                if not res.success:
                    raise RuntimeError(f"dbt {cmd} failed at {text}: {res.exception}")
            if replay:
                self.compiled = CompiledProject(self.runner, self.args, self.target)
            return
        assert self.compiled is not None
        with open_warehouse(os.environ["STOCKDRIFT_WAREHOUSE"]) as con:
            self.compiled.run(con, text)


def run_world(seed: int, hours: float, work: Path, replay: bool = True) -> RunResult:
    from stockdrift.config import load_config
    from stockdrift.pipeline import evaluate, extract_system
    from stockdrift.warehouse import write_config as write_cfg

    name, start, scenario = scenarios_for(seed, hours)
    out = work / f"seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    clock, world = ManualClock(start), World(seed=seed, start=start, scenario=scenario)
    dbt = DbtRunner(work / f"dbt-target-{seed}")
    cycles = int(hours * 60 // CYCLE_MINUTES)
    started = time.perf_counter()
    with SandboxServers(world, clock) as servers:
        for system_id, env in TOKEN_ENV.items():
            os.environ[env] = SANDBOX_TOKENS[system_id]
        cfg = load_config(write_config(out, servers.base_urls))
        os.environ["STOCKDRIFT_WAREHOUSE"] = cfg.warehouse_path
        with open_warehouse(cfg.warehouse_path) as con:
            write_cfg(con, cfg)
        for i in range(1, cycles + 1):
            cycle_at = start + timedelta(minutes=CYCLE_MINUTES * i)
            clock.set(cycle_at)
            world.advance_to(cycle_at)
            for system in cfg.systems:
                outage = world.outage(system.id)
                if outage == "stale":
                    continue
                servers.set_fault(system.id, FaultMode("expired_token") if outage else None)
                extract_system(cfg, system.id, cycle_at, clock)
            dbt.run(cycle_at.astimezone(UTC).replace(tzinfo=None), first=i == 1,
                    replay=replay)
            evaluate(cfg, cycle_at)
    seconds = time.perf_counter() - started
    with open_warehouse(cfg.warehouse_path) as con:
        alarms = _rows(con, "select * from ops.exceptions")
        naive = _rows(con, NAIVE_SQL)
    targets = {s.id: s.freshness_target_minutes for s in cfg.systems}
    return RunResult(seed, name, cycles, seconds, world.ground_truth(), alarms, naive, targets)


# The naive baseline on the same snapshots: every system diffed against the master at every
# snapshot (any difference, no settledness, no cause); one alarm per key, first flagged cycle.
NAIVE_SQL = """
select system_id, canonical_sku, canonical_location, min(cycle_at) as first_seen_at,
       count(*) as flagged_snapshots
from intermediate.int_variances_computed
where observed_qty is distinct from expected_qty and expected_qty is not null
group by 1, 2, 3
"""


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
