"""dbt models as Dagster assets (dagster-dbt), built once per cycle with the cycle's time."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.defs.extract import LANDED
from dagster_project.resources import StockdriftResource, cycle_time

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"


def dbt_executable() -> str:
    """The project's own dbt, next to this interpreter (not whatever is first on PATH)."""
    return str(Path(sys.executable).parent / "dbt")


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
    if not project.manifest_path.exists():
        # First use on a fresh clone: parse once (partial parsing keeps later runs cheap).
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(
            ["parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--quiet"]
        )
        if not result.success:
            raise RuntimeError(f"dbt parse failed in {DBT_DIR}: {result.exception}")
    return project


class StockdriftTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # raw.* and config.* are written by the extract stage's barrier asset.
            return LANDED
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


def dbt_vars(cycle_at: str) -> str:
    return json.dumps({"cycle_at": cycle_at})


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=StockdriftTranslator(),
    )
    def stockdrift_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, stockdrift: StockdriftResource
    ) -> Iterator[Any]:
        cfg = stockdrift.load()
        os.environ["STOCKDRIFT_WAREHOUSE"] = str(Path(cfg.warehouse_path).resolve())
        at = cycle_time(context).strftime("%Y-%m-%d %H:%M:%S")
        yield from dbt.cli(["build", "--vars", dbt_vars(at)], context=context).stream()

    return stockdrift_dbt


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project(), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
    )
