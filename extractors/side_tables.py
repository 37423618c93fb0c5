"""Rows for a second raw table, landed in the same snapshot as the connector's main rows.

Some vendor answers carry two record kinds: ShipBob's `/1.0/inventory` items hold both the
per-fulfillment-center balances and `fulfillable_quantity_by_lot[]`; NetSuite and the SQL
WMS answer a second query (lots, returns) in the same extraction. A connector yields a
`SidePage`: `rows` go to its `raw_table` as usual, `side_rows` to the named side tables,
all inside the one landing transaction, so a failed snapshot lands neither.

Side tables are always extracted in full (an incremental run merges only the main table)
and `raw.snapshots.row_count` counts main rows only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from extractors.base import Page
from extractors.row_insert import insert_rows


@dataclass(frozen=True)
class SideTable:
    """A raw table (`raw.<name>`) and its columns minus snapshot_id, in DDL order."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class SidePage(Page):
    side_rows: Mapping[SideTable, list[dict[str, Any]]] = field(
        default_factory=dict, compare=False)


def insert_side_rows(con: duckdb.DuckDBPyConnection, snapshot_id: str, page: Page) -> int:
    """Insert a page's side rows (none for a plain `Page`); returns how many."""
    inserted = 0
    for table, rows in getattr(page, "side_rows", {}).items():
        if not rows:
            continue
        insert_rows(con, table.name, table.columns, snapshot_id, rows)
        inserted += len(rows)
    return inserted
