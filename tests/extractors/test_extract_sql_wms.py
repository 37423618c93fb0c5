"""SQL WMS export: keyset paging (never OFFSET, never the whole table), SQLite and DuckDB,
incremental by updated_at, cause-naming failures; landed into DuckDB."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extractors.landing import land_snapshot
from extractors.sql_wms import SqlWmsConnector
from sandbox.files.wms_db import OPTIONS, write_wms_db
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def wms(db: Path, **options: str) -> SystemConfig:
    scheme = "duckdb" if db.suffix == ".duckdb" else "sqlite"
    return SystemConfig(id="wms", role="wms", connector="sql_wms",
                        base_url=f"{scheme}://{db}", freshness_target_minutes=15,
                        options={**OPTIONS, "page_size": "100", **options})


def land(con: duckdb.DuckDBPyConnection, system: SystemConfig, **kw: Any) -> tuple[Any, Any]:
    connector = SqlWmsConnector(system, **kw)
    return land_snapshot(con, system, connector, START, ManualClock(START)), connector


@pytest.mark.parametrize("suffix", [".db", ".duckdb"])
def test_keyset_pages_cover_the_table_exactly_once(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, suffix: str
) -> None:
    db = write_wms_db(World(7, START), tmp_path / f"wms{suffix}", extra_rows=1_000)
    result, connector = land(con, wms(db))
    assert result.status == "succeeded", result.error_cause
    assert result.row_count == 1_031 and result.pages == 11  # 100 per page, never more
    assert all("offset" not in q.lower() for q in connector.queries)
    assert "limit 0" in connector.queries[0]  # the column check
    assert "> ? or (" in connector.queries[2] and "limit ?" in connector.queries[2]
    dupes = con.execute("select count(*) - count(distinct (sku, location)) from "
                        "raw.wms_inventory where snapshot_id = ?", [result.snapshot_id]).fetchone()
    assert dupes == (0,)
    east = con.execute("select on_hand, allocated, available from raw.wms_inventory where "
                       "snapshot_id = ? and sku = 'SD-1001'", [result.snapshot_id]).fetchone()
    truth = World(7, START).expected_truth()[("EAST-DC", "SD-1001")]
    assert east == (truth["on_hand"], truth["committed"], truth["available"])


def test_incremental_reads_only_changed_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = write_wms_db(World(7, START), tmp_path / "wms.db", extra_rows=300)
    lite = sqlite3.connect(db)
    lite.execute("update wms_stock set last_changed = '2024-04-01T12:30:00' "
                 "where item_code in ('BENCH-0000007', 'SD-1003')")
    lite.commit()
    lite.close()
    result, _ = land(con, wms(db), since=datetime(2024, 4, 1, 12, 15, tzinfo=UTC))
    got = con.execute("select sku from raw.wms_inventory where snapshot_id = ? order by 1",
                      [result.snapshot_id]).fetchall()
    assert got == [("BENCH-0000007",), ("SD-1003",)]


def test_failures_name_the_cause(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    db = write_wms_db(World(7, START), tmp_path / "wms.db")
    missing, _ = land(con, wms(tmp_path / "nope.db"))
    assert "database file" in (missing.error_cause or "") and missing.status == "failed"
    renamed, _ = land(con, wms(db, **{"column.on_hand": "qty_onhand"}))
    assert "no such column: qty_onhand" in (renamed.error_cause or "")
    bad_ident, _ = land(con, wms(db, table="wms_stock; drop table x"))
    assert "not a plain SQL identifier" in (bad_ident.error_cause or "")
    no_ts, _ = land(con, wms(db, **{"column.updated_at": ""}), since=START)
    assert "needs options column.updated_at" in (no_ts.error_cause or "")
    lite = sqlite3.connect(db)
    lite.execute("delete from wms_stock")
    lite.commit()
    lite.close()
    empty, _ = land(con, wms(db))
    assert "wms_stock is empty: an export that failed" in (empty.error_cause or "")


def test_non_unique_key_fails_instead_of_skipping_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    db = tmp_path / "dup.db"
    lite = sqlite3.connect(db)
    lite.execute("create table wms_stock (item_code, site, qty_on_hand, qty_allocated, "
                 "qty_available, last_changed)")
    lite.executemany("insert into wms_stock values (?, 'A', 1, 0, 1, null)",
                     [("X",), ("X",), ("Y",)])
    lite.commit()
    lite.close()
    result, _ = land(con, wms(db))
    assert "is not unique in wms_stock" in (result.error_cause or "")
    lite = sqlite3.connect(db)
    lite.execute("delete from wms_stock where item_code = 'X'")
    lite.execute("insert into wms_stock values ('Z', 'A', 'lots', 0, 1, null)")
    lite.commit()
    lite.close()
    result, _ = land(con, wms(db))
    assert "qty_on_hand 'lots' for Z@A is not a whole number" in (result.error_cause or "")
