"""Amazon SP-API, Square and Shopify GraphQL connectors against their sandbox servers (real
HTTP on loopback), landed into a throwaway DuckDB, in every fault mode."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest
from extract_vendors import Sleeps

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from sandbox.catalog import mfn_seller_sku
from sandbox.serve import SANDBOX_TOKENS, FaultMode, SandboxServers
from sandbox.servers.amazon import CLIENT_ID, SELLER_ID, TokenBucket, fba_summaries
from sandbox.servers.shopify_graphql import CostBucket
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
CYCLE = START + timedelta(minutes=30)
SYSTEMS: dict[str, dict[str, Any]] = {
    "amazon": dict(role="marketplace", connector="amazon_fba",
                   credentials={"refresh_token": "AMZ_REFRESH", "client_id": "AMZ_CLIENT",
                                "client_secret": "AMZ_SECRET"},
                   options={"lwa_endpoint": "/auth/o2/token"}),
    "square": dict(role="pos", connector="square", credentials={"access_token": "SQ_TOKEN"},
                   options={"page_size": "20"}),
    "shopify_gql": dict(role="storefront", connector="shopify_graphql",
                        credentials={"access_token": "SHOPIFY_GQL_TOKEN"},
                        options={"page_size": "10", "bulk_poll_seconds": "0"}),
    # Merchant-fulfilled listing quantities: the Listings Items API on the same fake SP-API.
    "amazon_mfn": dict(role="marketplace", connector="amazon_mfn",
                       credentials={"refresh_token": "AMZ_REFRESH", "client_id": "AMZ_CLIENT",
                                    "client_secret": "AMZ_SECRET"},
                       options={"lwa_endpoint": "/auth/o2/token", "seller_id": SELLER_ID,
                                "page_size": "10"}),
}
HTTP_IDS = list(SYSTEMS)
SERVER = {"amazon_mfn": "amazon"}  # system id -> sandbox server, where they differ


def set_fault(servers: SandboxServers, system_id: str, fault: FaultMode | None) -> None:
    servers.set_fault(SERVER.get(system_id, system_id), fault)
ENV = {"AMZ_REFRESH": SANDBOX_TOKENS["amazon"], "AMZ_CLIENT": CLIENT_ID,
       "AMZ_SECRET": SANDBOX_TOKENS["amazon"] + "-client-secret",
       "SQ_TOKEN": SANDBOX_TOKENS["square"], "SHOPIFY_GQL_TOKEN": SANDBOX_TOKENS["shopify_gql"]}


@pytest.fixture(scope="module")
def servers() -> Iterator[SandboxServers]:
    with SandboxServers(World(7, START), ManualClock(CYCLE)) as running:
        running.apps["amazon"].page_size = 10  # type: ignore[attr-defined]
        yield running


@pytest.fixture(autouse=True)
def _roomy_limits(servers: SandboxServers) -> Iterator[None]:
    """Vendor rate limits are wall-clock; tests that are not about them get roomy buckets."""
    servers.apps["amazon"].bucket = TokenBucket(1000, 1000)  # type: ignore[attr-defined]
    servers.apps["amazon"].listings_bucket = TokenBucket(1000, 1000)  # type: ignore[attr-defined]
    servers.apps["shopify_gql"].bucket = CostBucket(100_000, 100_000)  # type: ignore[attr-defined]
    yield
    for system_id in HTTP_IDS:
        set_fault(servers, system_id, None)


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One warehouse per module (schema set-up is the slow part); tests read their own
    snapshot ids only."""
    connection = duckdb.connect(str(tmp_path_factory.mktemp("wh") / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def system(servers: SandboxServers, system_id: str, timeout: float = 5.0,
           **options: str) -> SystemConfig:
    spec = dict(SYSTEMS[system_id])
    spec["options"] = {**spec["options"], **options}
    return SystemConfig(id=system_id, base_url=servers.base_urls[SERVER.get(system_id,
                                                                            system_id)],
                        freshness_target_minutes=5, timeout_seconds=timeout, **spec)


def land(con: duckdb.DuckDBPyConnection, cfg: SystemConfig, **kwargs: Any) -> Any:
    connector = build_connector(cfg)
    connector._sleep = Sleeps()  # type: ignore[attr-defined]  # no real throttle waits
    for key, value in kwargs.items():
        setattr(connector, key, value)
    result = land_snapshot(con, cfg, connector, CYCLE, ManualClock(CYCLE))
    return result, connector


@pytest.mark.parametrize("system_id", HTTP_IDS)
def test_lands_sandbox_snapshot(con: duckdb.DuckDBPyConnection, servers: SandboxServers,
                                system_id: str) -> None:
    cfg = system(servers, system_id)
    result, connector = land(con, cfg)
    assert result.status == "succeeded", result.error_cause
    assert result.pages > 2
    table = connector.raw_table
    landed = con.execute(f"select count(*) from raw.{table} where snapshot_id = ?",
                         [result.snapshot_id]).fetchone()
    assert landed is not None and landed[0] == result.row_count > 0
    payloads = con.execute("select count(*), min(status_code) from raw.payloads "
                           "where snapshot_id = ?", [result.snapshot_id]).fetchone()
    assert payloads == (result.pages, 200)
    bodies = b"".join(gzip.decompress(b) for (b,) in con.execute(
        "select body_gzip from raw.payloads").fetchall())
    assert len(bodies) > 1000  # the vendor answers themselves, not just metadata
    for secret in ENV.values():
        assert secret.encode() not in bodies


def test_rows_match_the_world(con: duckdb.DuckDBPyConnection, servers: SandboxServers) -> None:
    truth = {sku: v for (loc, sku), v in servers.world.expected_truth().items()
             if loc == "EAST-DC"}
    result, _ = land(con, system(servers, "amazon"))
    got = dict(con.execute("select seller_sku, fulfillable_quantity from raw.amazon_fba_inventory"
                           " where snapshot_id = ?", [result.snapshot_id]).fetchall())
    # what the fake SP-API serves (the world's own FBA state, or derived from EAST-DC)
    served = {s["sellerSku"]: s["inventoryDetails"]["fulfillableQuantity"]
              for s in fba_summaries(servers.world)}
    assert got == served and len(got) > 10
    result, _ = land(con, system(servers, "amazon_mfn"))
    mfn = dict(con.execute("select seller_sku, quantity from raw.amazon_mfn_listings where "
                           "snapshot_id = ? and fulfillment_channel_code = 'DEFAULT'",
                           [result.snapshot_id]).fetchall())
    world: Any = servers.world
    if callable(getattr(world, "amazon_mfn_quantities", None)):
        assert mfn == dict(world.amazon_mfn_quantities())
    else:  # derived from the ERP's EAST-DC available
        assert mfn == {mfn_seller_sku(r["itemid"]): max(int(r["quantityavailable"]), 0)
                       for r in world.erp_rows() if r["location"] == "1"}
    result, _ = land(con, system(servers, "square"))
    in_stock = con.execute("select count(*), count(distinct catalog_object_id) from "
                           "raw.square_inventory_counts where snapshot_id = ? and "
                           "state = 'IN_STOCK'", [result.snapshot_id]).fetchone()
    assert in_stock == (len(truth), len(truth))


def test_shopify_bulk_matches_paged(con: duckdb.DuckDBPyConnection,
                                    servers: SandboxServers) -> None:
    paged, _ = land(con, system(servers, "shopify_gql"))
    bulk, _ = land(con, system(servers, "shopify_gql", mode="bulk"))
    assert bulk.status == "succeeded", bulk.error_cause
    cols = "inventory_level_id, sku, location_name, available, on_hand, committed, incoming"
    rows = [set(con.execute(f"select {cols} from raw.shopify_inventory_quantities "
                            "where snapshot_id = ?", [r.snapshot_id]).fetchall())
            for r in (paged, bulk)]
    assert rows[0] == rows[1] and len(rows[0]) == paged.row_count


EXPECT = {
    "expired_token": "authentication/permission",
    "status_500": "after 5 attempts",
    "status_429": "rate limited",
    "malformed_body": "body is not JSON",
    "renamed_field": "unexpected response schema",
    "truncated_page": "truncated",
}
# Requests before the fault: Amazon spends one on LWA and needs a full first page to judge
# a short one; Shopify GraphQL's first request is the locations query.
SKIP = {"amazon": 2, "square": 1, "shopify_gql": 1, "amazon_mfn": 2}


@pytest.mark.parametrize("system_id", HTTP_IDS)
@pytest.mark.parametrize("kind", list(EXPECT))
def test_fault_becomes_failed_snapshot(con: duckdb.DuckDBPyConnection, servers: SandboxServers,
                                       system_id: str, kind: str) -> None:
    set_fault(servers, system_id, FaultMode(kind, skip=SKIP[system_id]))  # type: ignore[arg-type]
    result, _ = land(con, system(servers, system_id))
    cause = result.error_cause or ""
    assert result.status == "failed" and result.row_count == 0, cause
    assert EXPECT[kind] in cause, cause
    assert all(secret not in cause for secret in ENV.values())
    kept = con.execute("select count(*) from raw.payloads where snapshot_id = ?",
                       [result.snapshot_id]).fetchone()
    assert kept is not None and kept[0] >= 1  # the pages received (or the failing one) kept


@pytest.mark.parametrize(("system_id", "code"), [("amazon", "QuotaExceeded"),
                                                 ("amazon_mfn", "QuotaExceeded"),
                                                 ("square", "RATE_LIMITED"),
                                                 ("shopify_gql", "THROTTLED")])
def test_throttle_names_vendor_code_then_recovers(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, system_id: str, code: str
) -> None:
    set_fault(servers, system_id, FaultMode("status_429", skip=SKIP[system_id]))
    failed, _ = land(con, system(servers, system_id))
    assert code in (failed.error_cause or ""), failed.error_cause
    set_fault(servers, system_id, FaultMode("status_429", skip=SKIP[system_id], count=2))
    result, _ = land(con, system(servers, system_id))
    assert result.status == "succeeded", result.error_cause
    assert result.attempts >= result.pages + 2


@pytest.mark.parametrize("system_id", HTTP_IDS)
def test_slow_vendor_times_out(con: duckdb.DuckDBPyConnection, servers: SandboxServers,
                               system_id: str) -> None:
    set_fault(servers, system_id, FaultMode("slow", delay_s=0.3, skip=SKIP[system_id]))
    result, _ = land(con, system(servers, system_id, timeout=0.05))
    assert result.status == "failed" and "timed out" in (result.error_cause or "")


def test_amazon_refreshes_an_expired_access_token(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers
) -> None:
    servers.set_fault("amazon", FaultMode("expired_token", skip=2, count=1))
    result, connector = land(con, system(servers, "amazon"))
    assert result.status == "succeeded", result.error_cause
    assert connector.tokens.refreshes == 2  # first token, then one after the 403
    # every request counted: 2 LWA + the 403 + the pages
    assert result.attempts == result.pages + 3


def test_amazon_bad_refresh_token_names_lwa(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMZ_REFRESH", "Atzr|revoked")
    result, _ = land(con, system(servers, "amazon"))
    cause = result.error_cause or ""
    assert "invalid_grant" in cause and "re-authorize" in cause and "revoked" not in cause


def test_amazon_paces_itself_within_the_real_usage_plan(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers
) -> None:
    """Real 2 rps / burst 2 bucket on the server, real sleeps in the connector: no 429."""
    app: Any = servers.apps["amazon"]
    app.bucket, app.throttled = TokenBucket(), 0
    cfg = system(servers, "amazon", timeout=10.0)
    connector = build_connector(cfg)
    t0 = time.monotonic()
    result = land_snapshot(con, cfg, connector, CYCLE, ManualClock(CYCLE))
    assert result.status == "succeeded", result.error_cause
    assert app.throttled == 0  # paced under 2 rps / burst 2: not one 429
    assert time.monotonic() - t0 >= (result.pages - 2) / 2  # and it did wait for them


def test_shopify_graphql_waits_for_the_cost_bucket(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers
) -> None:
    servers.apps["shopify_gql"].bucket = CostBucket(100, 1_000_000)  # type: ignore[attr-defined]
    servers.apps["shopify_gql"].throttle_status = 429  # type: ignore[attr-defined]
    try:
        result, connector = land(con, system(servers, "shopify_gql", page_size="40"))
    finally:
        servers.apps["shopify_gql"].throttle_status = 200  # type: ignore[attr-defined]
    # first=40 costs 122 > 100 points: can never fit, and the cause says so
    assert result.status == "failed" and "THROTTLED" in (result.error_cause or "")
    assert connector.throttle_waits


def test_incremental_cursors(con: duckdb.DuckDBPyConnection, servers: SandboxServers) -> None:
    full, amazon = land(con, system(servers, "amazon"))
    assert amazon.high_water_mark is not None
    inc, _ = land(con, system(servers, "amazon"), since=amazon.high_water_mark)
    assert inc.status == "succeeded" and inc.row_count < full.row_count
    full, square = land(con, system(servers, "square"))
    inc, _ = land(con, system(servers, "square"), since=square.high_water_mark)
    assert inc.status == "succeeded" and inc.row_count < full.row_count
    full, _ = land(con, system(servers, "shopify_gql"))
    inc, _ = land(con, system(servers, "shopify_gql"), since=CYCLE - timedelta(minutes=5))
    assert inc.status == "succeeded" and inc.row_count < full.row_count


@pytest.mark.parametrize("system_id", ["amazon", "square"])
def test_short_pages_accepted_when_not_strict(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, system_id: str
) -> None:
    """Full pages are observed, not documented: a deployment can switch the check off."""
    servers.set_fault(system_id, FaultMode("truncated_page", skip=SKIP[system_id], count=1))
    result, _ = land(con, system(servers, system_id, strict_pages="false"))
    assert result.status == "succeeded", result.error_cause


def test_square_oauth_refreshes_on_401(con: duckdb.DuckDBPyConnection,
                                       servers: SandboxServers,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    app: Any = servers.apps["square"]
    monkeypatch.setenv("SQ_REFRESH", app.refresh_token)
    monkeypatch.setenv("SQ_CLIENT", "sq0idp-sandbox")
    monkeypatch.setenv("SQ_SECRET", app.client_secret)
    cfg = system(servers, "square").model_copy(update={"credentials": {
        "refresh_token": "SQ_REFRESH", "client_id": "SQ_CLIENT", "client_secret": "SQ_SECRET"}})
    servers.set_fault("square", FaultMode("expired_token", skip=2, count=1))  # token, page 1
    result, connector = land(con, cfg)
    assert result.status == "succeeded", result.error_cause
    # every request counted: two ObtainToken calls, the 401, the pages
    assert connector.refreshes == 2 and result.attempts == result.pages + 3
    monkeypatch.setenv("SQ_REFRESH", "revoked")
    result, _ = land(con, cfg)
    cause = result.error_cause or ""
    assert "UNAUTHORIZED" in cause and "re-authorize the seller" in cause
    assert app.client_secret not in cause
