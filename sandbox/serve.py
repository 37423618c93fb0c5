"""Run the sandbox vendor APIs on loopback: one ThreadingHTTPServer per system.

    with SandboxServers(world, clock) as servers:
        servers.base_urls["shopify"]   # http://127.0.0.1:<port>

`stockdrift dev` (`make dev`) and the standalone `python -m sandbox.serve --speed 60` both
serve through `start_sandbox(DEV_PORTS, feeds)`: it raises `SandboxStartError` unless every
port listens and answers HTTP (`--feeds out/feeds` also writes the WMS, supplier 846 and
partner CSV feeds as simulated time passes).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx

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

__all__ = ["DEV_PORTS", "SANDBOX_TOKENS", "TOKEN_ENV", "FaultMode", "RunningSandbox",
           "SandboxServers", "SandboxStartError", "dev_ports", "sandbox_env", "start_sandbox"]

SYSTEMS: dict[str, type[VendorApp]] = {"erp": NetSuiteApp, "shopify": ShopifyApp,
                                       "shipbob": ShipBobApp}
# issue 3: more vendors (their sandbox secrets join SANDBOX_TOKENS; Amazon's is the LWA
# refresh token, its client secret is f"{token}-client-secret").
SYSTEMS.update({"amazon": AmazonApp, "square": SquareApp, "shopify_gql": ShopifyGraphqlApp})
SANDBOX_TOKENS.update({"amazon": "Atzr|sandbox-refresh-token", "square": "EAAAsandbox-square",
                       "shopify_gql": "shpat_sandbox_graphql"})

# Config system ids answered by another system's server (one SP-API host serves FBA summaries
# and merchant-fulfilled listings).
SERVED_BY: dict[str, str] = {"amazon_mfn": "amazon"}
# The fixed ports of `make dev`, the base URLs stockdrift.example.yml names.
DEV_PORTS: dict[str, int] = {"erp": 18701, "shopify": 18702, "shipbob": 18703, "amazon": 18704,
                             "square": 18705, "shopify_gql": 18706}

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


class SandboxStartError(RuntimeError):
    """A sandbox server could not listen on its port or did not answer HTTP."""


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
        """Listen on every port or on none: a port that cannot be bound stops the servers
        already started and raises `SandboxStartError` naming the system and port."""
        for system_id, app in self.apps.items():
            port = self._ports[system_id]
            try:
                server = _Server((self.host, port), make_handler(app))
            except OSError as exc:
                self.stop()
                raise SandboxStartError(f"sandbox {system_id} cannot listen on "
                                        f"{self.host}:{port}: {exc.strerror or exc}") from exc
            self._servers[system_id] = server
            self.base_urls[system_id] = f"http://{self.host}:{server.server_address[1]}"
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      name=f"sandbox-{system_id}", daemon=True)
            thread.start()
            self._threads.append(thread)
        for system_id, server_id in SERVED_BY.items():
            self.base_urls[system_id] = self.base_urls[server_id]
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


def dev_ports(base_urls: Mapping[str, str]) -> dict[str, int]:
    """Port per sandbox server: `DEV_PORTS`, overridden by the loopback HTTP base URLs a
    config names (a system another server answers must name that server's port)."""
    ports = dict(DEV_PORTS)
    for system_id, url in base_urls.items():
        parts = urlsplit(url)
        server_id = SERVED_BY.get(system_id, system_id)
        if parts.scheme != "http" or server_id not in SYSTEMS or parts.port is None:
            continue
        if system_id in SERVED_BY and base_urls.get(server_id, url) != url:
            raise SandboxStartError(f"{system_id} is served by the {server_id} server: its "
                                    f"base_url {url} must be {server_id}'s "
                                    f"{base_urls[server_id]}")
        ports[server_id] = parts.port
    return ports


def _unanswered(base_urls: Mapping[str, str], timeout: float) -> dict[str, str]:
    """System id -> why its server gave no HTTP answer (any status is an answer)."""
    failed: dict[str, str] = {}
    with httpx.Client(timeout=timeout) as http:
        for system_id, url in base_urls.items():
            try:
                http.get(f"{url}/")
            except httpx.HTTPError as exc:
                failed[system_id] = f"{url}: {exc}"
    return failed


class RunningSandbox:
    """The servers of `start_sandbox` and, given a folder, a thread writing the file feeds
    as simulated time passes. Stop it (or leave its `with` block) to free the ports."""

    def __init__(self, servers: SandboxServers, world: World, clock: Clock,
                 feeds: Path | None) -> None:
        self.servers, self.world, self.clock, self.feeds = servers, world, clock, feeds
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    @property
    def base_urls(self) -> dict[str, str]:
        return self.servers.base_urls

    def start_feeds(self, interval: float = 0.5) -> None:
        if self.feeds is None:
            return
        _write_due_feeds(self.world, self.clock, self.feeds)  # a broken feed fails the start
        self._writer = threading.Thread(target=self._write_feeds, args=(interval,),
                                        name="sandbox-feeds", daemon=True)
        self._writer.start()

    def _write_feeds(self, interval: float) -> None:
        assert self.feeds is not None
        while not self._stop.wait(interval):
            try:
                _write_due_feeds(self.world, self.clock, self.feeds)
            except Exception as exc:  # keep serving; say so on stderr
                print(f"sandbox feeds: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def describe(self) -> list[str]:
        """One line per system: its base URL and the sandbox secret it takes."""
        lines = [f"{system_id:11} {url}  "
                 f"token={SANDBOX_TOKENS[SERVED_BY.get(system_id, system_id)]}"
                 for system_id, url in self.base_urls.items()]
        if self.feeds is not None:
            lines += [f"{system_id:11} {url}" for system_id, url in feed_urls(self.feeds).items()]
        return lines

    def stop(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=5)
        self.servers.stop()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_sandbox(ports: Mapping[str, int], feeds: Path | None = None, *, speed: float = 60.0,
                  seed: int = 7, start: datetime | None = None, clean: bool = False,
                  host: str = "127.0.0.1", answer_timeout: float = 5.0) -> RunningSandbox:
    """Every sandbox server listening on its port (0 = a free one) and answering HTTP, and
    the file feeds written once; else `SandboxStartError`, with nothing left running.
    `start` is the simulated start (default: now, whole minute); the world runs `speed`
    simulated seconds per wall second from there."""
    begin = start or datetime.now(UTC).replace(second=0, microsecond=0)
    world = World(seed, begin, Scenario.clean() if clean else None)
    clock = OffsetClock(begin, speed=speed)
    servers = SandboxServers(world, clock, ports=dict(ports), host=host).start()
    running = RunningSandbox(servers, world, clock, feeds)
    try:
        silent = _unanswered({s: servers.base_urls[s] for s in servers.apps}, answer_timeout)
        if silent:
            raise SandboxStartError("sandbox servers do not answer HTTP: "
                                    + "; ".join(f"{s} {why}" for s, why in silent.items()))
        try:
            running.start_feeds()
        except Exception as exc:
            raise SandboxStartError(f"sandbox feeds in {feeds} not written: "
                                    f"{type(exc).__name__}: {exc}") from exc
    except BaseException:
        running.stop()
        raise
    return running


def _write_due_feeds(world: World, clock: Clock, folder: Path) -> None:
    before = world.now
    world.advance_to(clock.now())
    if world.now != before or not (folder / WMS_FILE).exists():
        write_feeds(world, folder, world.now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the sandbox vendor APIs on loopback.")
    parser.add_argument("--ports", default=",".join(str(p) for p in DEV_PORTS.values()),
                        help="ports in SYSTEMS order: " + ",".join(SYSTEMS)
                             + " (0 = any free port)")
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
    try:
        sandbox = start_sandbox(dict(zip(SYSTEMS, ports, strict=True)),
                                Path(args.feeds) if args.feeds else None, speed=args.speed,
                                seed=args.seed, clean=args.clean,
                                start=parse_utc(args.start) if args.start else None)
    except SandboxStartError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sandbox:
        for line in sandbox.describe():
            print(line, flush=True)
        print(f"simulated start {sandbox.world.start.isoformat()} speed x{args.speed:g}; "
              "Ctrl-C stops", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
