"""Great Expectations decides: suites over the marts, failing rows become the exception
queue. Each suite is also an asset check, so failures show in the Dagster UI."""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.resources import StockdriftResource, cycle_time
from expectations import semantics
from expectations.runner import SUITES
from stockdrift.pipeline import evaluate

QUEUE = dg.AssetKey("exception_queue")
MARTS = ("fct_variance", "fct_system_freshness", "fct_system_drift", "fct_unmapped_keys",
         *semantics.MARTS)
CHECK_NAMES = {
    "extraction": "extractions_succeeded",
    "freshness": "systems_within_freshness_target",
    "sync_incidents": "no_sync_stopped",
    "variance": "settled_variance_within_tolerance",
    "mapping": "every_key_mapped",
    **semantics.CHECK_NAMES,
}


def build_queue_asset(dbt_defs: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    deps = [get_asset_key_for_model(dbt_defs, m) for m in MARTS]

    @dg.asset(
        key=QUEUE,
        deps=deps,
        group_name="evaluate",
        kinds={"python", "duckdb"},
        description="GX suites over the marts; failing rows upserted into ops.exceptions "
        "(open/acknowledged/snoozed/resolved, every transition logged).",
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAMES[s.name],
                asset=QUEUE,
                description=f"GX suite '{s.name}' over marts.{s.mart}",
            )
            for s in SUITES
        ],
    )
    def exception_queue(
        context: dg.AssetExecutionContext, stockdrift: StockdriftResource
    ) -> Iterator[Any]:
        cfg = stockdrift.load()
        result = evaluate(cfg, cycle_time(context))
        changes = result.changes
        yield dg.MaterializeResult(
            metadata={
                "opened": len(changes.opened),
                "reopened": len(changes.reopened),
                "resolved": len(changes.resolved),
                "still_open": len(changes.still_open),
                "open_by_cause": dg.MetadataValue.json(result.open_by_cause),
            }
        )
        for outcome in result.outcomes:
            yield dg.AssetCheckResult(
                check_name=CHECK_NAMES[outcome.suite],
                passed=outcome.success,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "evaluated_rows": outcome.evaluated_rows,
                    "failed_rows": outcome.failed_rows,
                    "expectations": dg.MetadataValue.json(outcome.expectations),
                },
            )

    return exception_queue
