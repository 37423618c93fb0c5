"""Insert a page of vendor rows into a raw table.

Fast path: the page becomes one typed pandas frame that DuckDB scans column by column.
Binding every value as a statement parameter cost 33 ms for a 233-row page against 5 ms
for the frame (bench/README.md), and a cycle lands ~10 pages per system.

The frame path is taken only when every value already has the column's exact Python type
(str for VARCHAR, int for INTEGER/BIGINT, bool for BOOLEAN, or None); otherwise the page
goes through parameter binding, so DuckDB's implicit casts and its error messages for odd
values stay exactly what they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

BIND_CHUNK_ROWS = 500

# DuckDB type -> (accepted Python type, pandas dtype). bool is an int subclass: excluded below.
_FRAME_TYPES: dict[str, tuple[type, str]] = {
    "VARCHAR": (str, "object"),
    "INTEGER": (int, "Int64"),
    "BIGINT": (int, "Int64"),
    "BOOLEAN": (bool, "boolean"),
}

# raw.* is created by code (stockdrift/warehouse.py), so a table's column types are the same
# in every warehouse this process opens.
_column_types: dict[str, dict[str, str]] = {}


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    snapshot_id: str,
    rows: Sequence[dict[str, Any]],
) -> None:
    """Insert `rows` (dicts keyed by column; missing keys are null) into `raw.<table>`."""
    if not rows:
        return
    frame = _typed_frame(_types(con, table), columns, rows)
    if frame is None:
        _insert_bound(con, table, columns, snapshot_id, rows)
        return
    cols = ", ".join(columns)
    con.register("_stockdrift_page", frame)
    try:
        con.execute(f"insert into raw.{table} (snapshot_id, {cols}) "
                    f"select ?, {cols} from _stockdrift_page", [snapshot_id])
    finally:
        con.unregister("_stockdrift_page")


def _types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    types = _column_types.get(table)
    if types is None:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?", [table]).fetchall())
        if types:  # a missing table is not remembered: the insert fails and says so
            _column_types[table] = types
    return types


def _typed_frame(
    types: dict[str, str], columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> pd.DataFrame | None:
    data: dict[str, Any] = {}
    for col in columns:
        spec = _FRAME_TYPES.get(types.get(col, ""))
        if spec is None:
            return None
        want, dtype = spec
        values = [row.get(col) for row in rows]
        for v in values:
            if v is not None and type(v) is not want:
                return None
        if dtype == "object":
            data[col] = pd.Series(values, dtype="object")
        elif all(v is None for v in values):
            data[col] = pd.Series([None] * len(values), dtype="object")
        else:
            data[col] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data)


def _insert_bound(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    snapshot_id: str,
    rows: Sequence[dict[str, Any]],
) -> None:
    head = f"insert into raw.{table} (snapshot_id, {', '.join(columns)}) values "
    one = f"({', '.join('?' * (len(columns) + 1))})"
    # one multi-row statement per chunk: DuckDB's executemany runs one statement per row
    for start in range(0, len(rows), BIND_CHUNK_ROWS):
        chunk = rows[start:start + BIND_CHUNK_ROWS]
        con.execute(head + ", ".join([one] * len(chunk)),
                    [v for row in chunk for v in (snapshot_id, *(row.get(c) for c in columns))])
