"""Assembles the Definitions; every piece is built in its own module under defs/.

Loaded lazily (`@dg.definitions`): importing this module does no work. The config path
comes from STOCKDRIFT_CONFIG (default: stockdrift.example.yml).
"""

from __future__ import annotations

import os

import dagster as dg

from alerts.routing import require_valid_routes
from dagster_project.defs.alerting import slack_alerts
from dagster_project.defs.evaluate import build_queue_asset
from dagster_project.defs.extract import build_extract_assets, build_landed_asset
from dagster_project.defs.reporting import drift_report
from dagster_project.defs.schedules import all_systems_job, build_schedules
from dagster_project.defs.transform import (
    build_dbt_assets,
    dbt_data_tests_job,
    dbt_data_tests_schedule,
    dbt_resource,
)
from dagster_project.resources import StockdriftResource
from stockdrift.config import load_config

DEFAULT_CONFIG = "stockdrift.example.yml"


def build_definitions(config_path: str | None = None) -> dg.Definitions:
    path = config_path or os.environ.get("STOCKDRIFT_CONFIG", DEFAULT_CONFIG)
    cfg = load_config(path)
    require_valid_routes(cfg, path)  # fail at load, naming every unroutable case
    dbt_defs = build_dbt_assets()
    jobs, schedules = build_schedules(cfg)
    return dg.Definitions(
        assets=[
            *build_extract_assets(cfg),
            build_landed_asset(cfg),
            dbt_defs,
            build_queue_asset([dbt_defs]),
            slack_alerts,
            drift_report,
        ],
        jobs=[all_systems_job(), *jobs, dbt_data_tests_job],
        schedules=[*schedules, dbt_data_tests_schedule],
        resources={
            "stockdrift": StockdriftResource(
                config_path=path,
                frozen_clock=os.environ.get("STOCKDRIFT_FROZEN_CLOCK", "") == "1",
            ),
            "dbt": dbt_resource(),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
