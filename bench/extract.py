"""`make bench-extract`: connector throughput on loopback, and what each vendor's documented
rate limit means for a 100k SKU x 10 location catalogue against a 5-minute freshness target.

Part 1 (measured): every connector against its sandbox server / file / database with the
vendors' rate limits switched off, over a synthetic catalogue (`--skus`), so the number is
our own cost: HTTP on loopback, JSON/X12/CSV parsing, validation. Landing is not included.
Part 1b (measured): the HTTP connectors at `max_concurrency` 1 vs N (`--concurrency`) with
a simulated round trip per request (`--latency-ms`, the sandbox's `slow` fault), the case
the async engine is for: offset/page-number pages, location batches and marketplaces in
flight at once. Amazon reads 3 marketplaces; Square's sandbox has one location (no fan-out).
Part 2 (computed): requests a full refresh and an incremental cycle (1% of keys changed)
need, times the vendor's documented limit (vendor_api_facts.md sections cited per row).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from extractors.registry import build_connector
from sandbox.files.csv_drop import OPTIONS as CSV_OPTIONS
from sandbox.files.csv_drop import encode
from sandbox.files.edi846 import render_846
from sandbox.files.wms_db import OPTIONS as WMS_OPTIONS
from sandbox.files.wms_db import write_wms_db
from sandbox.serve import SANDBOX_TOKENS, SandboxServers
from sandbox.servers.amazon import CLIENT_ID, TokenBucket
from sandbox.servers.shipbob import SlidingWindow
from sandbox.servers.shopify import LeakyBucket
from sandbox.servers.shopify_graphql import CostBucket
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)
TARGET_S = 300.0  # the 5-minute freshness target


class BenchWorld:
    """The accessors the sandbox servers read, over `n` synthetic SKUs (precomputed once)."""

    def __init__(self, n: int) -> None:
        small = World(7, START)
        self.start = self.now = START
        self._locations = small.shopify_locations()
        self._erp = [{"item": str(100000 + i), "itemid": f"BX-{i:06d}", "location": loc,
                      "location_name": name, "quantityonhand": str(i % 90 + 5),
                      "quantityavailable": str(i % 90), "quantitycommitted": "5",
                      "averagecost": "9.5"}
                     for i in range(n) for loc, name in (("1", "East DC"),
                                                         ("2", "ShipBob Cicero"))]
        self._items = [{"id": 60000000 + i, "sku": f"BX-{i:06d}", "tracked": True}
                       for i in range(n)]
        self._levels = [{"inventory_item_id": 60000000 + i, "location_id": loc["id"],
                         "available": i % 90, "updated_at": START}
                        for loc in self._locations for i in range(n)]
        template = small.shipbob_items()[0]
        self._shipbob = [{**template, "id": 900000 + i, "name": f"BX-{i:06d}"} for i in range(n)]

    def advance_to(self, t: datetime) -> None:
        return None

    def erp_rows(self) -> list[dict[str, Any]]:
        return self._erp

    def shopify_locations(self) -> list[dict[str, Any]]:
        return self._locations

    def shopify_items(self) -> list[dict[str, Any]]:
        return self._items

    def shopify_levels(self) -> list[dict[str, Any]]:
        return self._levels

    def shipbob_items(self) -> list[dict[str, Any]]:
        return self._shipbob

    def last_activity_at(self, location: str, sku: str) -> datetime | None:
        return START


HTTP = {  # system id -> (connector, credentials, env values, options)
    "erp": ("netsuite_suiteql", {"token": "B_NS"}, {"B_NS": SANDBOX_TOKENS["erp"]},
            {"page_size": "1000"}),
    "shopify": ("shopify_rest", {"access_token": "B_SH"}, {"B_SH": SANDBOX_TOKENS["shopify"]},
                {}),
    "shopify_gql": ("shopify_graphql", {"access_token": "B_GQL"},
                    {"B_GQL": SANDBOX_TOKENS["shopify_gql"]}, {}),
    "shipbob": ("shipbob", {"token": "B_SB"}, {"B_SB": SANDBOX_TOKENS["shipbob"]}, {}),
    "amazon": ("amazon_fba", {"refresh_token": "B_AR", "client_id": "B_AC",
                              "client_secret": "B_AS"},
               {"B_AR": SANDBOX_TOKENS["amazon"], "B_AC": CLIENT_ID,
                "B_AS": SANDBOX_TOKENS["amazon"] + "-client-secret"},
               {"lwa_endpoint": "/auth/o2/token"}),
    "square": ("square", {"access_token": "B_SQ"}, {"B_SQ": SANDBOX_TOKENS["square"]}, {}),
}


def timed(system: SystemConfig) -> tuple[int, int, float]:
    return _run(build_connector(system))  # limits are off: no throttle sleeps


def measure(skus: int, env: dict[str, str]) -> list[tuple[str, int, int, float]]:
    import os

    world = BenchWorld(skus)
    results = []
    with SandboxServers(world, ManualClock(START)) as servers:  # type: ignore[arg-type]
        servers.apps["shopify"].bucket = LeakyBucket(10**9, 10**9)  # type: ignore[attr-defined]
        servers.apps["shipbob"].window = SlidingWindow(10**9)  # type: ignore[attr-defined]
        servers.apps["amazon"].bucket = TokenBucket(10**9, 10**9)  # type: ignore[attr-defined]
        servers.apps["shopify_gql"].bucket = CostBucket(1e12, 1e12)  # type: ignore[attr-defined]
        for system_id, (kind, creds, values, options) in HTTP.items():
            os.environ.update(values)
            for label, extra in ((kind, {}), (f"{kind} (bulk)", {"mode": "bulk",
                                                                "bulk_poll_seconds": "0"})):
                if extra and kind != "shopify_graphql":
                    continue
                cfg = SystemConfig(id=system_id, role="erp", connector=kind,  # type: ignore[arg-type]
                                   base_url=servers.base_urls[system_id], credentials=creds,
                                   freshness_target_minutes=5, timeout_seconds=60,
                                   options={**options, **extra})
                results.append((label, *timed(cfg)))
    with tempfile.TemporaryDirectory() as tmp:
        results += _files(Path(tmp), skus)
    return results


def _files(tmp: Path, skus: int) -> list[tuple[str, int, int, float]]:
    items = [(f"BX-{i:06d}", "bench item", [i % 50, i % 7]) for i in range(skus)]
    edi = tmp / "edi"
    edi.mkdir()
    (edi / "bench.edi").write_text(render_846(items, START, 1))
    csv_dir = tmp / "csv"
    csv_dir.mkdir()
    rows = [["Item Number", "Warehouse", "Qty On Hand", "Qty Available", "Last Updated"]]
    rows += [[f"BX-{i:06d}", f"WH{i % 10}", str(i % 90), str(i % 80), "2024-04-01T12:00:00Z"]
             for i in range(skus * 2)]
    (csv_dir / "bench.csv").write_bytes(encode(rows))
    db = write_wms_db(World(7, START), tmp / "wms.duckdb", extra_rows=skus * 2)
    out = []
    for label, kind, url, options in (
        ("edi846", "edi846", edi.as_uri(), {}),
        ("csv_drop", "csv_drop", csv_dir.as_uri(), CSV_OPTIONS),
        ("sql_wms (duckdb)", "sql_wms", f"duckdb://{db}", WMS_OPTIONS),
    ):
        cfg = SystemConfig(id="bench", role="supplier", connector=kind,  # type: ignore[arg-type]
                           base_url=url, freshness_target_minutes=5, options=options)
        out.append((label, *timed(cfg)))
    return out


FAN_OUT_OPTIONS = {"amazon": {"marketplace_ids": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2,A1AM78C64UM0Y8"}}


def measure_concurrency(skus: int, concurrency: int, latency_ms: float
                        ) -> list[tuple[str, int, float, float]]:
    """(connector, rows, rows/s at concurrency 1, rows/s at `concurrency`) on loopback with
    every request delayed `latency_ms` by the server."""
    import os

    from sandbox.servers import FaultMode

    world = BenchWorld(skus)
    out = []
    with SandboxServers(world, ManualClock(START)) as servers:  # type: ignore[arg-type]
        servers.apps["shopify"].bucket = LeakyBucket(10**9, 10**9)  # type: ignore[attr-defined]
        servers.apps["shipbob"].window = SlidingWindow(10**9)  # type: ignore[attr-defined]
        servers.apps["amazon"].bucket = TokenBucket(10**9, 10**9)  # type: ignore[attr-defined]
        for system_id, (kind, creds, values, options) in HTTP.items():
            if kind in ("shopify_graphql", "square"):
                continue  # cursor chains only (GraphQL) / one location in the sandbox (Square)
            os.environ.update(values)
            servers.set_fault(system_id, FaultMode("slow", delay_s=latency_ms / 1000))
            rates = []
            rows = 0
            for n in (1, concurrency):
                cfg = SystemConfig(id=system_id, role="erp", connector=kind,  # type: ignore[arg-type]
                                   base_url=servers.base_urls[system_id], credentials=creds,
                                   freshness_target_minutes=5, timeout_seconds=60,
                                   max_concurrency=n,
                                   options={**options, **FAN_OUT_OPTIONS.get(system_id, {})})
                rows, _, secs = timed(cfg)
                rates.append(rows / secs if secs else 0.0)
            servers.set_fault(system_id, None)
            out.append((kind, rows, rates[0], rates[1]))
    return out


def _run(connector: Any) -> tuple[int, int, float]:
    connector._sleep = lambda _s: None
    t0 = time.perf_counter()
    rows = pages = 0
    for page in connector.pages():
        rows, pages = rows + len(page.rows), pages + 1
    return rows, pages, time.perf_counter() - t0


@dataclass(frozen=True)
class Plan:
    connector: str  # also the loopback label whose measured rate applies
    full_requests: Callable[[int, int], float]
    inc_requests: Callable[[int, int], float] | None  # None: the API has no incremental
    per_second: float | None  # documented sustained requests/s (None = no vendor limit)
    basis: str
    verdict: str | None = None  # when the limit is not ours to compute

    def seconds(self, requests: float, measured_rps: float | None) -> float | None:
        if self.per_second is None:
            return None if measured_rps is None else requests / measured_rps
        return requests / self.per_second


def _gql_seconds(pages: float, restore: float = 100.0, cost: float = 752.0) -> float:
    """§1.9: each 250-level page asks 2 + 250 x 3 = 752 points; Standard restores 100/s,
    the first 1000 are in the bucket already."""
    return max(0.0, pages * cost - 1000.0) / restore


PLANS = [
    Plan("netsuite_suiteql", lambda s, lo: math.ceil(s * lo / 1000),
         None, 1.0, "§4.1: 1000 rows/page, 100k rows per query (so 10 queries, one per "
         "location); no published req/s: 1 page/s sequential [ASSUMED]; no change filter "
         "on inventoryitemlocations used"),
    Plan("shopify_rest", lambda s, lo: math.ceil(s * lo / 250) + math.ceil(s / 250) + 1,
         lambda s, lo: 2 * math.ceil(s * lo / 100 / 250) + 1, 2.0,
         "§1.2/1.5: 250/page, leaky bucket 40, 2 req/s (Standard); updated_at_min + item skus"),
    Plan("shopify_graphql (paged)", lambda s, lo: math.ceil(s * lo / 250),
         lambda s, lo: lo * math.ceil(s / 100 / 250), -1.0,
         "§1.8/1.9: 250/page costs 752 points, Standard restores 100 points/s"),
    Plan("shopify_graphql (bulk)", lambda s, lo: 3, None, None,
         "§1.10: bulk queries have no cost limit; Shopify's run time is not documented "
         "(shown: our download+parse rate only)",
         "[yellow]off-cycle full refresh: + Shopify's undocumented run time[/]"),
    Plan("amazon_fba", lambda s, lo: math.ceil(s / 50), lambda s, lo: math.ceil(s / 100 / 50),
         2.0, "§2.3: 2 req/s burst 2; 50 summaries/page [COMMUNITY]; marketplace-level "
         "(no locations); startDateTime misses inbound changes (§2.2)"),
    Plan("shipbob", lambda s, lo: math.ceil(s / 250), None, 150 / 60,
         "§3.2/3.4: 250 items/page (FCs nested), 150 req/min sliding window; v1.0 has no "
         "change filter"),
    Plan("square", lambda s, lo: math.ceil(s * lo * 2 / 1000),
         lambda s, lo: math.ceil(s * lo * 2 / 100 / 1000), 10.0,
         "§5: 1000 counts/page, 2 states per key; limit undisclosed: 10 req/s [ASSUMED]"),
    Plan("edi846", lambda s, lo: 1, None, None, "file: no vendor limit; freshness is the "
         "partner's send schedule (daily is common)"),
    Plan("csv_drop", lambda s, lo: 1, None, None, "file: no vendor limit; partner schedule"),
    Plan("sql_wms (duckdb)", lambda s, lo: 1, lambda s, lo: 1, None,
         "database: keyset pages; incremental on an indexed updated_at"),
]


def computed(skus: int, locations: int, measured: dict[str, float]) -> Table:
    table = Table(title=f"{skus:,} SKUs x {locations} locations, 1% changed per cycle, "
                  f"target {TARGET_S / 60:.0f} min (computed)")
    for col in ("connector", "full: requests", "full refresh", "incremental (1%)",
                "5-min mode", "basis"):
        table.add_column(col, justify="right" if col[0] in "fi" else "left")
    keys = skus * locations
    for n, plan in enumerate(PLANS, 1):
        rps = measured.get(plan.connector.replace(" (paged)", ""))
        full_req = plan.full_requests(skus, locations)
        if plan.per_second == -1.0:
            full_s: float | None = _gql_seconds(full_req)
            inc_s = _gql_seconds(plan.inc_requests(skus, locations)) if plan.inc_requests \
                else None
        elif plan.per_second is None:
            full_s = keys / rps if rps else None
            inc_s = keys / 100 / rps if rps and plan.inc_requests else None
        else:
            full_s = plan.seconds(full_req, None)
            inc_s = plan.seconds(plan.inc_requests(skus, locations), None) \
                if plan.inc_requests else None
        requests = f"{full_req:,.0f}" if plan.per_second is not None else "-"
        table.add_row(plan.connector, requests, _fmt(full_s), _fmt(inc_s),
                      plan.verdict or _verdict(full_s, inc_s, plan.per_second is None),
                      f"[{n}]")
    return table


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


def _verdict(full: float | None, inc: float | None, unlimited: bool) -> str:
    if full is not None and full <= TARGET_S:
        return "[green]full refresh every cycle[/]" + (" (if delivered)" if unlimited else "")
    if inc is not None and inc <= TARGET_S:
        return "[yellow]incremental; full refresh off-cycle[/]"
    if full is None and inc is None:
        return "bound by the vendor's run time"
    return "[red]cannot keep 5 min[/]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=3000, help="synthetic SKUs on loopback")
    parser.add_argument("--target-skus", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4,
                        help="max_concurrency compared with 1 (part 1b)")
    parser.add_argument("--latency-ms", type=float, default=50.0,
                        help="simulated round trip per request in part 1b")
    args = parser.parse_args(argv)
    console = Console(width=150)
    results = measure(args.skus, {})
    table = Table(title=f"Loopback throughput ({args.skus:,} synthetic SKUs, vendor limits "
                  "off, landing excluded)")
    for col in ("connector", "rows", "pages", "seconds", "rows/s"):
        table.add_column(col, justify="right" if col != "connector" else "left")
    measured: dict[str, float] = {}
    for label, rows, pages, secs in results:
        measured[label] = rows / secs if secs else 0.0
        table.add_row(label, f"{rows:,}", f"{pages:,}", f"{secs:.2f}", f"{measured[label]:,.0f}")
    console.print(table)
    conc = Table(title=f"Concurrency: rows/s at max_concurrency 1 vs {args.concurrency}, "
                 f"{args.latency_ms:g} ms per request ({args.skus:,} SKUs, loopback)")
    for col in ("connector", "rows", "rows/s @1", f"rows/s @{args.concurrency}", "speed-up"):
        conc.add_column(col, justify="right" if col != "connector" else "left")
    for kind, rows, one, many in measure_concurrency(args.skus, args.concurrency,
                                                     args.latency_ms):
        conc.add_row(kind, f"{rows:,}", f"{one:,.0f}", f"{many:,.0f}",
                     f"{many / one:.1f}x" if one else "-")
    console.print(conc)
    console.print(computed(args.target_skus, args.locations, measured))
    for n, plan in enumerate(PLANS, 1):
        console.print(f"[{n}] {plan.connector}: {plan.basis}", highlight=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
