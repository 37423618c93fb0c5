"""The leadership report as an asset: one self-contained HTML file per cycle."""

from pathlib import Path

import dagster as dg

from dagster_project.defs.alerting import ALERTS
from dagster_project.resources import StockdriftResource, cycle_time
from reports.html import write_report


@dg.asset(
    key=dg.AssetKey("drift_report"),
    deps=[ALERTS],
    group_name="report",
    kinds={"html"},
    description="Self-contained HTML drift and freshness report (charts inline).",
)
def drift_report(
    context: dg.AssetExecutionContext, stockdrift: StockdriftResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    cfg = stockdrift.load()
    path = Path(cfg.out_dir) / "report.html"
    figures = write_report(cfg, cycle_time(context), path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path.resolve())),
            **{k: v for k, v in figures.items() if isinstance(v, int | float | str)},
        }
    )
