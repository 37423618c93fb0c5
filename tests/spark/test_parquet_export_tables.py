"""Every raw table is exported to Parquet, and one with no rows reads as an empty typed
relation (no Spark needed: the DuckDB views read the same files Spark stages)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from stockdrift.config import load_config
from stockdrift.parquet_export import (
    EMPTY_FILE,
    EMPTY_PARTITION,
    attach_duckdb_views,
    export_warehouse,
    snapshot_tables,
)
from stockdrift.warehouse import ensure_schema, write_config

REPO = Path(__file__).resolve().parents[2]


def test_every_raw_table_exports_even_without_rows(tmp_path: Path) -> None:
    root = tmp_path / "raw_parquet"
    src = duckdb.connect(str(tmp_path / "landing.duckdb"))
    ensure_schema(src)
    write_config(src, load_config(REPO / "stockdrift.example.yml"))
    src.execute(
        "insert into raw.snapshots (snapshot_id, system_id, connector, cycle_at, "
        "started_at, status) values ('s1', 'shipbob', 'shipbob', "
        "'2024-04-01 12:00', '2024-04-01 12:00', 'succeeded')"
    )
    src.execute(
        "insert into raw.shipbob_inventory_lots values "
        "('s1', 880000, 'L1', '2025-01-01T00:00:00Z', 10, 5, 1, 4, 0)"
    )
    raw_tables = {
        str(r[0])
        for r in src.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    tables = snapshot_tables(src)
    assert set(tables) == raw_tables - {"snapshots", "payloads"}
    assert {"shipbob_inventory_lots", "netsuite_inventory_lots", "wms_lots", "wms_returns"} <= set(
        tables
    )
    export_warehouse(src, root)
    types = {
        t: src.execute(
            f"select column_name, data_type from information_schema.columns "
            f"where table_schema = 'raw' and table_name = '{t}' "
            f"order by ordinal_position"
        ).fetchall()
        for t in tables
    }
    src.close()

    for table in ("snapshots", *tables):
        assert (root / table / EMPTY_PARTITION / EMPTY_FILE).exists(), table
    views = duckdb.connect(str(tmp_path / "views.duckdb"))
    attach_duckdb_views(views, root)
    for table in tables:
        described = views.execute(
            "select column_name, data_type from information_schema.columns where "
            f"table_schema = 'raw' and table_name = '{table}' order by ordinal_position"
        ).fetchall()
        # the table's own columns keep their names and types; the partition columns follow
        own = len(types[table])
        assert described[:own] == types[table], table
        assert {c for c, _ in described[own:]} == {"system_id", "snapshot_date"}, table
    assert views.execute("select count(*) from raw.wms_returns").fetchone() == (0,)
    assert views.execute(
        "select inventory_id, lot_number, system_id, snapshot_date::varchar "
        "from raw.shipbob_inventory_lots"
    ).fetchall() == [(880000, "L1", "shipbob", "2024-04-01")]
    assert views.execute("select count(*), min(system_id) from raw.snapshots").fetchone() == (
        1,
        "shipbob",
    )
    views.close()
