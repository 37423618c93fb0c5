"""`make bench`: the scaling series, one subprocess per scale, then the figures against the
targets as rich tables. Results are kept in bench/results/latest.json.

    python -m bench.run                       # 10k, 30k, 100k SKUs x 10 locations x 6 systems
    python -m bench.run --series 10000 --no-diff
    python -m bench.run --report-only         # re-print bench/results/latest.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
TIME_CAP_S = 20 * 60
TARGETS = {"full": 60.0, "incremental": 10.0, "ratio": 1.5, "memory_mb": 2048.0,
           "growth": 1.2}
GROWTH_SKUS, GROWTH_CYCLES = 10_000, 21   # 600k rows: one full cycle, then 20 incremental
GROWTH = RESULTS.parent / "growth.json"
# The dbt models whose cost grows with history rather than with the current snapshot.
HISTORY_MODELS = ("int_master_changes_detected", "int_current_variances_evaluated",
                  "fct_sync_lag", "fct_variance_history", "int_variances_computed")


def run_scale(skus: int, diff: bool, budget_s: float, cycles: int = 2) -> dict[str, Any] | None:
    out = Path(f"/tmp/stockdrift-bench-{skus}-{cycles}.json")
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.cycle", "--skus", str(skus), "--json", str(out),
           "--work", f"/tmp/stockdrift-bench-{skus}", "--cycles", str(cycles)]
    try:
        subprocess.run(cmd + (["--diff"] if diff else []), check=True, timeout=budget_s,
                       cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        return None
    return dict(json.loads(out.read_text(encoding="utf-8")))


def phase_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Cycle phases (seconds) by scale; cycle 1 = full, cycle 2 = incremental")
    for col in ("rows/cycle", "load", "cycle", "land", "dbt build", "(dbt tests)", "expectations",
                "alerts", "total", "peak RSS MB"):
        table.add_column(col, justify="right")
    for run in runs:
        for c in run["cycles"]:
            p = c["phases"]
            load = c.get("load_average_1m")
            table.add_row(f"{run['rows_per_cycle']:,}", "?" if load is None else f"{load:.0f}",
                          "full" if c["cycle"] == 1 else "incr",
                          *(f"{p[k]:.1f}" for k in ("land", "dbt")),
                          f"{c['dbt_tests_seconds']:.1f}",
                          *(f"{p[k]:.1f}" for k in ("expectations", "alerts", "total")),
                          f"{c['peak_rss_mb']:,.0f}")
    return table


def model_table(run: dict[str, Any], top: int = 8) -> Table:
    table = Table(title=f"Slowest dbt models at {run['rows_per_cycle']:,} rows/cycle (s)")
    table.add_column("model")
    table.add_column("full", justify="right")
    table.add_column("incremental", justify="right")
    full, incr = (c["models"] for c in run["cycles"])
    for name in sorted(incr, key=lambda n: -incr[n])[:top]:
        mark = " (history)" if name in HISTORY_MODELS else ""
        table.add_row(name + mark, f"{full.get(name, 0):.2f}", f"{incr[name]:.2f}")
    return table


def target_table(run: dict[str, Any], dagster_s: float | None = None,
                 growth: dict[str, Any] | None = None) -> Table:
    full, incr = run["cycles"]
    cmp_ = run["comparison"]
    dbt_step = incr["models"]["int_variances_computed"]
    ratio = dbt_step / cmp_["hand_seconds"] if cmp_["hand_seconds"] else float("nan")
    rows = [
        ("full cycle", f"{full['phases']['total']:.1f} s", f"<= {TARGETS['full']:.0f} s",
         full["phases"]["total"] <= TARGETS["full"]),
        ("incremental cycle (1% changed)", f"{incr['phases']['total']:.1f} s",
         f"<= {TARGETS['incremental']:.0f} s", incr["phases"]["total"] <= TARGETS["incremental"]),
        ("dbt variance step / hand query", f"{dbt_step:.2f} / {cmp_['hand_seconds']:.2f} s "
         f"= {ratio:.1f}x", f"<= {TARGETS['ratio']}x", ratio <= TARGETS["ratio"]),
        ("hand query = dbt result", cmp_["detail"], "equal", cmp_["results_match"]),
        ("reladiff (generic diff)", _diff_cell(cmp_), "for reference", None),
        ("peak memory", f"{run['peak_rss_mb']:,.0f} MB", f"<= {TARGETS['memory_mb']:.0f} MB",
         run["peak_rss_mb"] <= TARGETS["memory_mb"]),
        ("fixed: dbt parse (once per process)", f"{run['dbt_parse_seconds']:.1f} s", "measured",
         None),
        ("fixed: Dagster run, 10 no-op steps", "not measured" if dagster_s is None
         else f"{dagster_s:.2f} s", "measured", None),
        ("fixed: dbt tests per build", f"{incr['dbt_tests_seconds']:.1f} s (summed, 2 threads)",
         "measured", None),
    ]
    if growth is not None:
        first, second = growth_ratios(growth)
        rows.append((f"growth: incremental #20 / #1 at {growth['rows_per_cycle']:,} rows",
                     f"{first:.2f}x (#20 / #2: {second:.2f}x)", f"<= {TARGETS['growth']}x",
                     first <= TARGETS["growth"]))
    table = Table(title=f"Targets at {run['rows_per_cycle']:,} position rows per cycle")
    for col in ("figure", "measured", "target", "met"):
        table.add_column(col)
    for name, value, target, met in rows:
        verdict = "" if met is None else ("[green]yes[/]" if met else "[red]NO[/]")
        table.add_row(name, value, target, verdict)
    return table


def growth_table(run: dict[str, Any]) -> Table:
    """The growth line: does a cycle cost more as history accumulates?"""
    cycles = run["cycles"][1:]   # the incremental ones
    table = Table(title=f"Growth line: {len(cycles)} incremental cycles at "
                        f"{run['rows_per_cycle']:,} rows/cycle (s)")
    for col in ("incr #", "load", "total", "dbt", "(tests)", "land", "expectations", "RSS MB"):
        table.add_column(col, justify="right")
    for n, c in enumerate(cycles, start=1):
        p = c["phases"]
        table.add_row(str(n), f"{c.get('load_average_1m', 0):.1f}", f"{p['total']:.2f}",
                      f"{p['dbt']:.2f}", f"{c['dbt_tests_seconds']:.2f}", f"{p['land']:.2f}",
                      f"{p['expectations']:.2f}", f"{c['peak_rss_mb']:,.0f}")
    return table


def growth_ratios(run: dict[str, Any]) -> tuple[float, float]:
    """(last / first incremental, last / second incremental) on total cycle time."""
    totals = [c["phases"]["total"] for c in run["cycles"][1:]]
    return totals[-1] / totals[0], totals[-1] / totals[1]


def _diff_cell(cmp_: dict[str, Any]) -> str:
    if cmp_.get("diff_seconds") is None:
        return str(cmp_.get("diff_note") or "not run")
    return (f"{cmp_['diff_seconds']:.1f} s (+{cmp_['diff_prep_seconds']:.1f} s to materialise), "
            f"{cmp_['diff_rows']} keys differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", default="10000,30000,100000")
    parser.add_argument("--no-diff", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--no-growth", action="store_true",
                        help="skip the growth line (21 cycles at 600k rows)")
    args = parser.parse_args()
    console = Console()
    if args.report_only:
        runs = json.loads(RESULTS.read_text(encoding="utf-8"))
    else:
        runs, started = [], time.monotonic()
        for skus in (int(s) for s in args.series.split(",")):
            left = TIME_CAP_S - (time.monotonic() - started)
            run = run_scale(skus, not args.no_diff, left) if left > 60 else None
            if run is None:
                console.print(f"[yellow]{skus:,} SKUs skipped: 20-minute cap reached[/]")
                break
            runs.append(run)
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(runs, indent=2), encoding="utf-8")
        left = TIME_CAP_S - (time.monotonic() - started)
        if not args.no_growth:
            growth = run_scale(GROWTH_SKUS, False, left, GROWTH_CYCLES) if left > 60 else None
            if growth is None:
                console.print("[yellow]growth line skipped: 20-minute cap reached[/]")
            else:
                GROWTH.write_text(json.dumps(growth, indent=2), encoding="utf-8")
    console.print(phase_table(runs))
    console.print(model_table(runs[-1]))
    from bench.overhead import dagster_overhead

    growth = json.loads(GROWTH.read_text(encoding="utf-8")) if GROWTH.exists() else None
    console.print(target_table(runs[-1], dagster_overhead(), growth))
    if growth is not None:
        console.print(growth_table(growth))


if __name__ == "__main__":
    main()
