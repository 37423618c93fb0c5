"""A WMS database export of the sandbox world (SQLite or DuckDB), for the SQL connector.

Table `wms_stock(item_code, site, qty_on_hand, qty_allocated, qty_available, last_changed)`,
a WMS's own column names; the connector maps them with `column.*` options (`OPTIONS`).
The EAST-DC building's physical stock comes from the world's ERP balance.
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


def write_wms_db(world: World, path: Path, extra_rows: int = 0) -> Path:
    """(Re)write the export; `extra_rows` pads it with synthetic SKUs (benchmarks)."""
    rows = wms_rows(world)
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
        con.close()
    else:
        lite = sqlite3.connect(tmp)
        lite.execute(DDL)
        lite.executemany("insert into wms_stock values (?, ?, ?, ?, ?, ?)", rows)
        lite.commit()
        lite.close()
    tmp.replace(path)
    return path
