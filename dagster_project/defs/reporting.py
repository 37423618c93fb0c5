"""The leadership report as an asset: one self-contained HTML file per cycle (last 24 hours),
its figures exported as CSV/Parquet, and the key figures as metadata the Dagster UI shows."""

from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.defs.alerting import ALERTS
from dagster_project.resources import StockdriftResource, cycle_time
from reports.html import write_report
from reports.period import DEFAULT_WINDOW, Period
from stockdrift.clock import to_naive_utc


def report_metadata(kpis: dict[str, Any]) -> dict[str, Any]:
    """Numbers and short texts only; `None` (nothing measured yet) is left out."""
    return {k: v for k, v in kpis.items() if isinstance(v, int | float | str) and v != ""}


@dg.asset(
    key=dg.AssetKey("drift_report"),
    deps=[ALERTS],
    group_name="report",
    kinds={"html", "parquet"},
    description="Self-contained HTML drift and freshness report for the last 24 hours "
    "(charts inline) with its figures exported as CSV and Parquet.",
)
def drift_report(
    context: dg.AssetExecutionContext, stockdrift: StockdriftResource
) -> dg.MaterializeResult:
    cfg = stockdrift.load()
    cycle_at = cycle_time(context)
    end = to_naive_utc(cycle_at)
    path = Path(cfg.out_dir) / "report.html"
    export_dir = Path(cfg.out_dir) / "report"
    data = write_report(cfg, Period(end - DEFAULT_WINDOW, end), cycle_at, path, export_dir)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path.resolve())),
            "export_dir": dg.MetadataValue.path(str(export_dir.resolve())),
            **report_metadata(data.kpis),
        }
    )
