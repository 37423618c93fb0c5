"""Run the sandbox vendor APIs on loopback: one ThreadingHTTPServer per system.

    with SandboxServers(world, clock) as servers:
        servers.base_urls["shopify"]   # http://127.0.0.1:<port>

Standalone (`make dev`): `python -m sandbox.serve --ports 18701,18702,18703 --speed 60`
(`--feeds out/feeds` also writes the WMS, supplier 846 and partner CSV feeds as time passes).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from sandbox.feeds import WMS_FILE, feed_urls, write_feeds
from sandbox.scenario import Scenario
from sandbox.servers import SANDBOX_TOKENS, FaultMode, VendorApp, make_handler
from sandbox.servers.amazon import CLIENT_ID as AMAZON_CLIENT_ID
from sandbox.servers.amazon import AmazonApp
from sandbox.servers.netsuite import NetSuiteApp
from sandbox.servers.shipbob import ShipBobApp
from sandbox.servers.shopify import ShopifyApp
from sandbox.servers.shopify_graphql import ShopifyGraphqlApp
from sandbox.servers.square import SquareApp
from sandbox.world import World
from stockdrift.clock import Clock, OffsetClock, parse_utc

__all__ = ["SANDBOX_TOKENS", "TOKEN_ENV", "FaultMode", "SandboxServers", "sandbox_env"]

SYSTEMS: dict[str, type[VendorApp]] = {"erp": NetSuiteApp, "shopify": ShopifyApp,
                                       "shipbob": ShipBobApp}
# issue 3: more vendors (their sandbox secrets join SANDBOX_TOKENS; Amazon's is the LWA
# refresh token, its client secret is f"{token}-client-secret").
SYSTEMS.update({"amazon": AmazonApp, "square": SquareApp, "shopify_gql": ShopifyGraphqlApp})
SANDBOX_TOKENS.update({"amazon": "Atzr|sandbox-refresh-token", "square": "EAAAsandbox-square",
                       "shopify_gql": "shpat_sandbox_graphql"})

# The environment variables stockdrift.example.yml names in `credentials`, per HTTP system
# (the file feeds need none). The demo and the detection benchmark export `sandbox_env()`.
TOKEN_ENV: dict[str, str] = {
    "erp": "NETSUITE_TOKEN", "shopify": "SHOPIFY_ACCESS_TOKEN", "shipbob": "SHIPBOB_TOKEN",
    "amazon": "AMAZON_LWA_REFRESH_TOKEN", "square": "SQUARE_ACCESS_TOKEN",
    "shopify_gql": "SHOPIFY_GQL_ACCESS_TOKEN",
}
# Amazon's LWA grant also needs the app's client id and secret (vendor_api_facts.md §2.1).
EXTRA_ENV: dict[str, dict[str, str]] = {
    "amazon": {"AMAZON_LWA_CLIENT_ID": AMAZON_CLIENT_ID,
               "AMAZON_LWA_CLIENT_SECRET": SANDBOX_TOKENS["amazon"] + "-client-secret"},
}


def sandbox_env(systems: Iterable[str] | None = None) -> dict[str, str]:
    """Environment variable -> sandbox secret for `systems` (default: every HTTP system)."""
    env: dict[str, str] = {}
    for system_id in systems if systems is not None else TOKEN_ENV:
        if system_id in TOKEN_ENV:
            env[TOKEN_ENV[system_id]] = SANDBOX_TOKENS[system_id]
            env.update(EXTRA_ENV.get(system_id, {}))
    return env


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class SandboxServers:
    """Context manager serving every vendor API over one world; port 0 = a free port."""

    def __init__(self, world: World, clock: Clock, tokens: dict[str, str] = SANDBOX_TOKENS,
                 ports: dict[str, int] | None = None, host: str = "127.0.0.1") -> None:
        tokens = {**SANDBOX_TOKENS, **tokens}
        self.world, self.clock, self.host = world, clock, host
        self.apps: dict[str, VendorApp] = {
            system_id: cls(world, clock, tokens[system_id]) for system_id, cls in SYSTEMS.items()
        }
        self._ports = {system_id: (ports or {}).get(system_id, 0) for system_id in SYSTEMS}
        self._servers: dict[str, _Server] = {}
        self._threads: list[threading.Thread] = []
        self.base_urls: dict[str, str] = {}

    def start(self) -> SandboxServers:
        for system_id, app in self.apps.items():
            server = _Server((self.host, self._ports[system_id]), make_handler(app))
            self._servers[system_id] = server
            self.base_urls[system_id] = f"http://{self.host}:{server.server_address[1]}"
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"sandbox-{system_id}", daemon=True)
            thread.start()
            self._threads.append(thread)
        # one SP-API host serves FBA summaries and merchant-fulfilled listings
        self.base_urls["amazon_mfn"] = self.base_urls["amazon"]
        return self

    def rate_limits_on_world_time(self) -> None:
        """Vendor rate limits refill on real time. A run that compresses 5-minute cycles into
        about a second of wall time (the benchmark) would keep every bucket full and sleep
        on it, so refill them on the world's clock instead, plus wall time within a cycle
        (while the world's clock stands still)."""
        clock = self.clock

        def world_seconds() -> float:
            return clock.now().timestamp() + time.monotonic()

        for app in self.apps.values():
            for limiter in list(vars(app).values()):
                if callable(getattr(limiter, "_now", None)):   # a bucket's time source
                    limiter._now = world_seconds
                    reset = getattr(limiter, "_at", None)
                    if isinstance(reset, float):
                        limiter._at = world_seconds()

    def stop(self) -> None:
        stoppers = [threading.Thread(target=s.shutdown) for s in self._servers.values()]
        for stopper in stoppers:       # in parallel: each waits up to one poll interval
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=5)
        for server in self._servers.values():
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> SandboxServers:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def set_fault(self, system_id: str, fault: FaultMode | None) -> None:
        self.apps[system_id].set_fault(fault)

    @property
    def requests_served(self) -> dict[str, int]:
        return {system_id: app.requests_served for system_id, app in self.apps.items()}


def _write_due_feeds(world: World, clock: Clock, folder: Path) -> None:
    before = world.now
    world.advance_to(clock.now())
    if world.now != before or not (folder / WMS_FILE).exists():
        write_feeds(world, folder, world.now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the sandbox vendor APIs on loopback.")
    parser.add_argument("--ports", default="18701,18702,18703,18704,18705,18706",
                        help="ports in SYSTEMS order: erp,shopify,shipbob,amazon,square,"
                             "shopify_gql (0 = any free port)")
    parser.add_argument("--speed", type=float, default=60.0,
                        help="simulated seconds per wall second")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default=None,
                        help="simulated start (ISO-8601, UTC); default: now, whole minute")
    parser.add_argument("--clean", action="store_true", help="no injected faults")
    parser.add_argument("--feeds", default=None,
                        help="folder for the file feeds (WMS db, supplier 846, partner CSV), "
                             "written as simulated time passes (sandbox/feeds.py)")
    args = parser.parse_args(argv)
    ports = [int(p) for p in args.ports.split(",")]
    if not 1 <= len(ports) <= len(SYSTEMS):
        parser.error(f"--ports takes up to {len(SYSTEMS)} comma-separated ports")
    ports += [0] * (len(SYSTEMS) - len(ports))  # systems not given a port get a free one
    start = (parse_utc(args.start) if args.start
             else datetime.now(UTC).replace(second=0, microsecond=0))
    world = World(args.seed, start, Scenario.clean() if args.clean else None)
    clock = OffsetClock(start, speed=args.speed)
    servers = SandboxServers(world, clock, ports=dict(zip(SYSTEMS, ports, strict=True)))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with servers:
        for system_id, url in servers.base_urls.items():
            print(f"{system_id:8} {url}  token={SANDBOX_TOKENS[system_id]}", flush=True)
        print(f"simulated start {start.isoformat()} speed x{args.speed:g}; Ctrl-C stops",
              flush=True)
        if args.feeds:
            for system_id, url in feed_urls(Path(args.feeds)).items():
                print(f"{system_id:8} {url}", flush=True)
        try:
            while not stop.wait(0.5):
                if args.feeds:
                    _write_due_feeds(world, clock, Path(args.feeds))
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
