"""The benchmark's worlds: which scenario each seed runs, and one monitoring loop over it.

The loop runs the product's own stage code for every system the config lists: each cycle
extracts every system (HTTP from the sandbox servers, files from the sandbox feeds) with
`extractors.landing.land_snapshot`, then runs the project's dbt SQL (`dbt run` for the first
cycle, afterwards its compiled SQL replayed: bench/detect_replay.py), the GX suites and the
exception queue. dbt's data tests and unit tests run in `make test`, not here.

What makes a cycle cheap without changing what it computes (measured: bench/README.md):
one warehouse connection for the whole run (each stage of `stockdrift.pipeline` opens and
closes the file, re-running the schema DDL), and one HTTP client per system injected into
its connector (`build_connector(system, client)`): a new httpx client builds a TLS context
from the CA bundle, ~30 ms each, times every HTTP system, every cycle.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import yaml

from bench.detect_replay import CompiledProject
from sandbox.feeds import feed_urls, write_feeds
from sandbox.library import library_scenario
from sandbox.scenario import Fault, Scenario
from sandbox.serve import FaultMode, SandboxServers, sandbox_env
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import StockdriftConfig, SystemConfig
from stockdrift.warehouse import connect, ensure_schema

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = REPO / "dbt"
CYCLE_MINUTES = 5
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
    phases: dict[str, float] = field(default_factory=dict)   # seconds per stage, summed
    systems: list[str] = field(default_factory=list)
    slowest_models: list[tuple[str, float]] = field(default_factory=list)  # replay seconds
    skipped_models: list[str] = field(default_factory=list)  # no suite depends on them

    @property
    def ttd_limits(self) -> dict[str, int]:
        """Per system, the time-to-detect target: its freshness target + one cycle."""
        return {s: m + CYCLE_MINUTES for s, m in self.targets.items()}


def write_config(out_dir: Path, base_urls: dict[str, str]) -> Path:
    """stockdrift.example.yml with every system pointed at its sandbox server or feed."""
    data: dict[str, Any] = yaml.safe_load((REPO / "stockdrift.example.yml").read_text("utf-8"))
    data["warehouse_path"] = str(out_dir / "stockdrift.duckdb")
    data["out_dir"] = str(out_dir)
    missing = [s["id"] for s in data["systems"] if s["id"] not in base_urls]
    if missing:
        raise ValueError(f"stockdrift.example.yml: systems {missing} have no sandbox server "
                         "(sandbox/serve.py SYSTEMS) or feed (sandbox/feeds.py feed_urls)")
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

    def invoke(self, cmds: list[str], cycle_at: str) -> None:
        for cmd in cmds:
            res = self.runner.invoke([cmd, "--vars", json.dumps({"cycle_at": cycle_at}),
                                      *self.args])
            if not res.success:
                raise RuntimeError(f"dbt {cmd} failed at {cycle_at}: {res.exception}")

    def compile(self) -> CompiledProject:
        return CompiledProject(self.runner, self.args, self.target)


class Monitor:
    """One warehouse connection and one HTTP client per system for a whole run."""

    def __init__(self, cfg: StockdriftConfig, servers: SandboxServers, dbt: DbtRunner,
                 replay: bool) -> None:
        from extractors.http import make_client

        self.cfg, self.servers, self.dbt, self.replay = cfg, servers, dbt, replay
        self.clients: dict[str, httpx.Client] = {
            s.id: make_client(s.base_url, s.timeout_seconds)
            for s in cfg.systems if s.id in servers.apps
        }
        self.compiled: CompiledProject | None = None
        self.phases: dict[str, float] = {}
        self.slowest_models: list[tuple[str, float]] = []
        self.skipped_models: list[str] = []
        self.con = self._open()

    def _open(self) -> duckdb.DuckDBPyConnection:
        con = connect(self.cfg.warehouse_path)
        # Seeds run side by side on every core; one DuckDB thread each measured 4 % faster
        # than DuckDB's default (one per core in every process) with 3 seeds on 2 cores.
        con.execute(f"set threads = {int(os.environ.get('STOCKDRIFT_BENCH_DUCKDB_THREADS', 1))}")
        ensure_schema(con)
        return con

    def _timed(self, phase: str, started: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + time.perf_counter() - started

    def extract(self, system: SystemConfig, cycle_at: datetime, clock: ManualClock) -> None:
        """stockdrift.pipeline.extract_system on the run's connection and client."""
        from extractors.cursors import plan_extraction
        from extractors.landing import land_snapshot
        from extractors.registry import build_connector

        started = time.perf_counter()
        plan = plan_extraction(self.con, system, clock.now())
        connector = build_connector(system, self.clients.get(system.id), since=plan.since)
        try:
            land_snapshot(self.con, system, connector, cycle_at, clock, plan)
        finally:
            close = getattr(connector, "close", None)
            if callable(close):
                close()
        self._timed("extract", started)

    def transform(self, cycle_at: datetime, first: bool) -> None:
        """dbt itself for the first cycle (seeds, every relation, the incremental history)
        and for every cycle without `replay`; otherwise the compiled SQL on our connection."""
        started = time.perf_counter()
        text = cycle_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if first or not self.replay:
            self.con.close()                      # dbt-duckdb opens the file itself
            self.dbt.invoke(["seed", "run"] if first else ["run"], text)
            if self.replay:
                self.compiled = self.dbt.compile()
            self.con = self._open()
        else:
            assert self.compiled is not None
            self.compiled.run(self.con, text)
        self._timed("dbt" if first else "transform", started)

    def evaluate(self, cycle_at: datetime) -> None:
        """stockdrift.pipeline.evaluate: the GX suites over the marts, then the queue."""
        from expectations.runner import run_suites
        from stockdrift.queue import apply_outcomes

        started = time.perf_counter()
        outcomes = run_suites(self.con)
        self._timed("gx", started)
        started = time.perf_counter()
        apply_outcomes(self.con, outcomes, cycle_at, self.cfg)
        self._timed("queue", started)

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.con.close()


def enact_outages(world: World, servers: SandboxServers, systems: list[str]) -> set[str]:
    """The scenario's outages this cycle: a failed system's server rejects the token (the
    extractor sees a real 401); returns the stale systems (not extracted at all)."""
    stale = set()
    for system_id in systems:
        outage = world.outage(system_id)
        if system_id in servers.apps:
            servers.set_fault(system_id,
                              FaultMode("expired_token") if outage == "failed" else None)
        if outage == "stale":
            stale.add(system_id)
    return stale


def run_world(seed: int, hours: float, work: Path, replay: bool = True) -> RunResult:
    from stockdrift.config import load_config
    from stockdrift.warehouse import write_config as write_cfg

    name, start, scenario = scenarios_for(seed, hours)
    out = work / f"seed{seed}"
    feeds = out / "feeds"
    feeds.mkdir(parents=True, exist_ok=True)
    clock, world = ManualClock(start), World(seed=seed, start=start, scenario=scenario)
    dbt = DbtRunner(work / f"dbt-target-{seed}")
    cycles = int(hours * 60 // CYCLE_MINUTES)
    started = time.perf_counter()
    with SandboxServers(world, clock) as servers:
        servers.rate_limits_on_world_time()    # 5 simulated minutes pass between cycles
        cfg = load_config(write_config(out, {**servers.base_urls, **feed_urls(feeds)}))
        system_ids = [s.id for s in cfg.systems]
        os.environ.update(sandbox_env(system_ids))
        os.environ["STOCKDRIFT_WAREHOUSE"] = cfg.warehouse_path
        monitor = Monitor(cfg, servers, dbt, replay)
        try:
            write_cfg(monitor.con, cfg)
            for i in range(1, cycles + 1):
                cycle_at = start + timedelta(minutes=CYCLE_MINUTES * i)
                clock.set(cycle_at)
                t = time.perf_counter()
                world.advance_to(cycle_at)
                write_feeds(world, feeds, cycle_at)
                monitor._timed("world+feeds", t)
                stale = enact_outages(world, servers, system_ids)
                for system in cfg.systems:
                    if system.id not in stale:
                        monitor.extract(system, cycle_at, clock)
                monitor.transform(cycle_at, first=i == 1)
                monitor.evaluate(cycle_at)
            if monitor.compiled is not None:
                slowest = sorted(monitor.compiled.seconds.items(), key=lambda kv: -kv[1])
                monitor.slowest_models = slowest[:8]
                monitor.skipped_models = monitor.compiled.skipped
            alarms = _rows(monitor.con, "select * from ops.exceptions")
            naive = _rows(monitor.con, NAIVE_SQL)
        finally:
            monitor.close()
    seconds = time.perf_counter() - started
    targets = {s.id: s.freshness_target_minutes for s in cfg.systems}
    return RunResult(seed, name, cycles, seconds, world.ground_truth(), alarms, naive, targets,
                     monitor.phases, system_ids, monitor.slowest_models,
                     monitor.skipped_models)


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
