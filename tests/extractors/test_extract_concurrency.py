"""The async engine (extractors/fanout.py): at most max_concurrency requests in flight, the
same rows and page order as the sequential path, a throttle signal from one worker slows
every worker, and a failing unit fails the snapshot with its cause and earlier payloads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import httpx
import pytest
from extract_vendors import NS_BASE, Script, js, netsuite_handler, ns_rows

from extractors.landing import land_snapshot
from extractors.netsuite import NetSuiteConnector
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2024, 4, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    ensure_schema(connection)
    yield connection
    connection.close()


def erp(concurrency: int) -> SystemConfig:
    return SystemConfig(id="erp", role="erp", connector="netsuite_suiteql", base_url=NS_BASE,
                        credentials={"token": "NETSUITE_TOKEN"}, freshness_target_minutes=5,
                        options={"page_size": "10"}, max_concurrency=concurrency)


class AsyncScript:
    """An async MockTransport handler over a sync one: counts requests in flight (each
    holds its slot for `hold_s`) and stamps when each was sent."""

    def __init__(self, script: Script, hold_s: float = 0.01) -> None:
        self.script, self.hold_s = script, hold_s
        self.inflight = self.peak = 0
        self.sent: list[tuple[float, str]] = []
        self.throttled_at: float | None = None  # when the first 429 was answered

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.inflight += 1
        self.peak = max(self.peak, self.inflight)
        self.sent.append((time.monotonic(), str(request.url.params.get("offset"))))
        try:
            await asyncio.sleep(self.hold_s)
            response = self.script(request)
            if response.status_code == 429 and self.throttled_at is None:
                self.throttled_at = time.monotonic()
            return response
        finally:
            self.inflight -= 1

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=NS_BASE, transport=httpx.MockTransport(self))


def connector(script: Script, concurrency: int, async_script: AsyncScript | None = None,
              **kw: Any) -> NetSuiteConnector:
    return NetSuiteConnector(erp(concurrency), script.client(NS_BASE), async_client=(
        async_script or AsyncScript(script)).client(), **kw)


@pytest.mark.parametrize("concurrency", [2, 4])
def test_bounded_in_flight_and_same_pages(concurrency: int) -> None:
    rows = ns_rows(95)
    sequential = list(connector(Script(netsuite_handler(rows)), 1).pages())
    script = Script(netsuite_handler(rows))
    fan = AsyncScript(script)
    pages = list(connector(script, concurrency, fan).pages())
    assert [p.label for p in pages] == [p.label for p in sequential]
    assert [p.rows for p in pages] == [p.rows for p in sequential]
    assert fan.peak == concurrency  # 9 independent offset pages, never more in flight
    assert len(script.requests) == 10


def test_throttle_from_one_worker_slows_every_worker(con: duckdb.DuckDBPyConnection) -> None:
    # 40 pages at 3 in flight, 20 ms each: without the shared pause the other workers would
    # keep sending all through the 0.3 s the vendor asked for.
    script = Script(netsuite_handler(ns_rows(400)),
                    failures_for={"offset=30": [js(429, {"title": "Too Many Requests"},
                                                   {"Retry-After": "0.3"})]})
    fan = AsyncScript(script, hold_s=0.02)
    source = connector(script, 3, fan)
    result = land_snapshot(con, erp(3), source, START, ManualClock(START))
    assert result.status == "succeeded", result.error_cause  # slowed, not broken
    assert result.row_count == 400 and result.attempts == 41
    assert fan.throttled_at is not None
    # Requests already past the throttle when the 429 came may still arrive a moment later;
    # after that, nobody sends until the 0.3 s pause is over, and then everybody goes on.
    quiet = [t for t, _ in fan.sent if fan.throttled_at + 0.1 < t < fan.throttled_at + 0.28]
    assert quiet == []
    assert [t for t, _ in fan.sent if t >= fan.throttled_at + 0.28]


def test_failing_unit_fails_the_snapshot_and_keeps_earlier_payloads(
    con: duckdb.DuckDBPyConnection,
) -> None:
    boom = js(500, {"title": "Internal Server Error", "status": 500, "o:errorDetails": [
        {"detail": "An unexpected error occurred.", "o:errorCode": "UNEXPECTED_ERROR"}]})
    script = Script(netsuite_handler(ns_rows(95)), failures_for={"offset=40": [boom] * 10})
    result = land_snapshot(con, erp(4), connector(script, 4), START, ManualClock(START))
    assert result.status == "failed"
    assert "offset=40" in (result.error_cause or "")
    assert "UNEXPECTED_ERROR" in (result.error_cause or "")
    assert "attempts 5" in (result.error_cause or "") or "5 attempts" in (
        result.error_cause or "")
    kept = con.execute("select url, status_code from raw.payloads where snapshot_id = ? "
                       "order by seq", [result.snapshot_id]).fetchall()
    offsets = [httpx.URL(u).params["offset"] for u, _ in kept]
    assert offsets == ["0", "10", "20", "30", "40"] and kept[-1][1] == 500
    assert not con.execute("select count(*) from raw.netsuite_inventory").fetchone()[0]  # type: ignore[index]


def test_shifted_page_fails_instead_of_skipping_rows() -> None:
    """A row inserted between the first page and the rest moves every later offset; the
    totals no longer add up and the snapshot fails rather than losing a row silently."""
    rows = ns_rows(95)
    real = netsuite_handler(rows)

    def grow(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("offset") != "0" and len(rows) == 95:
            rows.insert(0, ns_rows(1)[0])
        return real(request)

    with pytest.raises(Exception, match="page changed under us"):
        list(connector(Script(grow), 3).pages())


SANDBOX: dict[str, dict[str, Any]] = {
    "erp": dict(connector="netsuite_suiteql", credentials={"token": "NS"},
                options={"page_size": "20"}),
    "shipbob": dict(connector="shipbob", credentials={"token": "SB"},
                    options={"page_size": "10"}),
    "shopify": dict(connector="shopify_rest", credentials={"access_token": "SH"},
                    options={"page_size": "20"}),
    "amazon": dict(connector="amazon_fba", credentials={
        "refresh_token": "AR", "client_id": "AC", "client_secret": "AS"},
        options={"lwa_endpoint": "/auth/o2/token",
                 "marketplace_ids": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A1AM78C64UM0Y8"}),
}


@pytest.mark.parametrize("system_id", list(SANDBOX))
def test_sandbox_rows_identical_at_any_concurrency(
    system_id: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from extractors.registry import build_connector
    from sandbox.serve import SANDBOX_TOKENS, SandboxServers
    from sandbox.servers.amazon import CLIENT_ID, TokenBucket
    from sandbox.servers.shipbob import SlidingWindow
    from sandbox.servers.shopify import LeakyBucket
    from sandbox.world import World

    for name, value in {"NS": SANDBOX_TOKENS["erp"], "SB": SANDBOX_TOKENS["shipbob"],
                        "SH": SANDBOX_TOKENS["shopify"], "AR": SANDBOX_TOKENS["amazon"],
                        "AC": CLIENT_ID, "AS": SANDBOX_TOKENS["amazon"] + "-client-secret",
                        }.items():
        monkeypatch.setenv(name, value)
    start = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
    with SandboxServers(World(7, start), ManualClock(start)) as servers:
        apps: Any = servers.apps
        apps["amazon"].bucket = TokenBucket(1000, 1000)
        apps["amazon"].page_size = 10
        apps["shopify"].bucket = LeakyBucket(10**6, 10**6)
        apps["shipbob"].window = SlidingWindow(10**6)
        landed = {}
        for n in (1, 4):
            cfg = SystemConfig(id=system_id, role="erp", base_url=servers.base_urls[system_id],
                               freshness_target_minutes=5, max_concurrency=n,
                               **SANDBOX[system_id])
            source = build_connector(cfg)
            source._sleep = lambda _s: None  # type: ignore[attr-defined]
            pages = list(source.pages())
            landed[n] = sorted(repr(sorted(r.items())) for p in pages for r in p.rows)
    # Labels may differ (Shopify batches shrink per worker; nextTokens are random): rows not.
    assert len(landed[1]) > 20 and landed[4] == landed[1]


def test_workers_refresh_expired_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """An access token that expires mid-run is refreshed once and the workers go on: Amazon
    (LWA, 403) across marketplaces, Square (OAuth, 401) across location groups."""
    from extractors.registry import build_connector
    from sandbox.serve import SANDBOX_TOKENS, FaultMode, SandboxServers
    from sandbox.servers.amazon import CLIENT_ID, TokenBucket
    from sandbox.servers.square import CLIENT_ID as SQUARE_CLIENT
    from sandbox.servers.square import square_counts
    from sandbox.world import World

    start = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
    with SandboxServers(World(7, start), ManualClock(start)) as servers:
        apps: Any = servers.apps
        apps["amazon"].bucket = TokenBucket(1000, 1000)
        apps["amazon"].page_size = 10
        for name, value in {"AR": SANDBOX_TOKENS["amazon"], "AC": CLIENT_ID,
                            "AS": SANDBOX_TOKENS["amazon"] + "-client-secret",
                            "SR": apps["square"].refresh_token, "SC": SQUARE_CLIENT,
                            "SS": apps["square"].client_secret}.items():
            monkeypatch.setenv(name, value)
        amazon = SystemConfig(
            id="amazon", role="marketplace", connector="amazon_fba", max_concurrency=3,
            base_url=servers.base_urls["amazon"], freshness_target_minutes=5,
            credentials={"refresh_token": "AR", "client_id": "AC", "client_secret": "AS"},
            options={"lwa_endpoint": "/auth/o2/token",
                     "marketplace_ids": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A1AM78C64UM0Y8"})
        locations = sorted({c["location_id"] for c in square_counts(servers.world)})
        square = SystemConfig(
            id="square", role="pos", connector="square", max_concurrency=2,
            base_url=servers.base_urls["square"], freshness_target_minutes=5,
            credentials={"refresh_token": "SR", "client_id": "SC", "client_secret": "SS"},
            options={"page_size": "10", "location_ids": ",".join([*locations, "L-EMPTY"])})
        con = duckdb.connect()
        ensure_schema(con)
        for cfg, refreshes in ((amazon, "tokens.refreshes"), (square, "refreshes")):
            servers.set_fault(cfg.id, FaultMode("expired_token", skip=3, count=1))
            source = build_connector(cfg)
            source._sleep = lambda _s: None  # type: ignore[attr-defined]
            result = land_snapshot(con, cfg, source, START, ManualClock(START))
            servers.set_fault(cfg.id, None)
            assert result.status == "succeeded", result.error_cause
            owner: Any = source
            for part in refreshes.split("."):
                owner = getattr(owner, part)
            assert owner == 2  # the first token and one after the expiry
            assert result.attempts == result.pages + 3  # 2 token calls + the refused page
        con.close()
