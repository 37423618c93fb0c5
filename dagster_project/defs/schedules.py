"""One job and schedule per freshness target: a system is extracted as often as its
target asks; every run rebuilds the marts, evaluates, alerts and reports."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import dagster as dg

from dagster_project.defs.extract import LANDED_KEYS, extract_key
from dagster_project.resources import CYCLE_TAG
from stockdrift.config import StockdriftConfig

DOWNSTREAM = dg.AssetSelection.assets(*LANDED_KEYS).downstream()


def cron_for(minutes: int) -> str:
    if minutes < 60:
        return f"*/{minutes} * * * *"
    if minutes < 1440:
        return f"0 */{max(1, minutes // 60)} * * *"
    return "0 2 * * *"  # nightly


def all_systems_job() -> Any:
    return dg.define_asset_job(
        "monitor_cycle",
        selection=dg.AssetSelection.all(),
        description="Every system extracted, then dbt, expectations, alerts and the report.",
    )


def build_schedules(
    cfg: StockdriftConfig,
) -> tuple[list[Any], list[dg.ScheduleDefinition]]:
    by_target: dict[int, list[str]] = defaultdict(list)
    for system in cfg.systems:
        by_target[system.freshness_target_minutes].append(system.id)
    jobs, schedules = [], []
    for minutes, system_ids in sorted(by_target.items()):
        job = dg.define_asset_job(
            f"cycle_every_{minutes}m",
            selection=dg.AssetSelection.assets(*[extract_key(s) for s in system_ids]) | DOWNSTREAM,
            description=f"Systems with a {minutes}-minute target: {', '.join(system_ids)}",
        )

        @dg.schedule(
            job=job,
            cron_schedule=cron_for(minutes),
            name=f"every_{minutes}m",
            default_status=dg.DefaultScheduleStatus.STOPPED,
        )
        def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
            at = context.scheduled_execution_time.isoformat()
            return dg.RunRequest(run_key=at, tags={CYCLE_TAG: at})

        jobs.append(job)
        schedules.append(_schedule)
    return jobs, schedules
