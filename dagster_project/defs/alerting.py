"""Route, render and deliver alerts through the outbox (Slack, or a file when no token)."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from dagster_project.defs.evaluate import QUEUE
from dagster_project.resources import StockdriftResource, cycle_time
from stockdrift.alerting import alert_cycle

ALERTS = dg.AssetKey("slack_alerts")


@dg.asset(
    key=ALERTS,
    deps=[QUEUE],
    group_name="alert",
    kinds={"slack"},
    description="New, reopened and resolved exceptions grouped per owner/cause/system, "
    "written to ops.alert_outbox before sending, then delivered.",
    check_specs=[dg.AssetCheckSpec("alert_delivery_healthy", asset=ALERTS)],
)
def slack_alerts(
    context: dg.AssetExecutionContext, stockdrift: StockdriftResource
) -> Iterator[Any]:
    cfg = stockdrift.load()
    run_url = f"{cfg.slack.dagster_url.rstrip('/')}/runs/{context.run_id}"
    result = alert_cycle(cfg, cycle_time(context), run_url=run_url)
    yield dg.MaterializeResult(
        metadata={
            "enqueued": result.enqueued,
            "sent": result.sent,
            "failed": result.failed,
            "pending": result.pending,
            "sink": result.sink,
        }
    )
    yield dg.AssetCheckResult(
        check_name="alert_delivery_healthy",
        passed=result.failed == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(result.errors)[:2000] or "every queued alert delivered",
        metadata={"pending": result.pending},
    )
