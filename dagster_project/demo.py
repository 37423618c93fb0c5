"""`stockdrift demo`: the sandbox world on loopback, N monitoring cycles through Dagster.

Cycle by cycle: the simulated clock moves 5 minutes, the sandbox servers answer as the world
stands at that time, and the `monitor_cycle` job runs against a real (persistent) Dagster
instance in out/dagster_home, so `make dev` shows the same runs.

`--scenario library` swaps the default faults for the scenario library (bench/detect_runs.py):
every injectable fault once, odd SKU ids, and two extraction outages enacted cycle by cycle,
"failed" as an expired token on the vendor's server, "stale" as a cycle run without that
system's extract asset (nothing is landed for it, exactly like a sync that stopped reporting).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import yaml
from rich.console import Console

from dagster_project.defs.extract import extract_key
from dagster_project.demo_progress import DemoProgress
from dagster_project.resources import CYCLE_TAG, QUIET
from sandbox.feeds import feed_urls, write_feeds
from sandbox.scenario import Scenario
from sandbox.serve import FaultMode, SandboxServers, sandbox_env
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.locking import cycle_lock

DEMO_START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
CYCLE_MINUTES = 5
SCENARIOS = ("default", "library")
# 2 simulated hours: the library's last outage ends at 65% of the span + 40 min, so every
# injection fires and settles (and each outage ends) inside the run.
DEFAULT_CYCLES = {"default": 12, "library": 24}


def demo_scenario(name: str, cycles: int) -> Scenario | None:
    """None = the world's own default faults; the library spreads its faults over the run."""
    if name == "default":
        return None
    if name == "library":
        from sandbox.library import library_scenario

        return library_scenario(cycles * CYCLE_MINUTES / 60)
    raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")


@dataclass
class DemoResult:
    config_path: Path
    warehouse_path: Path
    cycles: int
    failed_runs: int
    seconds: float
    world: World


def write_demo_config(example: Path, out_dir: Path, base_urls: dict[str, str]) -> Path:
    data: dict[str, Any] = yaml.safe_load(example.read_text(encoding="utf-8"))
    data["warehouse_path"] = str(out_dir / "stockdrift.duckdb")
    data["out_dir"] = str(out_dir)
    missing = [s["id"] for s in data["systems"] if s["id"] not in base_urls]
    if missing:
        raise ValueError(f"{example}: systems {missing} have no sandbox server "
                         "(sandbox/serve.py SYSTEMS) or feed (sandbox/feeds.py feed_urls)")
    for system in data["systems"]:
        system["base_url"] = base_urls[system["id"]]
    path = out_dir / "demo" / "stockdrift.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def dagster_instance(home: Path) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    return dg.DagsterInstance.get()


def reset_outputs(out_dir: Path) -> None:
    for name in ("stockdrift.duckdb", "stockdrift.duckdb.wal", "alerts.jsonl", "report.html"):
        (out_dir / name).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "demo", ignore_errors=True)


def run_demo(
    *,
    cycles: int = 12,
    seed: int = 7,
    scenario: str = "default",
    out_dir: Path = Path("out"),
    example: Path = Path("stockdrift.example.yml"),
    console: Console | None = None,
    fresh: bool = True,
) -> DemoResult:
    from dagster_project.definitions import build_definitions

    console = console or Console()
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        reset_outputs(out_dir)
    clock = ManualClock(DEMO_START)
    world = World(seed=seed, start=DEMO_START, scenario=demo_scenario(scenario, cycles))
    instance = dagster_instance(out_dir / "dagster_home")
    started = time.perf_counter()
    failed = 0
    feeds = out_dir / "demo" / "feeds"
    with DemoProgress(console, cycles) as progress, SandboxServers(world, clock) as servers:
        os.environ.update(sandbox_env())
        config_path = write_demo_config(example, out_dir, {**servers.base_urls,
                                                          **feed_urls(feeds)})
        systems = [s["id"] for s in yaml.safe_load(config_path.read_text())["systems"]]
        os.environ["STOCKDRIFT_CONFIG"] = str(config_path)
        os.environ["STOCKDRIFT_FROZEN_CLOCK"] = "1"
        progress.setup("loading the Dagster definitions and the dbt manifest")
        defs = build_definitions(str(config_path))
        job = defs.resolve_job_def("monitor_cycle")
        graph = defs.resolve_asset_graph()
        for i in range(1, cycles + 1):
            progress.start_cycle(i)
            cycle_at = DEMO_START + timedelta(minutes=CYCLE_MINUTES * i)
            clock.set(cycle_at)
            stale = enact_outages(world, servers, cycle_at, systems)
            write_feeds(world, feeds, cycle_at)   # the files partners dropped by now
            selection = without_extracts(graph, stale)
            t0 = time.perf_counter()
            run_id = str(uuid.uuid4())  # known before the run, so its steps can be shown
            instance.add_event_listener(run_id, progress.listener())
            # one cycle per warehouse at a time (stockdrift/locking.py): a concurrent
            # `stockdrift run` on the same warehouse waits up to a minute, then refuses
            with cycle_lock(out_dir / "stockdrift.duckdb", wait_seconds=60, label="demo"):
                result = job.execute_in_process(
                    instance=instance, tags={CYCLE_TAG: cycle_at.isoformat()},
                    run_config=QUIET, raise_on_error=False, asset_selection=selection,
                    run_id=run_id,
                )
            failed += 0 if result.success else 1
            state = "[green]ok[/]" if result.success else "[red]FAILED[/]"
            outages = "".join(f"  {s}: {world.outage(s)}" for s in systems if world.outage(s))
            progress.end_cycle(
                f"cycle {i:>2}/{cycles}  {cycle_at:%H:%M} UTC  {state}  "
                f"{time.perf_counter() - t0:5.1f}s  run {result.run_id[:8]}{outages}"
            )
    return DemoResult(
        config_path,
        out_dir / "stockdrift.duckdb",
        cycles,
        failed,
        time.perf_counter() - started,
        world,
    )


def enact_outages(world: World, servers: SandboxServers, at: datetime,
                  systems: list[str]) -> list[str]:
    """Put the scenario's outages in force for this cycle: a failed system's server rejects
    the token (the extractor sees a real 401); returns the systems that are stale now.
    File feeds have no server: only a stale outage (not extracted) applies to them."""
    world.advance_to(at)
    stale = []
    for system_id in systems:
        outage = world.outage(system_id)
        if system_id in servers.apps:
            servers.set_fault(system_id,
                              FaultMode("expired_token") if outage == "failed" else None)
        if outage == "stale":
            stale.append(system_id)
    return stale


def without_extracts(graph: Any, stale: list[str]) -> list[dg.AssetKey] | None:
    """The job's assets minus the stale systems' extracts (None = the whole job): a stale
    system is simply not extracted, so its last snapshot ages in the warehouse."""
    if not stale:
        return None
    skipped = dg.AssetSelection.assets(*(extract_key(s) for s in stale))
    return sorted((dg.AssetSelection.all() - skipped).resolve(graph))
