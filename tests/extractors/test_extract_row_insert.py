"""The columnar landing path stores exactly what parameter binding stores, and falls back to
binding (DuckDB's casts and errors) when a value is not of the column's exact type."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from extractors import row_insert
from stockdrift.warehouse import ensure_schema

SHOPIFY = ("inventory_level_id", "inventory_item_id", "sku", "location_id", "location_name",
           "available", "on_hand", "committed", "reserved", "incoming", "damaged",
           "safety_stock", "quality_control", "updated_at")
EDI = ("file_name", "interchange_control", "transaction_control", "sender_id", "purpose_code",
       "report_date", "report_time", "line_no", "item_id", "item_id_qualifier", "product_ids",
       "description", "quantity_qualifier", "quantity", "uom", "location", "is_breakdown",
       "segment_position")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    ensure_schema(c)
    return c


def _stored(con: duckdb.DuckDBPyConnection, table: str, snapshot_id: str) -> list[tuple]:
    return con.execute(f"select * exclude (snapshot_id) from raw.{table} "
                       "where snapshot_id = ? order by all", [snapshot_id]).fetchall()


def _shopify_rows() -> list[dict[str, Any]]:
    return [
        {"inventory_level_id": "gid://shopify/InventoryLevel/1?inventory_item_id=9",
         "inventory_item_id": 2**40 + i, "sku": sku, "location_id": 71, "location_name": "3PL",
         "available": i - 2, "on_hand": i, "reserved": None, "updated_at": "2026-11-01T00:00:00Z"}
        for i, sku in enumerate(["A/1", "b.2", "c 3", "Café-Ø", "", "Z"])
    ]


def test_frame_path_stores_what_binding_stores(con: duckdb.DuckDBPyConnection) -> None:
    rows = _shopify_rows()
    assert row_insert._typed_frame(row_insert._types(con, "shopify_inventory_quantities"),
                                   SHOPIFY, rows) is not None
    row_insert.insert_rows(con, "shopify_inventory_quantities", SHOPIFY, "frame", rows)
    row_insert._insert_bound(con, "shopify_inventory_quantities", SHOPIFY, "bound", rows)
    assert _stored(con, "shopify_inventory_quantities", "frame") == _stored(
        con, "shopify_inventory_quantities", "bound")
    assert len(_stored(con, "shopify_inventory_quantities", "frame")) == 6


def test_booleans_and_all_null_columns(con: duckdb.DuckDBPyConnection) -> None:
    rows = [{"file_name": "f.edi", "quantity": "4", "is_breakdown": flag, "segment_position": n}
            for n, flag in enumerate([True, False, True])]
    row_insert.insert_rows(con, "edi846_inventory", EDI, "frame", rows)
    row_insert._insert_bound(con, "edi846_inventory", EDI, "bound", rows)
    assert _stored(con, "edi846_inventory", "frame") == _stored(con, "edi846_inventory", "bound")


@pytest.mark.parametrize("odd", ["12", 12.0, True])
def test_odd_types_take_the_binding_path(con: duckdb.DuckDBPyConnection, odd: Any) -> None:
    rows = [*_shopify_rows(), {**_shopify_rows()[0], "sku": "ODD", "available": odd}]
    types = row_insert._types(con, "shopify_inventory_quantities")
    assert row_insert._typed_frame(types, SHOPIFY, rows) is None
    row_insert.insert_rows(con, "shopify_inventory_quantities", SHOPIFY, "s", rows)
    got = con.execute("select available from raw.shopify_inventory_quantities "
                      "where snapshot_id = 's' and sku = 'ODD'").fetchone()
    assert got == (int(odd),)  # DuckDB's own cast, as before


def test_a_value_duckdb_cannot_cast_still_fails_the_insert(
        con: duckdb.DuckDBPyConnection) -> None:
    rows = [{**_shopify_rows()[0], "sku": "BAD", "available": "twelve"}]
    with pytest.raises(duckdb.ConversionException, match="twelve"):
        row_insert.insert_rows(con, "shopify_inventory_quantities", SHOPIFY, "s", rows)


def test_integer_overflow_is_an_error_not_a_wrap(con: duckdb.DuckDBPyConnection) -> None:
    rows = [{**_shopify_rows()[0], "sku": "BIG", "available": 2**40}]
    with pytest.raises(duckdb.Error):
        row_insert.insert_rows(con, "shopify_inventory_quantities", SHOPIFY, "s", rows)
