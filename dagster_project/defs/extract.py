"""One asset per configured system: land a snapshot of it in raw (httpx extractors)."""

from __future__ import annotations

import dagster as dg

from dagster_project.resources import StockdriftResource, cycle_time
from stockdrift.config import StockdriftConfig
from stockdrift.pipeline import extract_system, prepare_cycle

LANDED = dg.AssetKey("landed_snapshots")


def extract_key(system_id: str) -> dg.AssetKey:
    return dg.AssetKey(["extract", system_id])


def build_extract_asset(system_id: str, role: str, connector: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=extract_key(system_id),
        group_name="extract",
        kinds={"python", "duckdb"},
        description=f"Snapshot of {system_id} ({role}, {connector}) landed in raw.",
        check_specs=[dg.AssetCheckSpec("extraction_succeeded", asset=extract_key(system_id))],
        tags={"stockdrift/system": system_id},
    )
    def _extract(context: dg.AssetExecutionContext, stockdrift: StockdriftResource):  # type: ignore[no-untyped-def]
        cfg = stockdrift.load()
        at = cycle_time(context)
        result = extract_system(cfg, system_id, at, stockdrift.clock(at))
        meta = {
            "snapshot_id": result.snapshot_id,
            "status": result.status,
            "row_count": result.row_count,
            "pages": result.pages,
            "error_cause": result.error_cause or "",
        }
        yield dg.MaterializeResult(metadata=meta)
        yield dg.AssetCheckResult(
            check_name="extraction_succeeded",
            passed=result.status == "succeeded",
            severity=dg.AssetCheckSeverity.ERROR,
            description=result.error_cause or "snapshot landed",
            metadata={"snapshot_id": result.snapshot_id},
        )

    return _extract


def build_extract_assets(cfg: StockdriftConfig) -> list[dg.AssetsDefinition]:
    return [build_extract_asset(s.id, s.role, s.connector) for s in cfg.systems]


def build_landed_asset(cfg: StockdriftConfig) -> dg.AssetsDefinition:
    @dg.asset(
        key=LANDED,
        deps=[extract_key(s.id) for s in cfg.systems],
        group_name="extract",
        kinds={"duckdb"},
        description="Barrier after every extraction of the cycle: writes the config as data "
        "(config.systems, config.locations) and logs the cycle; dbt sources hang off it.",
    )
    def landed_snapshots(context: dg.AssetExecutionContext, stockdrift: StockdriftResource):  # type: ignore[no-untyped-def]
        config = stockdrift.load()
        at = cycle_time(context)
        prepare_cycle(config, at, context.run_id)
        return dg.MaterializeResult(metadata={"cycle_at": at.isoformat()})

    return landed_snapshots
