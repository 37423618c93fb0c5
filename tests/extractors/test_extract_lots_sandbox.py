"""Lots against the sandbox servers: ShipBob `fulfillable_quantity_by_lot[]` and the NetSuite
lot query (`options.lots`) land into raw.*_inventory_lots in the same snapshot as the
balances, and every fault mode fails the whole snapshot (no balance or lot rows land)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from extract_vendors import Sleeps

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from extractors.replay import replay_snapshot
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

serve = pytest.importorskip("sandbox.serve", reason="sandbox servers not available")
world_mod = pytest.importorskip("sandbox.world", reason="sandbox world not available")

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
CYCLE = START + timedelta(minutes=30)
FC = {"id": 10, "name": "Cicero (IL)"}
FC2 = {"id": 228, "name": "Moreno Valley (CA)"}
FAULTS = [
    ("expired_token", "HTTP 401"),
    ("status_500", "after 5 attempts"),
    ("malformed_body", "body is not JSON"),
    ("renamed_field", "unexpected response schema"),
    ("truncated_page", "truncated"),
]


def shipbob_lots(world: Any) -> dict[int, list[dict[str, Any]]]:
    """Two lots for every other item (one split over two centers), none for the rest."""
    out: dict[int, list[dict[str, Any]]] = {}
    for n, sku in enumerate(sorted(world.skus, key=lambda s: s.shipbob_inventory_id)):
        if n % 2:
            continue
        out[sku.shipbob_inventory_id] = [
            {"lot_number": f"L{n:03d}A", "expiration_date": date(2025, 1, 1 + n % 28),
             "fulfillment_centers": [{**FC, "onhand_quantity": n, "committed_quantity": 1,
                                      "fulfillable_quantity": n - 1}]},
            {"lot_number": f"L{n:03d}B", "expiration_date": None,
             "fulfillment_centers": [{**FC, "onhand_quantity": 2},
                                     {**FC2, "onhand_quantity": 3, "awaiting_quantity": 4}]},
        ]
    return out


def erp_lots(world: Any) -> list[dict[str, Any]]:
    """Three lots per item at location 1: 3 x 31 = 93 rows (5 pages of 20)."""
    rows = []
    for i, sku in enumerate(world.skus):
        for k in range(3):
            rows.append({"inventorynumber_id": 5000 + 3 * i + k, "item": sku.netsuite_item,
                         "itemid": sku.sku, "location": "1", "inventorynumber": f"{sku.sku}-{k}",
                         "expirationdate": date(2025, 6, 1 + k) if k else None,
                         "quantityonhand": 10 + k, "quantityavailable": 8 + k})
    return rows


@pytest.fixture(scope="module")
def servers() -> Iterator[Any]:
    world = world_mod.World(7, START)
    # The optional accessors the servers look for (sandbox/servers/{shipbob,netsuite}.py).
    world.shipbob_lots = lambda: shipbob_lots(world)
    world.erp_lots = lambda: erp_lots(world)
    with serve.SandboxServers(world, ManualClock(CYCLE)) as running:
        yield running


@pytest.fixture
def con(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    monkeypatch.setenv("NETSUITE_TOKEN", serve.SANDBOX_TOKENS["erp"])
    monkeypatch.setenv("SHIPBOB_TOKEN", serve.SANDBOX_TOKENS["shipbob"])
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def system(servers: Any, system_id: str, concurrency: int = 1, **options: str) -> SystemConfig:
    if system_id == "erp":
        kw: dict[str, Any] = dict(role="erp", connector="netsuite_suiteql",
                                  credentials={"token": "NETSUITE_TOKEN"},
                                  options={"page_size": "20", "lots": "true", **options})
    else:
        kw = dict(role="3pl", connector="shipbob", credentials={"token": "SHIPBOB_TOKEN"},
                  options={"page_size": "10", **options})
    return SystemConfig(id=system_id, base_url=servers.base_urls[system_id],
                        freshness_target_minutes=5, timeout_seconds=1.0,
                        max_concurrency=concurrency, **kw)


def land(con: duckdb.DuckDBPyConnection, servers: Any, config: SystemConfig) -> Any:
    connector = build_connector(config)
    connector._sleep = Sleeps()  # type: ignore[attr-defined]  # no real throttle waits
    return land_snapshot(con, config, connector, CYCLE, ManualClock(CYCLE))


def count(con: duckdb.DuckDBPyConnection, table: str, snapshot_id: str) -> int:
    row = con.execute(f"select count(*) from raw.{table} where snapshot_id = ?",
                      [snapshot_id]).fetchone()
    return int(row[0]) if row else 0


def test_shipbob_lots_land_with_the_balances(
    con: duckdb.DuckDBPyConnection, servers: Any
) -> None:
    config = system(servers, "shipbob")
    result = land(con, servers, config)
    assert result.status == "succeeded", result.error_cause
    assert result.pages == 4 and result.row_count == 31  # lot rows do not count
    assert replay_snapshot(con, {"shipbob": config}, result.snapshot_id, check=True).same_rows
    lots = con.execute(
        "select inventory_id, lot_number, expiration_date, fulfillment_center_id, "
        "onhand_quantity, committed_quantity, fulfillable_quantity, awaiting_quantity "
        "from raw.shipbob_inventory_lots where snapshot_id = ? "
        "order by inventory_id, lot_number, fulfillment_center_id",
        [result.snapshot_id]).fetchall()
    assert len(lots) == 16 * 3  # 16 lot-tracked items: lot A in one center, lot B in two
    assert lots[:3] == [
        (880000, "L000A", "2025-01-01T00:00:00Z", 10, 0, 1, -1, 0),
        (880000, "L000B", None, 10, 2, 0, 0, 0),
        (880000, "L000B", None, 228, 3, 0, 0, 4),
    ]
    assert {r[0] for r in lots} == set(shipbob_lots(servers.world))
    fanned = land(con, servers, system(servers, "shipbob", concurrency=3))  # pages 2-4 at once
    assert fanned.status == "succeeded", fanned.error_cause
    assert count(con, "shipbob_inventory_lots", fanned.snapshot_id) == len(lots)


def test_netsuite_lot_query_lands_in_the_same_snapshot(
    con: duckdb.DuckDBPyConnection, servers: Any
) -> None:
    result = land(con, servers, system(servers, "erp"))
    assert result.status == "succeeded", result.error_cause
    assert result.row_count == 217 and result.pages == 11 + 5  # balances, then lots
    assert count(con, "netsuite_inventory_lots", result.snapshot_id) == 93
    urls = [u for (u,) in con.execute("select url from raw.payloads where snapshot_id = ? "
                                      "order by seq", [result.snapshot_id]).fetchall()]
    assert urls[-1].endswith("limit=20&offset=80")
    first = con.execute(
        "select item, itemid, location, inventorynumber, expirationdate, quantityonhand, "
        "quantityavailable from raw.netsuite_inventory_lots where snapshot_id = ? "
        "order by inventorynumber limit 2", [result.snapshot_id]).fetchall()
    assert first == [("100", "SD-1001", "1", "SD-1001-0", None, "10", "8"),
                     ("100", "SD-1001", "1", "SD-1001-1", "2025-06-02", "11", "9")]


def test_netsuite_lots_off_by_default_and_concurrent_when_allowed(
    con: duckdb.DuckDBPyConnection, servers: Any
) -> None:
    off = land(con, servers, system(servers, "erp", lots="false"))
    assert off.status == "succeeded" and off.pages == 11
    assert count(con, "netsuite_inventory_lots", off.snapshot_id) == 0
    fanned = land(con, servers, system(servers, "erp", concurrency=4))
    assert fanned.status == "succeeded", fanned.error_cause
    assert count(con, "netsuite_inventory_lots", fanned.snapshot_id) == 93
    assert con.execute("select count(distinct inventorynumber) from "
                       "raw.netsuite_inventory_lots where snapshot_id = ?",
                       [fanned.snapshot_id]).fetchone() == (93,)


def test_netsuite_lots_flag_must_be_a_flag(
    con: duckdb.DuckDBPyConnection, servers: Any
) -> None:
    result = land(con, servers, system(servers, "erp", lots="yes please"))
    assert result.status == "failed"
    assert "systems[erp].options.lots" in (result.error_cause or "")


@pytest.mark.parametrize("system_id", ["erp", "shipbob"])
@pytest.mark.parametrize(("kind", "expect"), FAULTS)
def test_fault_fails_balances_and_lots_together(
    con: duckdb.DuckDBPyConnection, servers: Any, system_id: str, kind: str, expect: str
) -> None:
    # NetSuite: the fault starts on the lot query's 2nd page (after 11 balance pages), so
    # balance rows were already inserted when it fails; ShipBob: from the 2nd page.
    skip = 12 if system_id == "erp" else 1
    servers.set_fault(system_id, serve.FaultMode(kind, skip=skip))
    try:
        result = land(con, servers, system(servers, system_id))
    finally:
        servers.set_fault(system_id, None)
    assert result.status == "failed" and result.row_count == 0
    assert expect in (result.error_cause or ""), result.error_cause
    if system_id == "erp":
        assert "lots offset=20" in (result.error_cause or ""), result.error_cause
    lots = "netsuite_inventory_lots" if system_id == "erp" else "shipbob_inventory_lots"
    main = "netsuite_inventory" if system_id == "erp" else "shipbob_inventory"
    assert count(con, lots, result.snapshot_id) == 0
    assert count(con, main, result.snapshot_id) == 0


@pytest.mark.parametrize("system_id", ["erp", "shipbob"])
def test_throttled_then_recovers_with_lots(
    con: duckdb.DuckDBPyConnection, servers: Any, system_id: str
) -> None:
    servers.set_fault(system_id, serve.FaultMode("status_429", skip=12 if system_id == "erp"
                                                 else 1, count=2))
    try:
        result = land(con, servers, system(servers, system_id))
    finally:
        servers.set_fault(system_id, None)
    assert result.status == "succeeded", result.error_cause
    assert result.attempts == result.pages + 2
    lots = "netsuite_inventory_lots" if system_id == "erp" else "shipbob_inventory_lots"
    assert count(con, lots, result.snapshot_id) == (93 if system_id == "erp" else 48)


def test_renamed_lot_field_names_the_field(
    con: duckdb.DuckDBPyConnection, servers: Any
) -> None:
    servers.set_fault("shipbob", serve.FaultMode("renamed_field",
                                                 rename=("lot_number", "lotNumber")))
    try:
        result = land(con, servers, system(servers, "shipbob"))
    finally:
        servers.set_fault("shipbob", None)
    assert result.status == "failed"
    assert "required field 'lot_number' missing in item 0 fulfillable_quantity_by_lot[0]" \
        in (result.error_cause or ""), result.error_cause
