"""Stored cursors + incremental extraction + replay, against the sandbox servers (real HTTP
on loopback): an incremental cycle asks only for changed rows, lands a complete snapshot
equal to a full refresh, and a failure leaves the cursor and the last good snapshot alone.
Replay re-lands a snapshot from its payloads with the vendor down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest
from extract_vendors import Sleeps

from extractors.cursors import Plan, plan_extraction, read_cursor, request_full_refresh
from extractors.landing import SnapshotResult, land_snapshot
from extractors.registry import build_connector
from extractors.replay import ReplayError, replay_snapshot, snapshots_in_range
from sandbox.serve import SANDBOX_TOKENS, FaultMode, SandboxServers
from sandbox.servers.amazon import CLIENT_ID, SELLER_ID, TokenBucket
from sandbox.servers.shopify import LeakyBucket
from sandbox.servers.shopify_graphql import CostBucket
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
AMAZON = {"refresh_token": "AMZ_REFRESH", "client_id": "AMZ_CLIENT",
          "client_secret": "AMZ_SECRET"}
SYSTEMS: dict[str, dict[str, Any]] = {
    "shopify": dict(role="storefront", connector="shopify_rest", server="shopify",
                    credentials={"access_token": "SHOPIFY_ACCESS_TOKEN"},
                    options={"page_size": "5"}),
    "shopify_gql": dict(role="storefront", connector="shopify_graphql", server="shopify_gql",
                        credentials={"access_token": "SHOPIFY_GQL_TOKEN"},
                        options={"page_size": "5"}),
    "amazon": dict(role="marketplace", connector="amazon_fba", server="amazon",
                   credentials=AMAZON, options={"lwa_endpoint": "/auth/o2/token"}),
    "amazon_mfn": dict(role="marketplace", connector="amazon_mfn", server="amazon",
                       credentials=AMAZON, options={"lwa_endpoint": "/auth/o2/token",
                                                    "seller_id": SELLER_ID, "page_size": "5"}),
    "square": dict(role="pos", connector="square", server="square",
                   credentials={"access_token": "SQ_TOKEN"}, options={"page_size": "10"}),
}
ENV = {"AMZ_REFRESH": SANDBOX_TOKENS["amazon"], "AMZ_CLIENT": CLIENT_ID,
       "AMZ_SECRET": SANDBOX_TOKENS["amazon"] + "-client-secret",
       "SQ_TOKEN": SANDBOX_TOKENS["square"], "SHOPIFY_GQL_TOKEN": SANDBOX_TOKENS["shopify_gql"],
       "SHOPIFY_ACCESS_TOKEN": SANDBOX_TOKENS["shopify"]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START + timedelta(minutes=30))


@pytest.fixture
def servers(clock: ManualClock) -> Iterator[SandboxServers]:
    with SandboxServers(World(7, START), clock) as running:
        running.apps["amazon"].page_size = 5  # type: ignore[attr-defined]
        running.apps["amazon"].bucket = TokenBucket(1000, 1000)  # type: ignore[attr-defined]
        running.apps["amazon"].listings_bucket = TokenBucket(1000, 1000)  # type: ignore[attr-defined]
        running.apps["shopify_gql"].bucket = CostBucket(10**6, 10**6)  # type: ignore[attr-defined]
        running.apps["shopify"].bucket = LeakyBucket(10**6, 10**6)  # type: ignore[attr-defined]
        yield running


@pytest.fixture
def con(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[duckdb.DuckDBPyConnection]:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def system(servers: SandboxServers, system_id: str, **extra: Any) -> SystemConfig:
    spec = {k: v for k, v in SYSTEMS[system_id].items() if k != "server"}
    return SystemConfig(id=system_id, base_url=servers.base_urls[SYSTEMS[system_id]["server"]],
                        freshness_target_minutes=5, timeout_seconds=5,
                        full_refresh_every_minutes=60, **spec, **extra)


def extract(con: duckdb.DuckDBPyConnection, cfg: SystemConfig, clock: ManualClock,
            force_full: bool = False) -> tuple[SnapshotResult, Plan]:
    """What stockdrift.pipeline.extract_system does, on this test's warehouse."""
    plan = plan_extraction(con, cfg, clock.now(), force_full=force_full)
    connector = build_connector(cfg, since=plan.since)
    connector._sleep = Sleeps()  # type: ignore[attr-defined]
    return land_snapshot(con, cfg, connector, clock.now(), clock, plan), plan


# The sandbox GraphQL server moves a level's `updatedAt` only with `available` (the world's
# level timestamp), so an `updated_at:>` filter cannot see committed/on_hand-only moves:
# those wait for the periodic full refresh. The quantities the filter covers must match.
FILTERED_COLUMNS = {"shopify_gql": ("inventory_item_id", "location_id", "available",
                                    "updated_at")}


def rows(con: duckdb.DuckDBPyConnection, cfg: SystemConfig, snapshot_id: str,
         columns: tuple[str, ...] | None = None) -> list[Any]:
    connector = build_connector(cfg)
    cols = ", ".join(columns or connector.columns)
    return sorted(con.execute(f"select {cols} from raw.{connector.raw_table} "
                              "where snapshot_id = ?", [snapshot_id]).fetchall(), key=repr)


@pytest.mark.parametrize("system_id", list(SYSTEMS))
def test_incremental_fetches_changes_and_equals_full_refresh(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, clock: ManualClock,
    system_id: str,
) -> None:
    cfg = system(servers, system_id)
    app = servers.apps[SYSTEMS[system_id]["server"]]
    before = app.requests_served
    full, plan = extract(con, cfg, clock)
    full_requests = app.requests_served - before
    assert (full.status, plan.mode) == ("succeeded", "full"), full.error_cause
    cursor = read_cursor(con, system_id)
    assert cursor is not None and cursor.value is not None
    assert cursor.snapshot_id == full.snapshot_id

    clock.advance(timedelta(minutes=20))  # the world moves on: some levels change
    before = app.requests_served
    inc, plan = extract(con, cfg, clock)
    inc_requests = app.requests_served - before
    assert (inc.status, plan.mode) == ("succeeded", "incremental"), inc.error_cause
    assert plan.base_snapshot_id == full.snapshot_id
    assert inc_requests < full_requests  # only changed rows were asked for
    mode = con.execute("select mode, base_snapshot_id, changed_rows from raw.snapshot_modes "
                       "where snapshot_id = ?", [inc.snapshot_id]).fetchone()
    assert mode is not None and mode[:2] == ("incremental", full.snapshot_id)
    assert mode[2] < inc.row_count  # changed rows only, merged onto the base's rows
    cursor2 = read_cursor(con, system_id)
    assert cursor2 is not None and cursor2.snapshot_id == inc.snapshot_id
    assert cursor2.value is not None and cursor2.value >= cursor.value

    refresh, plan = extract(con, cfg, clock, force_full=True)
    assert (refresh.status, plan.mode) == ("succeeded", "full")
    assert inc.row_count == refresh.row_count
    cols = FILTERED_COLUMNS.get(system_id)
    assert rows(con, cfg, inc.snapshot_id, cols) == rows(con, cfg, refresh.snapshot_id, cols)


def test_failure_leaves_cursor_and_last_good_snapshot(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, clock: ManualClock,
) -> None:
    cfg = system(servers, "shopify")
    good, _ = extract(con, cfg, clock)
    kept = read_cursor(con, "shopify")
    landed = rows(con, cfg, good.snapshot_id)
    clock.advance(timedelta(minutes=20))
    servers.set_fault("shopify", FaultMode("status_500", skip=1))  # fails mid-extraction
    failed, plan = extract(con, cfg, clock)
    servers.set_fault("shopify", None)
    assert plan.mode == "incremental" and failed.status == "failed"
    assert "500" in (failed.error_cause or "")
    assert read_cursor(con, "shopify") == kept
    assert rows(con, cfg, good.snapshot_id) == landed
    assert not con.execute("select count(*) from raw.snapshot_modes where snapshot_id = ?",
                           [failed.snapshot_id]).fetchone()[0]  # type: ignore[index]


def test_full_refresh_every_interval_and_on_demand(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, clock: ManualClock,
) -> None:
    cfg = system(servers, "square")
    assert extract(con, cfg, clock)[1].mode == "full"
    clock.advance(timedelta(minutes=30))
    assert extract(con, cfg, clock)[1].mode == "incremental"
    clock.advance(timedelta(minutes=31))  # 61 min since the full refresh, interval 60
    assert extract(con, cfg, clock)[1].mode == "full"
    clock.advance(timedelta(minutes=5))
    assert request_full_refresh(con, "square")
    assert extract(con, cfg, clock)[1].mode == "full"
    assert extract(con, cfg, clock)[1].mode == "incremental"  # the request was served
    off = cfg.model_copy(update={"full_refresh_every_minutes": None})
    assert plan_extraction(con, off, clock.now()).mode == "full"


def test_full_refresh_catches_deletions(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, clock: ManualClock,
) -> None:
    """A level gone at the vendor stays in incremental snapshots (nothing says it changed)
    and disappears with the next full refresh."""
    cfg = system(servers, "shopify")
    first, _ = extract(con, cfg, clock)
    gone = con.execute("select inventory_item_id, location_id from raw.shopify_inventory_levels"
                       " where snapshot_id = ? limit 1", [first.snapshot_id]).fetchone()
    assert gone is not None
    world: Any = servers.world
    original = world.shopify_levels

    def without() -> list[dict[str, Any]]:
        return [lv for lv in original() if (lv["inventory_item_id"], lv["location_id"])
                != tuple(gone)]

    world.shopify_levels = without
    try:
        clock.advance(timedelta(minutes=5))
        inc, plan = extract(con, cfg, clock)
        assert plan.mode == "incremental"
        full, _ = extract(con, cfg, clock, force_full=True)
    finally:
        world.shopify_levels = original
    count = ("select count(*) from raw.shopify_inventory_levels where snapshot_id = ? and "
             "inventory_item_id = ? and location_id = ?")
    assert con.execute(count, [inc.snapshot_id, *gone]).fetchone() == (1,)
    assert con.execute(count, [full.snapshot_id, *gone]).fetchone() == (0,)


@pytest.mark.parametrize("system_id", list(SYSTEMS))
@pytest.mark.parametrize("concurrency", [1, 3])
def test_replay_relands_the_same_rows_with_the_vendor_down(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, clock: ManualClock,
    system_id: str, concurrency: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = {"marketplace_ids": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2"} if "amazon" in system_id \
        else {"location_ids": "L1,L2"} if system_id == "square" else {}
    base = system(servers, system_id)
    cfg = base.model_copy(update={"max_concurrency": concurrency,
                                  "options": {**base.options, **extra}})
    if system_id == "square":  # the sandbox's own location ids
        locations = sorted({c["location_id"] for c in _square_counts(servers)})
        cfg = cfg.model_copy(update={"options": {**cfg.options,
                                                 "location_ids": ",".join(locations)}})
    full, _ = extract(con, cfg, clock)
    clock.advance(timedelta(minutes=20))
    inc, plan = extract(con, cfg, clock)
    assert full.status == inc.status == "succeeded" and plan.mode == "incremental"
    landed = {s: rows(con, cfg, s) for s in (full.snapshot_id, inc.snapshot_id)}
    servers.__exit__(None, None, None)  # the vendor is gone
    for name in ENV:
        monkeypatch.delenv(name)  # and so are the secrets
    connector = build_connector(cfg)
    con.execute(f"delete from raw.{connector.raw_table}")  # rows lost
    for snapshot_id in snapshots_in_range(con, system_id, None, None):
        result = replay_snapshot(con, {system_id: cfg}, snapshot_id)
        assert result.written
        assert rows(con, cfg, snapshot_id) == landed[snapshot_id]
        assert replay_snapshot(con, {system_id: cfg}, snapshot_id, check=True).same_rows


def test_replay_refuses_failed_snapshots_and_changed_config(
    con: duckdb.DuckDBPyConnection, servers: SandboxServers, clock: ManualClock,
) -> None:
    cfg = system(servers, "shopify")
    servers.set_fault("shopify", FaultMode("status_500"))
    failed, _ = extract(con, cfg, clock)
    servers.set_fault("shopify", None)
    with pytest.raises(ReplayError, match="failed"):
        replay_snapshot(con, {"shopify": cfg}, failed.snapshot_id)
    good, _ = extract(con, cfg, clock)
    other = cfg.model_copy(update={"options": {"page_size": "7"}})
    with pytest.raises(ReplayError, match="no stored answer"):
        replay_snapshot(con, {"shopify": other}, good.snapshot_id)
    with pytest.raises(ReplayError, match="not found"):
        replay_snapshot(con, {"shopify": cfg}, "nope")


def _square_counts(servers: SandboxServers) -> list[dict[str, Any]]:
    from sandbox.servers.square import square_counts

    return square_counts(servers.world)  # type: ignore[arg-type]


def test_full_refresh_interval_needs_a_change_filter() -> None:
    with pytest.raises(ValueError, match="netsuite_suiteql has no change filter"):
        SystemConfig(id="erp", role="erp", connector="netsuite_suiteql",
                     base_url="https://1234567.suitetalk.api.netsuite.com",
                     freshness_target_minutes=5, full_refresh_every_minutes=60)
