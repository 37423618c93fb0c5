"""The stages of one monitoring cycle as plain functions (Dagster assets call these).

Each stage opens the warehouse, does its work and closes it again: dbt runs in between
and DuckDB allows one writer at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from expectations.findings import SuiteOutcome
from expectations.runner import run_suites
from extractors.cursors import plan_extraction
from extractors.landing import SnapshotResult, land_snapshot
from extractors.registry import build_connector
from stockdrift.clock import Clock, to_naive_utc
from stockdrift.config import StockdriftConfig
from stockdrift.locking import cycle_lock
from stockdrift.queue import QueueChanges, apply_outcomes
from stockdrift.warehouse import open_warehouse, write_config


def extract_system(
    cfg: StockdriftConfig, system_id: str, cycle_at: datetime, clock: Clock,
    *, full_refresh: bool = False,
) -> SnapshotResult:
    """Land one snapshot of one system. Never raises for vendor failures: they are recorded.
    Incremental when the system's cursor allows it (extractors/cursors.py), else full."""
    system = cfg.system(system_id)
    with open_warehouse(cfg.warehouse_path) as con:
        plan = plan_extraction(con, system, clock.now(), force_full=full_refresh)
        connector = build_connector(system, since=plan.since)
        try:
            return land_snapshot(con, system, connector, cycle_at, clock, plan)
        finally:
            close = getattr(connector, "close", None)
            if callable(close):
                close()


def prepare_cycle(cfg: StockdriftConfig, cycle_at: datetime, cycle_id: str) -> None:
    """Write the config as data and log the cycle start."""
    with open_warehouse(cfg.warehouse_path) as con:
        write_config(con, cfg)
        con.execute(
            "insert into ops.cycles values (?, ?, ?, null, 'running', null) "
            "on conflict (cycle_id) do update set status = 'running'",
            [cycle_id, to_naive_utc(cycle_at), to_naive_utc(cycle_at)],
        )


@dataclass
class EvaluationResult:
    outcomes: list[SuiteOutcome]
    changes: QueueChanges
    open_by_cause: dict[str, int] = field(default_factory=dict)


def evaluate(cfg: StockdriftConfig, cycle_at: datetime) -> EvaluationResult:
    """Run the GX suites over the marts and fold their findings into the queue."""
    with open_warehouse(cfg.warehouse_path) as con:
        outcomes = run_suites(con)
        changes = apply_outcomes(con, outcomes, cycle_at, cfg)
        rows = con.execute(
            "select cause, count(*) from ops.exceptions where status <> 'resolved' group by 1"
        ).fetchall()
    return EvaluationResult(outcomes, changes, {str(c): int(n) for c, n in rows})


def finish_cycle(
    cfg: StockdriftConfig,
    cycle_id: str,
    finished_at: datetime,
    status: str = "succeeded",
    detail: str | None = None,
) -> None:
    with open_warehouse(cfg.warehouse_path) as con:
        con.execute(
            "update ops.cycles set finished_at = ?, status = ?, detail = ? where cycle_id = ?",
            [to_naive_utc(finished_at), status, detail, cycle_id],
        )



@dataclass
class CycleOutcome:
    snapshots: list[SnapshotResult]
    evaluation: EvaluationResult
    alerts: Any  # stockdrift.alerting.AlertCycleResult


def run_cycle(
    cfg: StockdriftConfig,
    cycle_at: datetime,
    clock: Clock,
    *,
    build: Callable[[str], object],
    cycle_id: str | None = None,
    extract: Callable[[StockdriftConfig, str, datetime, Clock], SnapshotResult] = extract_system,
    alert_kwargs: dict[str, Any] | None = None,
    wait_seconds: float = 0.0,
) -> CycleOutcome:
    """Every stage of one cycle in the Dagster job's order, holding the warehouse's cycle
    lock throughout (a second cycle waits `wait_seconds`, then refuses). `build` runs dbt
    (`dagster_project.defs.transform.run_dbt_build`): core code does not import Dagster."""
    from stockdrift.alerting import alert_cycle

    cycle_id = cycle_id or f"cycle-{to_naive_utc(cycle_at):%Y%m%dT%H%M%S}"
    with cycle_lock(cfg.warehouse_path, wait_seconds=wait_seconds, label=cycle_id):
        snapshots = [extract(cfg, s.id, cycle_at, clock) for s in cfg.systems]
        prepare_cycle(cfg, cycle_at, cycle_id)
        build(to_naive_utc(cycle_at).strftime("%Y-%m-%d %H:%M:%S"))
        evaluation = evaluate(cfg, cycle_at)
        alerts = alert_cycle(cfg, cycle_at, **(alert_kwargs or {}))
        finish_cycle(cfg, cycle_id, clock.now())
    return CycleOutcome(snapshots, evaluation, alerts)
