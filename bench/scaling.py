"""DuckDB vs local Spark on the benchmark generator: when to move (docs/SCALING.md).

    python -m bench.scaling --series 1000,10000,100000 --cap 240

Per size: the generator (bench/generate.py) lands one cycle into a scratch DuckDB file,
which is exported to Parquet (stockdrift/parquet_export.py) together with the generated
mapping tables. Each engine then builds the models from that same Parquet in its own
subprocess (so peak RSS is that engine's, the JVM included):
- duckdb: `raw.*`/`config.*` views over the Parquet, mappings copied in as tables;
- spark: `stage_raw_sources` (JVM + Derby metastore start), the project's small seeds, then
  the two mapping tables replaced by Parquet-backed tables (a 600k-row seed would be INSERTs).
Timed: `dbt run` of every model at the cycle (the per-model tests are left out on both: on
Spark each test is one more job and the question here is the model build). The series stops
at the first size where an engine exceeds `--cap` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from bench.generate import Shape, bench_config, cycle_time, land_cycle, write_mappings
from stockdrift.parquet_export import attach_duckdb_views, export_warehouse

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt"
MAPPINGS = ("sku_map", "location_map")
CYCLE = 1


def _dbt(args: list[str], target_path: Path, target: str) -> float:
    from dbt.cli.main import dbtRunner

    t0 = time.perf_counter()
    res = dbtRunner().invoke([
        *args, "--target", target, "--target-path", str(target_path), "--quiet",
        "--log-path", str(target_path.parent / f"logs-{target}"),
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
    ])
    nodes: list[Any] = list(getattr(res.result, "results", None) or [])
    bad = [f"{r.node.unique_id}: {r.status} {r.message}" for r in nodes
           if hasattr(r, "node") and str(r.status) not in {"success", "pass"}]
    if not res.success or bad:
        raise RuntimeError(f"dbt {args[0]} on {target} failed: {bad or res.exception}")
    return time.perf_counter() - t0


def _run_args() -> list[str]:
    at = cycle_time(CYCLE).strftime("%Y-%m-%d %H:%M:%S")
    return ["run", "--vars", json.dumps({"cycle_at": at})]


def prepare(shape: Shape, work: Path) -> dict[str, float]:
    """Generate one cycle and export it (raw, config, mappings) as Parquet under work/raw."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    landing, root = work / "landing.duckdb", work / "raw"
    cfg = bench_config(shape, str(landing), str(work / "out"))
    t0 = time.perf_counter()
    con = duckdb.connect(str(landing))
    write_mappings(con, shape, cfg)
    land_cycle(con, shape, CYCLE)
    generate_s = time.perf_counter() - t0
    export_warehouse(con, root)
    (root / "mappings").mkdir()
    for table in MAPPINGS:
        con.execute(f"copy mappings.{table} to '{root / 'mappings' / table}.parquet' "
                    "(format parquet)")
    con.close()
    landing.unlink()
    parquet_mb = sum(p.stat().st_size for p in root.rglob("*.parquet")) / 2**20
    return {"generate_s": generate_s, "export_s": time.perf_counter() - t0 - generate_s,
            "parquet_mb": parquet_mb}


def _peak_rss_mb() -> float:
    """This process's peak RSS plus its live children's (the JVM), from /proc VmHWM."""
    total = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            status = Path(f"/proc/{pid}/status")
            for line in status.read_text().splitlines() if status.exists() else []:
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
    return total


def engine_duckdb(work: Path) -> dict[str, float]:
    root, warehouse = work / "raw", work / "duck.duckdb"
    warehouse.unlink(missing_ok=True)
    os.environ["STOCKDRIFT_WAREHOUSE"] = str(warehouse)
    t0 = time.perf_counter()
    _dbt(["seed"], work / "target-duckdb", "duckdb")  # sku_policies; the mappings replaced
    con = duckdb.connect(str(warehouse))
    attach_duckdb_views(con, root)
    for table in MAPPINGS:
        con.execute(f"create or replace table mappings.{table} as select * from "
                    f"read_parquet('{root / 'mappings' / table}.parquet')")
    con.close()
    setup_s = time.perf_counter() - t0
    build_s = _dbt(_run_args(), work / "target-duckdb", "duckdb")
    return {"setup_s": setup_s, "build_s": build_s, "total_s": setup_s + build_s}


def engine_spark(work: Path) -> dict[str, float]:
    root, home = work / "raw", work / "spark"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    os.environ.update({
        "STOCKDRIFT_RAW_PARQUET": str(root), "STOCKDRIFT_SPARK_HOME": str(home),
        "PYSPARK_SUBMIT_ARGS": f"--driver-memory {os.environ.get('BENCH_SPARK_MEMORY', '4g')} "
        f"--driver-java-options -Dderby.system.home={home} pyspark-shell",
    })
    target = work / "target-spark"
    jvm_s = _dbt(["run-operation", "stage_raw_sources"], target, "spark")  # JVM + metastore
    t0 = time.perf_counter()
    _dbt(["seed"], target, "spark")
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()  # the session dbt-spark opened in-process
    for table in MAPPINGS:
        spark.sql(f"drop table if exists mappings.{table}")
        spark.sql(f"create table mappings.{table} using parquet as select * from "
                  f"parquet.`{root / 'mappings' / table}.parquet`")
    seeds_s = time.perf_counter() - t0
    build_s = _dbt(_run_args(), target, "spark")
    return {"jvm_start_s": jvm_s, "setup_s": seeds_s, "build_s": build_s,
            "total_s": jvm_s + seeds_s + build_s}


def _worker(engine: str, work: Path, out: Path) -> None:
    result = engine_duckdb(work) if engine == "duckdb" else engine_spark(work)
    result["peak_rss_mb"] = _peak_rss_mb()
    out.write_text(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # skip py4j/JVM teardown, which can hang for minutes


def run_engine(engine: str, work: Path, cap: float) -> dict[str, Any]:
    out = work / f"{engine}.json"
    cmd = [sys.executable, "-m", "bench.scaling", "--worker", engine, "--work", str(work),
           "--out", str(out)]
    t0 = time.perf_counter()
    # own session, so a timeout kills the worker's JVM too, not only the Python process
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=cap)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"status": f"not done in {cap:.0f} s"}
    if proc.returncode != 0 or not out.exists():
        return {"status": "failed", "error": output[-2000:]}
    return {"status": "ok", "wall_s": time.perf_counter() - t0, **json.loads(out.read_text())}


def series(
    skus: list[int], locations: int, systems: int, cap: float, work: Path
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in skus:
        shape = Shape(skus=n, locations=locations, systems=systems)
        row: dict[str, Any] = {"skus": n, "rows": shape.rows_per_cycle, **prepare(shape, work)}
        for engine in ("duckdb", "spark"):
            row[engine] = run_engine(engine, work, cap)
        row["load_average_1m"] = os.getloadavg()[0]
        rows.append(row)
        print(json.dumps(row), flush=True)
        if any(row[e]["status"] != "ok" for e in ("duckdb", "spark")):
            break
    return rows


def _f(value: Any, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def render(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="dbt run of all models, one cycle: DuckDB vs local Spark (same Parquet)")
    for col in ("SKUs", "rows/cycle", "Parquet MB", "DuckDB s", "DuckDB RSS MB",
                "Spark JVM start s", "Spark s (excl. JVM)", "Spark s (incl. JVM)",
                "Spark RSS MB (py+JVM)", "load 1m"):
        table.add_column(col, justify="right")
    for r in rows:
        d, s = r["duckdb"], r["spark"]
        table.add_row(
            f"{r['skus']:,}", f"{r['rows']:,}", _f(r["parquet_mb"]),
            _f(d.get("build_s")) if d["status"] == "ok" else d["status"],
            _f(d.get("peak_rss_mb"), "{:.0f}"),
            _f(s.get("jvm_start_s")),
            _f(s.get("build_s")) if s["status"] == "ok" else s["status"],
            _f(s.get("total_s")), _f(s.get("peak_rss_mb"), "{:.0f}"),
            _f(r["load_average_1m"]),
        )
    console.print(table)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", default="1000,10000,100000")
    p.add_argument("--locations", type=int, default=10)
    p.add_argument("--systems", type=int, default=6)
    p.add_argument("--cap", type=float, default=240.0, help="seconds per engine per size")
    p.add_argument("--work", type=Path, default=Path("/tmp/stockdrift-bench-scaling"))
    p.add_argument("--json", type=Path, default=Path("/tmp/stockdrift-bench-scaling.json"))
    p.add_argument("--worker", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        _worker(a.worker, a.work, a.out)
        return
    rows = series([int(x) for x in a.series.split(",")], a.locations, a.systems, a.cap, a.work)
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
    render(rows, Console())


if __name__ == "__main__":
    main()
