"""One asset per configured system: land a snapshot of it in raw (httpx extractors)."""

import dagster as dg

from dagster_project.resources import StockdriftResource, cycle_time
from stockdrift.config import StockdriftConfig
from stockdrift.pipeline import extract_system, prepare_cycle

# The warehouse tables the extraction stage writes: dbt's sources (default dagster-dbt keys).
RAW_TABLE_BY_CONNECTOR = {
    "netsuite_suiteql": "netsuite_inventory",
    "shopify_rest": "shopify_inventory_levels",
    "shipbob": "shipbob_inventory",
    "shopify_graphql": "shopify_inventory_quantities",
    "amazon_fba": "amazon_fba_inventory",
    "amazon_mfn": "amazon_mfn_listings",
    "square": "square_inventory_counts",
    "edi846": "edi846_inventory",
    "csv_drop": "csv_drop_inventory",
    "sql_wms": "wms_inventory",
}
LANDED_KEYS = (
    dg.AssetKey(["raw", "snapshots"]),
    dg.AssetKey(["raw", "snapshot_modes"]),  # full or incremental (and its base snapshot)
    *(dg.AssetKey(["raw", t]) for t in RAW_TABLE_BY_CONNECTOR.values()),
    dg.AssetKey(["config", "systems"]),
    dg.AssetKey(["config", "locations"]),
)


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
        # One pool per system: deployments cap concurrent extractions per vendor (rate limits).
        pool=f"extract/{system_id}",
    )
    def _extract(context: dg.AssetExecutionContext, stockdrift: StockdriftResource):  # type: ignore[no-untyped-def]
        cfg = stockdrift.load()
        at = cycle_time(context)
        result = extract_system(cfg, system_id, at, stockdrift.clock(at))
        meta: dict[str, str | int] = {
            "snapshot_id": result.snapshot_id,
            "status": result.status,
            "mode": result.mode,  # full | incremental (extractors/cursors.py)
            "row_count": result.row_count,
            "pages": result.pages,
            "attempts": result.attempts,
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
    all_extracts = [extract_key(s.id) for s in cfg.systems]

    def deps_for(key: dg.AssetKey) -> list[dg.AssetKey]:
        table = key.path[-1]
        feeding = [
            extract_key(s.id)
            for s in cfg.systems
            if RAW_TABLE_BY_CONNECTOR.get(s.connector) == table
        ]
        return feeding if key.path[0] == "raw" and table != "snapshots" else all_extracts

    specs = [
        dg.AssetSpec(
            key,
            deps=deps_for(key),
            group_name="extract",
            kinds={"duckdb"},
            description=f"{'.'.join(key.path)} in the warehouse (dbt source)",
        )
        for key in LANDED_KEYS
    ]

    @dg.multi_asset(specs=specs, name="landed_snapshots")
    def landed_snapshots(context: dg.AssetExecutionContext, stockdrift: StockdriftResource):  # type: ignore[no-untyped-def]
        """Barrier after every extraction of the cycle: writes the config as data and logs
        the cycle; the raw tables were filled snapshot by snapshot by the extract assets."""
        config = stockdrift.load()
        at = cycle_time(context)
        prepare_cycle(config, at, context.run_id)
        for key in LANDED_KEYS:
            yield dg.MaterializeResult(asset_key=key, metadata={"cycle_at": at.isoformat()})

    return landed_snapshots
