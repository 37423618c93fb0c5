"""One integration test per connector against the sandbox vendor servers (real HTTP on
loopback), plus the fault modes an extractor must turn into a failed snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from extract_vendors import Sleeps

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

serve = pytest.importorskip("sandbox.serve", reason="sandbox servers not available")
world_mod = pytest.importorskip("sandbox.world", reason="sandbox world not available")

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
CYCLE = START + timedelta(minutes=30)
SYSTEMS: dict[str, dict[str, Any]] = {
    "erp": dict(role="erp", connector="netsuite_suiteql", credentials={"token": "NETSUITE_TOKEN"},
                options={"page_size": "20"}),
    "shopify": dict(role="storefront", connector="shopify_rest",
                    credentials={"access_token": "SHOPIFY_ACCESS_TOKEN"},
                    options={"api_version": "2024-04", "page_size": "20"}),
    "shipbob": dict(role="3pl", connector="shipbob", credentials={"token": "SHIPBOB_TOKEN"},
                    options={"page_size": "10"}),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[Any]:
    clock = ManualClock(CYCLE)
    world = world_mod.World(7, START)
    with serve.SandboxServers(world, clock) as running:
        yield running


@pytest.fixture
def con(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    tokens = serve.SANDBOX_TOKENS
    monkeypatch.setenv("NETSUITE_TOKEN", tokens["erp"])
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", tokens["shopify"])
    monkeypatch.setenv("SHIPBOB_TOKEN", tokens["shipbob"])
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def land(
    con: duckdb.DuckDBPyConnection, servers: Any, system_id: str, timeout: float = 1.0
) -> Any:
    system = SystemConfig(id=system_id, base_url=servers.base_urls[system_id],
                          freshness_target_minutes=5, timeout_seconds=timeout,
                          **SYSTEMS[system_id])
    connector = build_connector(system)
    connector._sleep = Sleeps()  # type: ignore[attr-defined]  # no real throttle waits
    return land_snapshot(con, system, connector, CYCLE, ManualClock(CYCLE))


@pytest.mark.parametrize("system_id", ["erp", "shopify", "shipbob"])
def test_connector_lands_sandbox_snapshot(
    con: duckdb.DuckDBPyConnection, servers: Any, system_id: str
) -> None:
    servers.set_fault(system_id, None)
    result = land(con, servers, system_id)
    assert result.status == "succeeded", result.error_cause
    assert result.row_count > 0 and result.pages > 1


@pytest.mark.parametrize("system_id", ["erp", "shopify", "shipbob"])
@pytest.mark.parametrize(
    ("kind", "expect"),
    [
        ("expired_token", "HTTP 401"),
        ("status_500", "after 5 attempts"),
        ("malformed_body", "body is not JSON"),
        ("renamed_field", "unexpected response schema"),
        ("truncated_page", "truncated"),
    ],
)
def test_fault_becomes_failed_snapshot(
    con: duckdb.DuckDBPyConnection, servers: Any, system_id: str, kind: str, expect: str
) -> None:
    servers.set_fault(system_id, serve.FaultMode(kind, skip=1))  # fail from the 2nd request
    try:
        result = land(con, servers, system_id)
    finally:
        servers.set_fault(system_id, None)
    assert result.status == "failed" and result.row_count == 0
    assert expect in (result.error_cause or ""), result.error_cause
    assert serve.SANDBOX_TOKENS[system_id] not in (result.error_cause or "")


@pytest.mark.parametrize("system_id", ["shopify", "shipbob"])
def test_throttled_then_recovers(
    con: duckdb.DuckDBPyConnection, servers: Any, system_id: str
) -> None:
    servers.set_fault(system_id, serve.FaultMode("status_429", skip=1, count=2))
    try:
        result = land(con, servers, system_id)
    finally:
        servers.set_fault(system_id, None)
    assert result.status == "succeeded", result.error_cause
    assert result.attempts >= result.pages + 2


def test_slow_vendor_times_out(con: duckdb.DuckDBPyConnection, servers: Any) -> None:
    servers.set_fault("shipbob", serve.FaultMode("slow", delay_s=0.5))
    try:
        result = land(con, servers, "shipbob", timeout=0.1)
    finally:
        servers.set_fault("shipbob", None)
    assert result.status == "failed" and result.attempts == 5
    assert "shipbob: timed out from GET /1.0/inventory" in (result.error_cause or "")
