"""Helpers and fixtures for the alert tests (unique module name: importable from tests)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from stockdrift.config import StockdriftConfig, load_config
from stockdrift.warehouse import connect, ensure_schema

ROOT = Path(__file__).resolve().parents[2]
CYCLE_AT = datetime(2024, 5, 1, 12, 0)

Row = dict[str, Any]


@pytest.fixture
def cfg() -> StockdriftConfig:
    return load_config(ROOT / "stockdrift.example.yml")


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(tmp_path / "wh.duckdb")
    ensure_schema(connection)
    yield connection
    connection.close()


def make_row(
    fingerprint: str,
    *,
    cause: str = "oversell_risk",
    system_id: str = "shopify",
    sku: str | None = "SD-1001",
    location: str | None = "EAST-DC",
    owner_id: str = "ecommerce",
    severity: str = "high",
    score: float = 10.0,
    observed: float = 12,
    expected: float = 4,
    first_seen_at: datetime = datetime(2024, 5, 1, 9, 30),
    **extra: Any,
) -> Row:
    evidence = {
        "observed_qty": observed,
        "expected_qty": expected,
        "variance_units": observed - expected,
        "observed_at": "2024-05-01T11:58:00",
        "last_master_change_at": "2024-05-01T09:25:00",
        "master_available": expected,
    }
    row: Row = {
        "fingerprint": fingerprint,
        "cause": cause,
        "system_id": system_id,
        "canonical_sku": sku,
        "canonical_location": location,
        "external_id": sku,
        "owner_id": owner_id,
        "severity": severity,
        "severity_score": score,
        "status": "open",
        "snoozed_until": None,
        "first_seen_at": first_seen_at,
        "last_seen_at": CYCLE_AT,
        "resolved_at": None,
        "times_opened": 1,
        "title": f"Shopify shows {observed:g} for {sku}, master allows {expected:g}",
        "probable_cause": "An order in flight was not yet pushed to Shopify.",
        "suggested_check": "Compare the Shopify inventory history for the SKU with NetSuite.",
        "evidence": json.dumps(evidence),
        "alerted_at": None,
        "alert_id": None,
    }
    row.update(extra)
    return row


@pytest.fixture
def row() -> Callable[..., Row]:
    return make_row


def insert_exceptions(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    cols = list(rows[0])
    con.executemany(
        f"insert into ops.exceptions ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
        [[r[c] for c in cols] for r in rows],
    )
