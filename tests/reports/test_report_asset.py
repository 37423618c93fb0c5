"""The `drift_report` Dagster asset: writes the page and the export, and puts the key figures
in the materialization metadata the Dagster UI shows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
from scenario_warehouse import ReportWarehouse

from dagster_project.defs.reporting import drift_report
from dagster_project.resources import CYCLE_TAG, StockdriftResource
from reports.data import collect
from reports.period import resolve_period

CYCLE_AT = datetime(2025, 1, 6, 9, 15, tzinfo=UTC)


def test_asset_writes_report_and_key_figures_metadata(
    report_warehouse: ReportWarehouse, tmp_path: Path
) -> None:
    result = dg.materialize(
        [drift_report],
        resources={"stockdrift": StockdriftResource(config_path=str(report_warehouse.config_path))},
        tags={CYCLE_TAG: CYCLE_AT.isoformat()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    out = Path(report_warehouse.cfg.out_dir)
    assert Path(str(meta["path"])) == (out / "report.html").resolve()
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert (out / "report" / "key_figures.parquet").exists()
    con = duckdb.connect(str(report_warehouse.path))
    try:
        kpis = collect(con, resolve_period(CYCLE_AT, last="24h")).kpis
    finally:
        con.close()
    for key in ("accuracy_pct", "overstated_units", "open_exceptions", "extraction_failures",
                "queue_trend", "failing_systems"):
        assert meta[key] == kpis[key], key
    assert meta["open_exceptions"] == 1 and meta["failing_systems"] == "shipbob"
