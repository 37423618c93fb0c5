"""The SQL WMS extractor against a real, throwaway PostgreSQL (psycopg 3): keyset pages
bounded by `limit`, column mapping, incremental `updated_at`, clear failures, and the
statement timeout. Skips without PostgreSQL binaries unless STOCKDRIFT_REQUIRE_POSTGRES=1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pg_cluster import postgres_cluster

from extractors.landing import land_snapshot
from extractors.sql_wms import SqlWmsConnector
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

psycopg = pytest.importorskip("psycopg")

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
ROWS = 1_050
OPTIONS = {"table": "wms.stock", "column.sku": "item_code", "column.location": "site",
           "column.on_hand": "qty_on_hand", "column.allocated": "qty_allocated",
           "column.updated_at": "last_changed", "page_size": "100"}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_cluster() as url:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("create schema wms")
            con.execute("create table wms.stock (item_code text not null, site text not null, "
                        "qty_on_hand numeric(12,0), qty_allocated integer, "
                        "last_changed timestamptz, primary key (item_code, site))")
            with con.cursor() as cur:
                cur.executemany(
                    "insert into wms.stock values (%s, %s, %s, %s, %s)",
                    [(f"SKU-{i // 3:05d}", f"WH{i % 3}", i % 90, i % 7,
                      datetime(2024, 4, 1, 11, 0, tzinfo=UTC)) for i in range(ROWS)])
            con.execute("update wms.stock set last_changed = '2024-04-01T12:30:00Z' "
                        "where item_code in ('SKU-00007', 'SKU-00300')")
        yield url


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def wms(url: str, **options: str) -> SystemConfig:
    return SystemConfig(id="wms", role="wms", connector="sql_wms", base_url=url,
                        freshness_target_minutes=15, timeout_seconds=5,
                        options={**OPTIONS, **options})


def land(con: duckdb.DuckDBPyConnection, system: SystemConfig, **kw: Any) -> tuple[Any, Any]:
    connector = SqlWmsConnector(system, **kw)
    return land_snapshot(con, system, connector, START, ManualClock(START)), connector


def test_keyset_pages_from_postgres(con: duckdb.DuckDBPyConnection, pg_url: str) -> None:
    result, connector = land(con, wms(pg_url))
    assert result.status == "succeeded", result.error_cause
    assert result.row_count == ROWS and result.pages == 11  # 100 rows per query, never more
    assert all("limit %s" in q for q in connector.queries[1:])
    assert "> %s or (" in connector.queries[2]
    got = con.execute("select count(distinct (sku, location)), sum(on_hand), "
                      "max(allocated) from raw.wms_inventory where snapshot_id = ?",
                      [result.snapshot_id]).fetchone()
    assert got == (ROWS, sum(i % 90 for i in range(ROWS)), 6)
    url = con.execute("select distinct url from raw.payloads where snapshot_id = ?",
                      [result.snapshot_id]).fetchall()
    assert url == [("postgresql:///postgres#wms.stock",)]  # no user, host or port stored


def test_incremental_from_postgres(con: duckdb.DuckDBPyConnection, pg_url: str) -> None:
    result, connector = land(con, wms(pg_url), since=datetime(2024, 4, 1, 12, 0, tzinfo=UTC))
    got = con.execute("select distinct sku from raw.wms_inventory where snapshot_id = ? "
                      "order by 1", [result.snapshot_id]).fetchall()
    assert got == [("SKU-00007",), ("SKU-00300",)]
    assert connector.high_water_mark == datetime(2024, 4, 1, 12, 30, tzinfo=UTC)


def test_postgres_failures_name_the_cause(con: duckdb.DuckDBPyConnection, pg_url: str) -> None:
    renamed, _ = land(con, wms(pg_url, **{"column.on_hand": "qty_onhand"}))
    assert renamed.status == "failed" and "qty_onhand" in (renamed.error_cause or "")
    port = pg_url.rsplit(":", 1)[1].split("/")[0]
    down = pg_url.replace(f":{port}/", ":1/")
    refused, _ = land(con, wms(down))
    assert refused.status == "failed" and "connection" in (refused.error_cause or "")
    missing, _ = land(con, wms(pg_url, table="wms.nothing"))
    assert missing.status == "failed" and "nothing" in (missing.error_cause or "")


def test_statement_timeout_is_a_timeout(con: duckdb.DuckDBPyConnection, pg_url: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    slow = wms(pg_url).model_copy(update={"timeout_seconds": 0.2})
    original = SqlWmsConnector._sql

    def sleepy(self: SqlWmsConnector) -> tuple[str, str]:
        first, nxt = original(self)
        return first.replace(" from ", ", pg_sleep(1) from ", 1), nxt

    monkeypatch.setattr(SqlWmsConnector, "_sql", sleepy)
    result, _ = land(con, slow)
    assert result.status == "failed"
    assert "timeout" in (result.error_cause or "") and "statement" in (result.error_cause or "")
