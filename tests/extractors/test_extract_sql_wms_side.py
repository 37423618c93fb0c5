"""SQL WMS side tables (`lots_table`, `returns_table`): keyset-paged into raw.wms_lots and
raw.wms_returns in the same snapshot as the balances, on SQLite, DuckDB and PostgreSQL;
column mapping, optional columns as NULL, and cause-naming failures."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extractors.landing import land_snapshot
from extractors.replay import replay_snapshot
from extractors.sql_wms import SqlWmsConnector
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
LOT_ROWS, RETURN_ROWS = 250, 130
OPTIONS = {
    "table": "stock", "column.on_hand": "on_hand", "page_size": "100",
    "lots_table": "lot_stock", "lots.column.sku": "item_code", "lots.column.location": "site",
    "lots.column.lot_number": "lot", "lots.column.serial_number": "serial",
    "lots.column.expiration_date": "expires", "lots.column.on_hand": "qty",
    "returns_table": "returns",  # default column names; no restocked_at column at all
}
DDL = [
    "create table stock (sku varchar not null, location varchar not null, on_hand integer, "
    "primary key (sku, location))",
    "create table lot_stock (item_code varchar not null, site varchar not null, lot varchar, "
    "serial varchar, expires date, qty numeric(12, 0))",
    "create table returns (return_id varchar not null, sku varchar not null, "
    "location varchar not null, qty integer, received_at timestamp, inspected_at timestamp, "
    "disposition varchar)",
]


def stock_rows() -> list[tuple[Any, ...]]:
    return [(f"SKU-{i:03d}", "WH1", i) for i in range(120)]


def lot_rows() -> list[tuple[Any, ...]]:
    """Lot-only rows, serial-only rows (lot NULL) and several serials of one lot."""
    rows: list[tuple[Any, ...]] = []
    for i in range(LOT_ROWS):
        sku = f"SKU-{i // 5:03d}"
        if i % 5 < 2:
            rows.append((sku, "WH1", f"LOT-{i % 5}", None, date(2025, 1, 1 + i % 28), 7))
        elif i % 5 < 4:
            rows.append((sku, "WH1", None, f"SN-{i:04d}", None, 1))
        else:
            rows.append((sku, "WH1", "LOT-9", f"SN-{i:04d}", date(2025, 2, 1), 1))
    return rows


def return_rows() -> list[tuple[Any, ...]]:
    received = datetime(2024, 3, 30, 9, 0)
    return [(f"RMA-{i // 2:04d}", f"SKU-{i:03d}", "WH1", 1 + i % 3, received,
             received if i % 2 else None, "restock" if i % 3 == 0 else None)
            for i in range(RETURN_ROWS)]


def fill(execute: Callable[[str], None], insert: Callable[[str, list[tuple[Any, ...]]], None]
         ) -> None:
    for ddl in DDL:
        execute(ddl)
    insert("stock", stock_rows())
    insert("lot_stock", lot_rows())
    insert("returns", return_rows())


def sqlite_db(tmp_path: Path) -> str:
    path = tmp_path / "wms.db"
    lite = sqlite3.connect(path)
    fill(lite.execute, lambda t, rows: lite.executemany(
        f"insert into {t} values ({', '.join('?' * len(rows[0]))})", rows))
    lite.commit()
    lite.close()
    return f"sqlite://{path}"


def duckdb_db(tmp_path: Path) -> str:
    path = tmp_path / "wms.duckdb"
    duck = duckdb.connect(str(path))
    fill(duck.execute, lambda t, rows: duck.executemany(
        f"insert into {t} values ({', '.join('?' * len(rows[0]))})", rows))
    duck.close()
    return f"duckdb://{path}"


@pytest.fixture(scope="module")
def postgres_db() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    from pg_cluster import postgres_cluster

    with postgres_cluster() as url:
        with psycopg.connect(url, autocommit=True) as pg:
            def insert(table: str, rows: list[tuple[Any, ...]]) -> None:
                with pg.cursor() as cur:
                    cur.executemany(f"insert into {table} values "
                                    f"({', '.join(['%s'] * len(rows[0]))})", rows)

            fill(pg.execute, insert)
        yield url


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def wms_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_db(tmp_path)
    if request.param == "duckdb":
        return duckdb_db(tmp_path)
    return str(request.getfixturevalue("postgres_db"))


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def land(con: duckdb.DuckDBPyConnection, url: str, **options: str) -> tuple[Any, Any]:
    system = SystemConfig(id="wms", role="wms", connector="sql_wms", base_url=url,
                          freshness_target_minutes=15, timeout_seconds=5,
                          options={**OPTIONS, **options})
    connector = SqlWmsConnector(system)
    return land_snapshot(con, system, connector, START, ManualClock(START)), connector


def test_lots_and_returns_land_in_the_same_snapshot(
    con: duckdb.DuckDBPyConnection, wms_url: str
) -> None:
    result, connector = land(con, wms_url)
    assert result.status == "succeeded", result.error_cause
    assert result.row_count == 120  # main rows only
    assert result.pages == 2 + 3 + 2  # 100 per page: stock, lots, returns
    assert all("offset" not in q.lower() for q in connector.queries)
    sid = result.snapshot_id
    assert con.execute("select count(*), count(distinct (sku, location, lot_number, "
                       "serial_number)), sum(on_hand) from raw.wms_lots where snapshot_id = ?",
                       [sid]).fetchone() == (LOT_ROWS, LOT_ROWS, 50 * (7 + 7 + 1 + 1 + 1))
    assert con.execute(
        "select sku, location, lot_number, serial_number, expiration_date, on_hand "
        "from raw.wms_lots where snapshot_id = ? and sku = 'SKU-000' "
        "order by lot_number nulls first, serial_number", [sid]).fetchall() == [
        ("SKU-000", "WH1", None, "SN-0002", None, 1),
        ("SKU-000", "WH1", None, "SN-0003", None, 1),
        ("SKU-000", "WH1", "LOT-0", None, "2025-01-01", 7),
        ("SKU-000", "WH1", "LOT-1", None, "2025-01-02", 7),
        ("SKU-000", "WH1", "LOT-9", "SN-0004", "2025-02-01", 1),
    ]
    assert con.execute("select count(*), count(distinct (return_id, sku)), "
                       "count(restocked_at), count(inspected_at), count(disposition) "
                       "from raw.wms_returns where snapshot_id = ?", [sid]).fetchone() \
        == (RETURN_ROWS, RETURN_ROWS, 0, RETURN_ROWS // 2, 44)
    received, qty = con.execute("select received_at, qty from raw.wms_returns "
                                "where snapshot_id = ? and sku = 'SKU-002'", [sid]).fetchone()
    assert received.startswith("2024-03-30") and "09:00:00" in received and qty == 3
    assert con.execute("select count(*) from raw.wms_inventory where snapshot_id = ?",
                       [sid]).fetchone() == (120,)
    # replay re-lands the main table only: the side pages' stored rows are not balances
    replayed = replay_snapshot(con, {"wms": connector.system}, sid, check=True)
    assert replayed.rows == 120 and replayed.same_rows


def test_side_table_failures_fail_the_snapshot(
    con: duckdb.DuckDBPyConnection, wms_url: str
) -> None:
    result, _ = land(con, wms_url, **{"lots.column.on_hand": "quantity"})
    assert result.status == "failed"
    assert "no such column: quantity in lot_stock" in (result.error_cause or "")
    assert "options.lots.column.on_hand" in (result.error_cause or "")
    for table in ("wms_inventory", "wms_lots", "wms_returns"):
        assert con.execute(f"select count(*) from raw.{table} where snapshot_id = ?",
                           [result.snapshot_id]).fetchone() == (0,)
    missing, _ = land(con, wms_url, returns_table="no_returns")
    assert missing.status == "failed" and "no_returns" in (missing.error_cause or "")
    # (item_code, site) alone is not the lots key: paging on it would skip rows
    dupes, _ = land(con, wms_url, **{"lots.column.lot_number": "site",
                                     "lots.column.serial_number": "site"})
    assert dupes.status == "failed" and "not unique in lot_stock" in (dupes.error_cause or "")
