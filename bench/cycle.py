"""One benchmark run at one scale, in its own process (so peak RSS is this run's):

    python -m bench.cycle --skus 100000 --locations 10 --systems 6 --json out.json

Cycle 1 is the full cycle on an empty warehouse (incremental models built from scratch);
cycle 2 is the incremental cycle: every system lands a new full snapshot in which
`--change-share` (default 1%) of keys moved. Each phase is timed on its own: land (raw.*
written in one transaction), dbt build (in-process, manifest parsed once, seeds excluded:
the mapping tables are generated), expectations (GX suites + queue), alert routing (outbox
+ file sender).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.compare import hand_written, table_diff
from bench.generate import Shape, bench_config, cycle_time, land_cycle, write_mappings
from stockdrift.warehouse import connect

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def dbt_build(cycle_at: str, manifest: Any, target: str) -> tuple[float, dict[str, float]]:
    """One cycle's `dbt build` with production's selection (`cycle_build_args`: the marts'
    tests, not the hourly whole-history ones), seeds excluded: the mappings are generated."""
    from dbt.cli.main import dbtRunner

    from dagster_project.defs.transform import cycle_build_args

    args = [*cycle_build_args(cycle_at, seeds=False), "--quiet", "--target-path", target,
            "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    t0 = time.perf_counter()
    result = dbtRunner(manifest=manifest).invoke(args)
    seconds = time.perf_counter() - t0
    nodes = list(getattr(result.result, "results", None) or [])
    bad = [f"{r.node.unique_id}: {r.status} {r.message}" for r in nodes
           if str(r.status) in {"error", "fail", "skipped"}]
    if not result.success or bad:
        raise RuntimeError(f"dbt build failed: {bad or result.exception}")
    per_node = {r.node.unique_id: float(r.execution_time) for r in nodes}
    return seconds, per_node


def seed(manifest: Any, target: str) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner(manifest=manifest).invoke(
        ["seed", "--quiet", "--target-path", target,
         "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)])
    if not result.success:
        raise RuntimeError(f"dbt seed failed: {result.exception}")


def run_cycle(cfg: Any, shape: Shape, cycle_no: int, manifest: Any, target: str) -> dict[str, Any]:
    # the stages of stockdrift.pipeline, minus extraction (which needs live vendors)
    from expectations.runner import run_suites
    from stockdrift.alerting import alert_cycle
    from stockdrift.queue import apply_outcomes
    from stockdrift.warehouse import write_config

    at = cycle_time(cycle_no)
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    con = connect(cfg.warehouse_path)
    write_config(con, cfg)
    rows = land_cycle(con, shape, cycle_no)
    con.close()
    phases["land"] = time.perf_counter() - t0
    phases["dbt"], per_node = dbt_build(at.strftime("%Y-%m-%d %H:%M:%S"), manifest, target)
    t1 = time.perf_counter()
    con = connect(cfg.warehouse_path)
    changes = apply_outcomes(con, run_suites(con), at, cfg)
    con.close()
    phases["expectations"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    alerts = alert_cycle(cfg, at, console=Console(file=io.StringIO()))
    phases["alerts"] = time.perf_counter() - t2
    phases["total"] = time.perf_counter() - t0
    models = {k.split(".")[-1]: v for k, v in per_node.items() if k.startswith("model.")}
    test_times = {k.split(".")[-2] if k.count(".") > 2 else k: v
                  for k, v in per_node.items() if k.startswith("test.")}
    tests = sum(test_times.values())
    return {
        "cycle": cycle_no, "rows_landed": rows, "phases": phases, "models": models,
        "dbt_tests_seconds": tests, "dbt_tests": len(test_times),
        "slowest_tests": dict(sorted(test_times.items(), key=lambda kv: -kv[1])[:5]),
        "opened": len(changes.opened),
        "alerts_enqueued": alerts.enqueued, "peak_rss_mb": peak_rss_mb(),
        "load_average_1m": os.getloadavg()[0],
    }


def run(shape: Shape, work: Path, diff: bool, cycles: int = 2) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = str(work / "bench.duckdb")
    os.environ["STOCKDRIFT_WAREHOUSE"] = warehouse
    os.environ.pop("SLACK_BOT_TOKEN", None)
    cfg = bench_config(shape, warehouse, str(work / "out"))
    from dagster_project.defs.transform import _parse

    target = str(work / "dbt-target")
    t0 = time.perf_counter()
    manifest = _parse(target)
    parse_seconds = time.perf_counter() - t0
    seed(manifest, target)  # the project's small seeds; the two mappings are then replaced
    con = connect(warehouse)
    write_mappings(con, shape, cfg)
    con.close()
    runs = []
    for n in range(1, cycles + 1):
        runs.append(run_cycle(cfg, shape, n, manifest, target))
        if cycles > 2:  # the growth line: one cycle a line, as it happens
            p = runs[-1]["phases"]
            print(f"cycle {n:>3}: total {p['total']:6.2f} s  dbt {p['dbt']:6.2f} s  "
                  f"land {p['land']:5.2f} s  rss {runs[-1]['peak_rss_mb']:,.0f} MB", flush=True)
    con = connect(warehouse)
    comparison = hand_written(con, cycle_time(cycles))
    if diff:
        table_diff(warehouse, con, comparison)
    else:
        con.close()
        comparison.diff_note = "skipped at this scale"
    return {
        "shape": asdict(shape), "rows_per_cycle": shape.rows_per_cycle,
        "dbt_parse_seconds": parse_seconds, "cycles": runs,
        "comparison": asdict(comparison), "peak_rss_mb": peak_rss_mb(),
        "warehouse_mb": Path(warehouse).stat().st_size / 2**20,
        "load_average_1m": os.getloadavg()[0], "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--systems", type=int, default=6)
    parser.add_argument("--change-share", type=float, default=0.01)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stockdrift-bench"))
    parser.add_argument("--diff", action="store_true", help="also run reladiff")
    parser.add_argument("--cycles", type=int, default=2,
                        help="cycle 1 is full, the rest incremental (the growth line: 21)")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    shape = Shape(args.skus, args.locations, args.systems, args.change_share)
    result = run(shape, args.work, args.diff, max(2, args.cycles))
    args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
