"""The inventory-semantics marts end to end: raw rows -> dbt build -> GX suites -> findings.

A copy of the dbt project (so the test can add a bundle SKU to the mapping seed) is built on
a throwaway DuckDB file twice: at cycle 1 (09:05) and at cycle 4 (09:20). Targets: ERP and
Shopify 5 min, ShipBob and the WMS 15 min. Keys (catalog ids):

- SD-1001 @ CICERO-3PL: ShipBob released 2 units of a canceled order (committed 3 vs the
  ERP's 5, same on-hand) -> canceled_order_not_released once 15 min old.
- SD-1002 @ CICERO-3PL: ShipBob shipped 1 of an order of 4 at cycle 1 (on-hand and committed
  down by 1), the ERP posts it at cycle 3 -> never an exception (partial shipment).
- SD-1003 @ CICERO-3PL: ShipBob awaits 12 units, the ERP has no purchase order -> incoming_stuck.
- SD-1004 @ CICERO-3PL: ShipBob awaits 10 units, the ERP has 10 on order -> fine.
- SD-KIT-01 (1 x SD-1003 + 2 x SD-1004) listed 4 on Shopify at EAST-DC where the components
  build 2 -> bundle_overstated once 5 min old.
- Lots of SD-1001 @ CICERO-3PL: ShipBob L1, L2 vs the ERP's L1, L3 -> lot_serial_mismatch.
- WMS returns at EAST-DC (5 business days, New York calendar, Thanksgiving): R1 received Mon
  2025-11-24 is overdue since 2025-12-03 05:00 UTC; R2 (Wed 11-26) is not due; R3 restocked.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from expectations import semantics
from sandbox.catalog import LOCATIONS, SKUS
from stockdrift.config import parse_config
from stockdrift.warehouse import ensure_schema, write_config

REPO = Path(__file__).resolve().parents[2]
CYCLES = tuple(datetime(2025, 12, 3, 9, 0) + timedelta(minutes=5 * i) for i in range(5))
CANCELED, PARTIAL, STUCK, ON_ORDER = SKUS[0], SKUS[1], SKUS[2], SKUS[3]
EAST, CICERO = LOCATIONS[0], LOCATIONS[1]
KIT = "SD-KIT-01"
KIT_SHOPIFY_ITEM = 49999777

CONFIG = {
    "master": "erp",
    "systems": [
        {"id": "erp", "role": "erp", "connector": "netsuite_suiteql",
         "base_url": "http://127.0.0.1:1", "freshness_target_minutes": 5},
        {"id": "shopify", "role": "storefront", "connector": "shopify_rest",
         "base_url": "http://127.0.0.1:2", "freshness_target_minutes": 5},
        {"id": "shipbob", "role": "3pl", "connector": "shipbob",
         "base_url": "http://127.0.0.1:3", "freshness_target_minutes": 15},
        {"id": "wms", "role": "wms", "connector": "sql_wms",
         "base_url": "duckdb:///tmp/wms.duckdb", "freshness_target_minutes": 15},
    ],
    "locations": [
        {"id": EAST.location_id, "name": EAST.name, "timezone": EAST.timezone},
        {"id": CICERO.location_id, "name": CICERO.name, "timezone": CICERO.timezone},
    ],
    "owners": {"ops": {"slack": "C0OPS00001"}},
    "routing": {"default_owner": "ops", "mapping_owner": "ops"},
}


def _erp_book(sku_index: int, loc: int, cycle: int) -> tuple[int, int, int | None]:
    """(on_hand, committed, on_order) the ERP shows."""
    sku = SKUS[sku_index]
    if loc == 1 and sku == CANCELED:
        return 50, 5, None
    if loc == 1 and sku == PARTIAL:
        return (40, 4, None) if cycle < 3 else (39, 3, None)  # posts the shipment at cycle 3
    if loc == 1 and sku == ON_ORDER:
        return 30, 0, 10
    if loc == 0 and sku == STUCK:
        return 9, 2, None   # 7 available: 7 kits by this component
    if loc == 0 and sku == ON_ORDER:
        return 6, 1, None   # 5 available: 2 kits (2 per kit)
    return 20, 0, None


def _shipbob(sku_index: int, cycle: int) -> tuple[int, int, int]:
    """(on_hand, committed, awaiting) ShipBob shows at CICERO-3PL."""
    sku = SKUS[sku_index]
    on_hand, committed, on_order = _erp_book(sku_index, 1, cycle)
    if sku == CANCELED:
        return on_hand, 3, 0
    if sku == PARTIAL:
        return (40, 4, 0) if cycle < 1 else (39, 3, 0)  # 1 shipped at cycle 1
    if sku == STUCK:
        return on_hand, committed, 12
    return on_hand, committed, on_order or 0


def _snapshot(system_id: str, connector: str, cycle: int, rows: int) -> tuple[Any, ...]:
    at = CYCLES[cycle]
    return (f"{system_id}-{cycle}", system_id, connector, at, at + timedelta(seconds=5),
            at + timedelta(seconds=20), None, "succeeded", rows, 1, 1, None)


def _land(con: duckdb.DuckDBPyConnection, cycle: int) -> None:
    ns, shop, sb, ns_lots, sb_lots = [], [], [], [], []
    for i, sku in enumerate(SKUS[:4]):
        for li, loc in enumerate((EAST, CICERO)):
            on_hand, committed, on_order = _erp_book(i, li, cycle)
            ns.append((f"erp-{cycle}", sku.netsuite_item, sku.sku, loc.netsuite_location,
                       loc.name, str(on_hand), str(on_hand - committed), str(committed),
                       None if on_order is None else str(on_order), f"{sku.unit_cost:.2f}"))
            listed = on_hand - committed
            updated = (CYCLES[0] - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
            shop.append((f"shopify-{cycle}", sku.shopify_item_id, loc.shopify_location_id,
                         sku.sku, listed, updated))
        on_hand, committed, awaiting = _shipbob(i, cycle)
        sb.append((f"shipbob-{cycle}", sku.shipbob_inventory_id, sku.name, CICERO.shipbob_fc_id,
                   CICERO.name, on_hand, committed, on_hand - committed, awaiting, 0))
    shop.append((f"shopify-{cycle}", KIT_SHOPIFY_ITEM, EAST.shopify_location_id, KIT, 4,
                 "2025-12-03T03:00:00-05:00"))
    for lot, qty in (("L1", 30), ("L2", 20)):
        sb_lots.append((f"shipbob-{cycle}", CANCELED.shipbob_inventory_id, lot,
                        "2026-06-30T00:00:00Z", CICERO.shipbob_fc_id, qty, 0, qty, 0))
    for lot, qty in (("L1", 30), ("L3", 20)):
        ns_lots.append((f"erp-{cycle}", CANCELED.netsuite_item, CANCELED.sku,
                        CICERO.netsuite_location, lot, "2026-06-30", str(qty), str(qty)))
    returns = [
        (f"wms-{cycle}", "R1", CANCELED.sku, "DC01", 2, "2025-11-24T10:00:00-05:00", None,
         None, None),
        (f"wms-{cycle}", "R2", CANCELED.sku, "DC01", 1, "2025-11-26T10:00:00-05:00", None,
         None, "restock"),
        (f"wms-{cycle}", "R3", CANCELED.sku, "DC01", 1, "2025-11-24T10:00:00-05:00",
         "2025-11-25T10:00:00-05:00", "2025-11-26T10:00:00-05:00", "restock"),
    ]
    con.executemany("insert into raw.netsuite_inventory values (?,?,?,?,?,?,?,?,?,?)", ns)
    con.executemany("insert into raw.shopify_inventory_levels values (?,?,?,?,?,?)", shop)
    con.executemany("insert into raw.shipbob_inventory values (?,?,?,?,?,?,?,?,?,?)", sb)
    con.executemany("insert into raw.shipbob_inventory_lots values (?,?,?,?,?,?,?,?,?)", sb_lots)
    con.executemany("insert into raw.netsuite_inventory_lots values (?,?,?,?,?,?,?,?)", ns_lots)
    con.executemany("insert into raw.wms_returns values (?,?,?,?,?,?,?,?,?)", returns)
    con.executemany("insert into raw.snapshots values (?,?,?,?,?,?,?,?,?,?,?,?)", [
        _snapshot("erp", "netsuite_suiteql", cycle, len(ns)),
        _snapshot("shopify", "shopify_rest", cycle, len(shop)),
        _snapshot("shipbob", "shipbob", cycle, len(sb)),
        _snapshot("wms", "sql_wms", cycle, len(returns)),
    ])


def _query(warehouse: Path, sql: str) -> list[dict[str, Any]]:
    con = duckdb.connect(str(warehouse))
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _findings(warehouse: Path) -> dict[tuple[str, str | None, str | None], Any]:
    con = duckdb.connect(str(warehouse))
    try:
        outcomes = [suite.run(con) for suite in semantics.SUITES]
    finally:
        con.close()
    return {(f.cause, f.canonical_sku, f.external_id): f for o in outcomes for f in o.findings}


def _ensure_seed_rows(path: Path, rows: list[str]) -> None:
    """Add the mapping rows this story needs unless the committed seed already has them."""
    text = path.read_text(encoding="utf-8")
    missing = [r for r in rows if r not in set(text.splitlines())]
    if missing:
        lead = "" if text.endswith("\n") else "\n"
        path.write_text(text + lead + "".join(f"{r}\n" for r in missing), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from dbt.cli.main import dbtRunner

    tmp = tmp_path_factory.mktemp("dbt_semantics")
    project = tmp / "dbt"
    shutil.copytree(REPO / "dbt", project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "*.duckdb"))
    _ensure_seed_rows(project / "seeds" / "sku_map.csv", [
        f"shopify,{KIT},{KIT}", f"wms,{CANCELED.sku},{CANCELED.sku}",
        *(f"shipbob,{s.shipbob_inventory_id},{s.sku}" for s in SKUS[:4]),
    ])
    _ensure_seed_rows(project / "seeds" / "location_map.csv", [
        f"wms,DC01,{EAST.location_id}",
        f"shipbob,{CICERO.shipbob_fc_id},{CICERO.location_id}",
    ])
    warehouse = tmp / "stockdrift.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_schema(con)
    write_config(con, parse_config(CONFIG))
    for cycle in range(2):
        _land(con, cycle)
    con.close()
    common = ["--project-dir", str(project), "--profiles-dir", str(project),
              "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet",
              "--exclude-resource-type", "unit_test"]
    result: dict[str, Any] = {"warehouse": warehouse}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STOCKDRIFT_WAREHOUSE", str(warehouse))
        parsed = dbtRunner().invoke(["parse", *common[:-2]])
        assert parsed.success, parsed.exception
        runner = dbtRunner(manifest=parsed.result)

        def build(cycle: int) -> None:
            at = CYCLES[cycle].strftime("%Y-%m-%d %H:%M:%S")
            res = runner.invoke(["build", *common, "--vars", f"{{cycle_at: '{at}'}}"])
            failed = [f"{r.node.unique_id}: {r.status} {r.message}" for r in res.result or []
                      if str(r.status) not in {"success", "pass"}]
            assert res.success and not failed, failed or res.exception

        build(1)
        result["cycle_1"] = _findings(warehouse)
        con = duckdb.connect(str(warehouse))
        for cycle in range(2, 5):
            _land(con, cycle)
        con.close()
        build(4)
        result["cycle_4"] = _findings(warehouse)
        # the same five cycles built in one go, to check the incremental models against
        con = duckdb.connect(str(warehouse))
        con.execute("force checkpoint")     # the file alone then holds every landed row
        con.close()
        full = tmp / "full-refresh.duckdb"
        shutil.copyfile(warehouse, full)
        mp.setenv("STOCKDRIFT_WAREHOUSE", str(full))
        at = CYCLES[4].strftime("%Y-%m-%d %H:%M:%S")
        res = dbtRunner().invoke(["build", *common, "--full-refresh",
                                  "--vars", f"{{cycle_at: '{at}'}}"])
        assert res.success, res.exception
        result["full_refresh"] = full
    yield result


SEMANTIC_INCREMENTAL = ("int_lot_positions_mapped", "int_lot_sets_compared",
                        "int_holder_buckets_compared", "int_bundle_availability_computed",
                        "int_positions_mapped", "int_master_changes_detected",
                        "int_comparison_states", "int_variance_states")


@pytest.mark.parametrize("model", SEMANTIC_INCREMENTAL)
def test_incremental_builds_equal_one_full_refresh(built: dict[str, Any], model: str) -> None:
    """Cycles 0-1 built at cycle 1 and 2-4 appended at cycle 4 hold exactly the rows that one
    --full-refresh build of all five cycles computes."""
    def rows(path: Path) -> list[str]:
        con = duckdb.connect(str(path))
        try:
            return sorted(map(repr, con.execute(f"select * from intermediate.{model}").fetchall()))
        finally:
            con.close()

    incremental = rows(built["warehouse"])
    assert incremental
    assert incremental == rows(built["full_refresh"])


def test_young_differences_are_in_flight(built: dict[str, Any]) -> None:
    # at 09:05 only the bundle (target 5) and the overdue return are exceptions; the 3PL's
    # reservation, incoming and lot differences are 5 minutes old against a 15-minute target
    assert set(built["cycle_1"]) == {
        ("bundle_overstated", KIT, None),
        ("return_restock_delayed", CANCELED.sku, "R1"),
    }


def test_settled_semantics_become_findings_with_evidence(built: dict[str, Any]) -> None:
    findings = built["cycle_4"]
    assert set(findings) == {
        ("bundle_overstated", KIT, None),
        ("return_restock_delayed", CANCELED.sku, "R1"),
        ("canceled_order_not_released", CANCELED.sku, None),
        ("incoming_stuck", STUCK.sku, None),
        ("lot_serial_mismatch", CANCELED.sku, None),
    }
    canceled = findings[("canceled_order_not_released", CANCELED.sku, None)]
    assert canceled.canonical_location == CICERO.location_id
    assert canceled.evidence["master"]["committed"] == 5
    assert canceled.evidence["observed"]["committed"] == 3
    assert canceled.evidence["variance_units"] == 2
    assert canceled.evidence["drift_since"] == "2025-12-03T09:00:00Z"
    assert canceled.evidence["master"]["at"] == "2025-12-03T09:20:20Z"
    assert "canceled" in canceled.probable_cause and "release" in canceled.suggested_check

    kit = findings[("bundle_overstated", KIT, None)]
    assert (kit.evidence["observed_qty"], kit.evidence["buildable_qty"]) == (4, 2)
    assert kit.evidence["components"] == "SD-1003 x1: 7 available; SD-1004 x2: 5 available"
    assert kit.severity == "critical"

    stuck = findings[("incoming_stuck", STUCK.sku, None)]
    assert (stuck.evidence["observed_qty"], stuck.evidence["expected_qty"]) == (12, 0)

    late = findings[("return_restock_delayed", CANCELED.sku, "R1")]
    assert late.evidence["restock_due_at"] == "2025-12-03T05:00:00Z"
    assert late.evidence["holidays_in_window"] == 1

    lots = findings[("lot_serial_mismatch", CANCELED.sku, None)]
    assert lots.evidence["lots"] == "L1: 30 vs 30; L2: 20 vs -; L3: - vs 20"


def test_partial_shipment_and_known_purchase_order_never_alert(built: dict[str, Any]) -> None:
    rows = {
        (r["canonical_sku"], r["bucket"]): r
        for r in _query(built["warehouse"], "select * from marts.fct_holder_bucket_drift")
    }
    partial = rows[(PARTIAL.sku, "committed")]
    assert (partial["excess_committed_units"], partial["unexplained_units"]) == (0, 0)
    assert partial["probable_cause"] is None
    assert rows[(ON_ORDER.sku, "incoming")]["probable_cause"] is None
    history = _query(built["warehouse"],
                     "select cycle_at, excess_committed_units, unreleased_committed_units "
                     "from intermediate.int_holder_buckets_compared "
                     f"where system_id = 'shipbob' and canonical_sku = '{PARTIAL.sku}' "
                     "order by cycle_at")
    # while the shipment was unposted (cycles 1-2) the master held 1 more committed unit,
    # explained by the 1 unit that left the 3PL
    assert [(h["excess_committed_units"], h["unreleased_committed_units"]) for h in history] == [
        (0, 0), (1, 0), (1, 0), (0, 0), (0, 0)
    ]
