"""A WMS database export of the sandbox world (SQLite or DuckDB), for the SQL connector.

Table `wms_stock(item_code, site, qty_on_hand, qty_allocated, qty_available, last_changed)`,
a WMS's own column names; the connector maps them with `column.*` options (`OPTIONS`).
The EAST-DC building's physical stock comes from the world's ERP balance.

With `side_tables`, the export also carries the WMS's `returns` and `lots` tables
(`World.wms_returns`, `World.wms_lots`), named as extractors/sql_wms_side.py reads them by
default (options `returns_table: returns`, `lots_table: lots`; no column mapping needed).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas

from sandbox.world import World

OPTIONS = {
    "table": "wms_stock", "column.sku": "item_code", "column.location": "site",
    "column.on_hand": "qty_on_hand", "column.allocated": "qty_allocated",
    "column.available": "qty_available", "column.updated_at": "last_changed",
}
COLUMNS = ["item_code", "site", "qty_on_hand", "qty_allocated", "qty_available", "last_changed"]
DDL = ("create table wms_stock (item_code varchar not null, site varchar not null, "
       "qty_on_hand integer, qty_allocated integer, qty_available integer, "
       "last_changed varchar, primary key (item_code, site))")
SIDE_DDL = {
    "returns": ("create table returns (return_id varchar not null, sku varchar not null, "
                "location varchar not null, qty integer not null, received_at varchar, "
                "inspected_at varchar, restocked_at varchar, disposition varchar, "
                "primary key (return_id))"),
    "lots": ("create table lots (sku varchar not null, location varchar not null, "
             "lot_number varchar, serial_number varchar, expiration_date varchar, "
             "on_hand integer not null)"),
}
SideRows = dict[str, list[tuple[object, ...]]]


def wms_rows(world: World) -> list[tuple[str, str, int, int, int, str]]:
    rows = []
    for r in world.erp_rows():
        if r["location"] != "1":
            continue
        touched = world.last_activity_at("EAST-DC", r["itemid"]) or world.start
        rows.append((r["itemid"], "EDISON-DC", int(r["quantityonhand"]),
                     int(r["quantitycommitted"]), int(r["quantityavailable"]),
                     touched.strftime("%Y-%m-%dT%H:%M:%S")))
    return rows


def world_wms_rows(world: World) -> list[tuple[str, str, int, int, int, str]]:
    """The WMS's own counts of both buildings (`World.holdings`), which lead the ERP."""
    return [(h["sku"], h["location"], h["on_hand"], h["allocated"], h["available"],
             h["changed_at"].strftime("%Y-%m-%dT%H:%M:%S")) for h in world.holdings("wms")]


def world_side_rows(world: World) -> SideRows:
    """The `returns` and `lots` tables of the world's WMS."""
    return {"returns": world.wms_returns(), "lots": world.wms_lots()}


def write_wms_db(world: World, path: Path, extra_rows: int = 0,
                 rows: list[tuple[str, str, int, int, int, str]] | None = None,
                 side_tables: SideRows | None = None) -> Path:
    """(Re)write the export; `extra_rows` pads it with synthetic SKUs (benchmarks); `rows`
    default to the single-building fixture of `wms_rows`; `side_tables` adds tables by
    name (SIDE_DDL)."""
    side = side_tables or {}
    rows = list(rows) if rows is not None else wms_rows(world)
    rows += [(f"BENCH-{i:07d}", f"SITE-{i % 10:02d}", i % 97, i % 5, i % 97 - i % 5,
              "2024-01-01T00:00:00") for i in range(extra_rows)]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    if path.suffix == ".duckdb":
        frame = pandas.DataFrame(rows, columns=COLUMNS)  # executemany is slow in DuckDB
        con = duckdb.connect(str(tmp))
        con.execute(DDL)
        con.register("frame", frame)
        con.execute("insert into wms_stock select * from frame")
        for name, side_rows in side.items():
            con.execute(SIDE_DDL[name])
            if side_rows:
                con.executemany(f"insert into {name} values ({_marks(side_rows)})", side_rows)
        con.close()
    else:
        lite = sqlite3.connect(tmp)
        lite.execute(DDL)
        lite.executemany("insert into wms_stock values (?, ?, ?, ?, ?, ?)", rows)
        for name, side_rows in side.items():
            lite.execute(SIDE_DDL[name])
            lite.executemany(f"insert into {name} values ({_marks(side_rows)})", side_rows)
        lite.commit()
        lite.close()
    tmp.replace(path)
    return path


def _marks(rows: list[tuple[object, ...]]) -> str:
    return ", ".join("?" * len(rows[0])) if rows else "?"
