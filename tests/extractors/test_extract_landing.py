from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import pytest
from extract_vendors import (
    NS_BASE,
    SB_BASE,
    SHOP_BASE,
    SHOPIFY_TOKEN,
    Script,
    ShopifyData,
    Sleeps,
    js,
    make_system,
    netsuite_handler,
    ns_rows,
    sb_items,
    shipbob_handler,
    shopify_handler,
)

from extractors.landing import SnapshotResult, land_snapshot
from extractors.registry import CONNECTORS, build_connector
from extractors.shopify import ShopifyConnector
from stockdrift.clock import ManualClock
from stockdrift.config import ConfigError
from stockdrift.warehouse import ensure_schema

CYCLE = datetime(2024, 4, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def land_shopify(
    con: duckdb.DuckDBPyConnection, script: Script, sleeps: Sleeps, clock: ManualClock
) -> SnapshotResult:
    system = make_system("shopify", page_size="4")
    conn = ShopifyConnector(system, script.client(SHOP_BASE), sleep=sleeps)
    return land_snapshot(con, system, conn, CYCLE, clock)


def count(con: duckdb.DuckDBPyConnection, table: str, snapshot_id: str) -> int:
    sql = f"select count(*) from {table} where snapshot_id = ?"
    row = con.execute(sql, [snapshot_id]).fetchone()
    assert row is not None
    return int(row[0])


def test_columns_match_the_ddl(con: duckdb.DuckDBPyConnection) -> None:
    for name, factory in CONNECTORS.items():
        vendor = {"netsuite_suiteql": "netsuite", "shopify_rest": "shopify",
                  "shipbob": "shipbob"}.get(name)
        if vendor is None:
            continue  # the issue-3 connectors: test_extract_more_landing.py
        system = make_system(vendor)
        conn = factory(system, None)
        cols = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? order by ordinal_position", [conn.raw_table]).fetchall()]
        assert cols == ["snapshot_id", *conn.columns]


def test_registry(sleeps: Sleeps) -> None:
    system = make_system("shipbob")
    assert build_connector(system).system_id == "shipbob"
    bogus = system.model_copy(update={"connector": "sap_odata"})
    with pytest.raises(ConfigError, match="unknown connector 'sap_odata'; known connectors"):
        build_connector(bogus)


def test_succeeded_snapshot_lands_rows_payloads_and_row(
    con: duckdb.DuckDBPyConnection, sleeps: Sleeps
) -> None:
    clock = ManualClock(CYCLE + timedelta(seconds=5))
    result = land_shopify(con, Script(shopify_handler(ShopifyData())), sleeps, clock)
    assert result.status == "succeeded" and result.row_count == 6 and result.pages == 4
    assert result.snapshot_id.startswith("shopify-20240402T140000Z-")
    snap = con.execute(
        "select status, row_count, pages, attempts, cycle_at, started_at, source_as_of, "
        "error_cause from raw.snapshots where snapshot_id = ?", [result.snapshot_id]).fetchone()
    assert snap == ("succeeded", 6, 4, 4, datetime(2024, 4, 2, 14, 0),
                    datetime(2024, 4, 2, 14, 0, 5), datetime(2024, 4, 2, 14, 0, 5), None)
    assert count(con, "raw.shopify_inventory_levels", result.snapshot_id) == 6
    payloads = con.execute(
        "select seq, method, url, status_code, response_headers, body_gzip from raw.payloads "
        "where snapshot_id = ? order by seq", [result.snapshot_id]).fetchall()
    assert [p[0] for p in payloads] == [1, 2, 3, 4]
    assert payloads[0][2] == f"{SHOP_BASE}/admin/api/2024-04/locations.json"
    body = json.loads(gzip.decompress(payloads[3][5]))
    assert body["inventory_items"][0]["sku"] == "SD-1001"
    assert json.loads(payloads[0][4])["x-shopify-shop-api-call-limit"] == "1/40"
    blob = repr(payloads).encode() + b"".join(gzip.decompress(p[5]) for p in payloads)
    assert SHOPIFY_TOKEN.encode() not in blob


def test_failure_keeps_previous_snapshot_and_writes_failed_row(
    con: duckdb.DuckDBPyConnection, sleeps: Sleeps
) -> None:
    clock = ManualClock(CYCLE)
    first = land_shopify(con, Script(shopify_handler(ShopifyData())), sleeps, clock)
    clock.advance(timedelta(minutes=5))
    # the items lookup fails after all levels arrived: nothing of this snapshot may land
    script = Script(shopify_handler(ShopifyData()),
                    failures_for={"inventory_items": [js(500, {"errors": "Internal"})] * 5})
    failed = land_shopify(con, script, sleeps, clock)
    assert failed.status == "failed" and failed.row_count == 0
    assert failed.error_cause is not None and "after 5 attempts" in failed.error_cause
    assert failed.error_cause.startswith("shopify: HTTP 500 from GET /admin/api/2024-04/"
                                         "inventory_items.json?ids=")
    assert failed.pages == 4 and failed.attempts == 3 + 5  # 3 good pages + the failing one
    assert count(con, "raw.shopify_inventory_levels", failed.snapshot_id) == 0
    assert count(con, "raw.shopify_inventory_levels", first.snapshot_id) == 6
    statuses = con.execute(
        "select status, row_count, error_cause is null, source_as_of from raw.snapshots "
        "order by started_at").fetchall()
    assert statuses == [("succeeded", 6, True, datetime(2024, 4, 2, 14, 0)),
                        ("failed", 0, False, None)]
    # forensics: the pages received and the failing response are kept
    codes = con.execute("select status_code from raw.payloads where snapshot_id = ? order by seq",
                        [failed.snapshot_id]).fetchall()
    assert [c[0] for c in codes] == [200, 200, 200, 500]


def test_secrets_redacted_in_cause_and_payloads(
    con: duckdb.DuckDBPyConnection, sleeps: Sleeps
) -> None:
    echo = js(401, {"errors": f"[API] Invalid API key or access token {SHOPIFY_TOKEN}"},
              {"x-echo": SHOPIFY_TOKEN})
    script = Script(shopify_handler(ShopifyData()), failures={2: echo})
    result = land_shopify(con, script, sleeps, ManualClock(CYCLE))
    assert result.status == "failed" and result.error_cause is not None
    assert SHOPIFY_TOKEN not in result.error_cause and "***" in result.error_cause
    stored = con.execute("select error_cause from raw.snapshots").fetchone()
    assert stored is not None and SHOPIFY_TOKEN not in stored[0]
    for url, headers, body in con.execute(
            "select url, response_headers, body_gzip from raw.payloads").fetchall():
        assert SHOPIFY_TOKEN not in url + headers
        assert SHOPIFY_TOKEN.encode() not in gzip.decompress(body)


def test_missing_credential_is_a_failed_snapshot(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NETSUITE_TOKEN")
    system = make_system("netsuite")
    result = land_snapshot(con, system, build_connector(system), CYCLE, ManualClock(CYCLE))
    assert result.status == "failed" and result.pages == 0
    assert result.error_cause is not None and "NETSUITE_TOKEN is not set" in result.error_cause


def test_netsuite_and_shipbob_land(con: duckdb.DuckDBPyConnection, sleeps: Sleeps) -> None:
    clock = ManualClock(CYCLE)
    ns = make_system("netsuite", page_size="4")
    result = land_snapshot(
        con, ns, build_connector(ns, Script(netsuite_handler(ns_rows(9))).client(NS_BASE)),
        CYCLE, clock)
    assert (result.status, result.row_count, result.pages) == ("succeeded", 9, 3)
    assert result.source_as_of == clock.now()  # no vendor as-of: finish time
    row = con.execute("select item, quantityonhand, quantityonorder from raw.netsuite_inventory "
                      "order by item, location limit 1").fetchone()
    assert row == ("100", "10", None)
    sb = make_system("shipbob")
    result = land_snapshot(
        con, sb, build_connector(sb, Script(shipbob_handler(sb_items(4))).client(SB_BASE)),
        CYCLE, clock)
    assert (result.status, result.row_count) == ("succeeded", 6)


def test_failed_netsuite_schema_change_lands_nothing(
    con: duckdb.DuckDBPyConnection, sleeps: Sleeps
) -> None:
    rows = ns_rows(6)
    rows[5]["locationid"] = rows[5].pop("location")
    ns = make_system("netsuite", page_size="4")
    client = Script(netsuite_handler(rows)).client(NS_BASE)
    result = land_snapshot(con, ns, build_connector(ns, client), CYCLE, ManualClock(CYCLE))
    assert result.status == "failed" and result.pages == 2
    assert result.error_cause is not None
    assert "(page offset=4): required field 'location' missing in row 1" in result.error_cause
    assert count(con, "raw.netsuite_inventory", result.snapshot_id) == 0


def test_transport_failure_counts_attempts(con: duckdb.DuckDBPyConnection) -> None:
    sb = make_system("shipbob")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    client = Script(down).client(SB_BASE)
    result = land_snapshot(con, sb, build_connector(sb, client), CYCLE, ManualClock(CYCLE))
    assert result.status == "failed" and result.attempts == 5 and result.pages == 0
    assert result.error_cause is not None
    assert "connection failed" in result.error_cause
