"""Route, render and deliver alerts through the outbox (Slack, or a file when no token)."""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from dagster_project.defs.evaluate import QUEUE
from dagster_project.resources import StockdriftResource, cycle_time
from stockdrift.alerting import alert_cycle
from stockdrift.pipeline import finish_cycle

ALERTS = dg.AssetKey("slack_alerts")


@dg.asset(
    key=ALERTS,
    deps=[QUEUE],
    group_name="alert",
    kinds={"slack"},
    description="Opened, worse, escalated, resolved and reminder notices (grouped per "
    "owner/cause/system), daily digests and heartbeat, written to ops.alert_outbox before "
    "sending, then delivered. Owners the alerts cannot reach become alert_delivery_failed.",
    check_specs=[dg.AssetCheckSpec(
        "alert_delivery_healthy", asset=ALERTS,
        description="Fails while any alert_delivery_failed exception is open: an owner's "
        "alerts keep failing or the owner cannot be resolved.",
    )],
)
def slack_alerts(
    context: dg.AssetExecutionContext, stockdrift: StockdriftResource
) -> Iterator[Any]:
    cfg = stockdrift.load()
    at = cycle_time(context)
    run_url = f"{cfg.slack.dagster_url.rstrip('/')}/runs/{context.run.run_id}"
    result = alert_cycle(cfg, at, run_url=run_url)
    # The cycle got its alerts out: what the daily heartbeat counts as a succeeded cycle.
    finish_cycle(cfg, context.run.run_id, stockdrift.clock(at).now(), "succeeded",
                 f"{result.sent} alerts sent, {result.pending} waiting")
    yield dg.MaterializeResult(
        metadata={
            "enqueued": result.enqueued,
            "sent": result.sent,
            "failed": result.failed,
            "pending": result.pending,
            "sink": result.sink,
            "by_kind": dg.MetadataValue.json(result.by_kind),
        }
    )
    yield dg.AssetCheckResult(
        check_name="alert_delivery_healthy",
        passed=result.healthy,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(result.delivery_problems + result.errors)[:2000]
        or "every owner reachable",
        metadata={"pending": result.pending, "failed_attempts": result.failed,
                  "owners_cut_off": len(result.delivery_problems)},
    )
