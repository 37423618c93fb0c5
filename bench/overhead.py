"""Fixed per-cycle overhead, independent of data size:

    python -m bench.overhead

- dbt parse (once per process, `dagster_project.defs.transform.parsed_manifest`);
- Dagster: `execute_in_process` of a job with as many no-op steps as `monitor_cycle` has
  (one per extracted system, the landing barrier, dbt, the checks, alerts, report), on an
  ephemeral instance: the orchestration cost a cycle pays before any work.
"""

from __future__ import annotations

import time

import dagster as dg

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
STEPS = 10  # 3 extractions + landed barrier + dbt + exception queue + alerts + report + 2 spare


def dagster_overhead(steps: int = STEPS, runs: int = 3) -> float:
    specs = []
    previous: list[dg.AssetKey] = []
    for i in range(steps):
        key = dg.AssetKey(f"step_{i}")

        @dg.asset(key=key, deps=previous)
        def _noop() -> None:
            return None

        specs.append(_noop)
        previous = [key]
    job = dg.Definitions(assets=specs, jobs=[dg.define_asset_job("noop")]).resolve_job_def("noop")
    instance = dg.DagsterInstance.ephemeral()
    job.execute_in_process(instance=instance, run_config=QUIET)  # warm-up: imports, first run
    t0 = time.perf_counter()
    for _ in range(runs):
        job.execute_in_process(instance=instance, run_config=QUIET)
    return (time.perf_counter() - t0) / runs


def dbt_parse_seconds() -> float:
    from dagster_project.defs.transform import _parse

    t0 = time.perf_counter()
    _parse("/tmp/stockdrift-bench-overhead-target")
    return time.perf_counter() - t0


def main() -> None:
    print(f"dbt parse: {dbt_parse_seconds():.1f} s")
    print(f"Dagster run of {STEPS} no-op steps: {dagster_overhead():.2f} s per run")


if __name__ == "__main__":
    main()
