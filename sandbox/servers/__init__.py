"""Vendor-shaped fake servers over the sandbox world: shared request plumbing and fault modes.

Each vendor module subclasses `VendorApp` (pure request -> response, easy to test) and
`make_handler` adapts it to `http.server`. Vendor facts cite
`../shared/reference/vendor_api_facts.md` by section.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from sandbox.world import World
from stockdrift.clock import Clock

SANDBOX_TOKENS: dict[str, str] = {
    "erp": "sandbox-netsuite-token",
    "shopify": "shpat_sandbox_token",
    "shipbob": "sandbox-shipbob-pat",
}

FaultKind = Literal[
    "status_500", "status_429", "expired_token", "malformed_body", "slow", "renamed_field",
    "truncated_page",
]
ERROR_KINDS = ("status_500", "status_429", "expired_token")


@dataclass(frozen=True)
class FaultMode:
    """A misbehaviour switched on for a server (tests of extractors).

    kind: status_500 / status_429 / expired_token answer with the vendor's error response;
      malformed_body cuts the JSON body in half (status 200); slow sleeps `delay_s` first;
      renamed_field renames one row field (`rename` = (old, new), else a vendor default);
      truncated_page drops the second half of a page's rows while the paging metadata
      (counts, next links) still describes the full page.
    skip: requests served normally before the fault starts (e.g. fail on page 2).
    count: how many requests the fault affects; None = every request from then on.
    """

    kind: FaultKind
    count: int | None = None
    skip: int = 0
    delay_s: float = 2.0
    rename: tuple[str, str] | None = None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes = b""

    @property
    def host(self) -> str:
        return str(self.headers.get("Host") or "127.0.0.1")

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return None if value is None else str(value)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None,
                  content_type: str = "application/json; charset=utf-8") -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, [("Content-Type", content_type), *(headers or [])])


def cut_rows(rows: list[Any], fault: FaultMode | None) -> list[Any]:
    """truncated_page: keep only the first half of a page's rows."""
    if fault is not None and fault.kind == "truncated_page" and len(rows) > 1:
        return rows[: len(rows) // 2]
    return rows


def rename_field(rows: list[dict[str, Any]], fault: FaultMode | None,
                 default: tuple[str, str]) -> list[dict[str, Any]]:
    if fault is None or fault.kind != "renamed_field":
        return rows
    old, new = fault.rename or default
    return [{(new if k == old else k): v for k, v in row.items()} for row in rows]


class VendorApp:
    """One vendor's API over the world. Subclasses implement `handle` and `fault_error`."""

    system_id = ""

    def __init__(self, world: World, clock: Clock, token: str) -> None:
        self.world = world
        self.clock = clock
        self.token = token
        self.requests_served = 0
        self._lock = threading.Lock()
        self._fault: FaultMode | None = None
        self._skip_left = 0
        self._count_left: int | None = None

    def set_fault(self, fault: FaultMode | None) -> None:
        with self._lock:
            self._fault = fault
            self._skip_left = fault.skip if fault else 0
            self._count_left = fault.count if fault else None

    def _take_fault(self) -> FaultMode | None:
        with self._lock:
            fault = self._fault
            if fault is None:
                return None
            if self._skip_left > 0:
                self._skip_left -= 1
                return None
            if self._count_left is not None:
                if self._count_left <= 0:
                    return None
                self._count_left -= 1
            return fault

    def serve(self, req: Request) -> Response:
        with self._lock:
            self.requests_served += 1
        self.world.advance_to(self.clock.now())     # the world catches up with the clock first
        fault = self._take_fault()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_s)
        if fault is not None and fault.kind in ERROR_KINDS:
            resp = self.fault_error(fault, req)
        else:
            resp = self.handle(req, fault)
        if fault is not None and fault.kind == "malformed_body" and resp.status == 200:
            resp.body = resp.body[: max(1, len(resp.body) // 2)]
        return self.decorate(req, resp)

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        raise NotImplementedError

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        raise NotImplementedError

    def decorate(self, req: Request, resp: Response) -> Response:
        """Headers every response of this vendor carries."""
        return resp


def make_handler(app: VendorApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"    # keep-alive, like the real APIs
        # Headers and body leave in one segment; otherwise Nagle + delayed ACK add ~40 ms.
        disable_nagle_algorithm = True
        wbufsize = -1

        def _run(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            req = Request(self.command, parts.path,
                          parse_qs(parts.query, keep_blank_values=True), self.headers, body)
            try:
                resp = app.serve(req)
            except Exception:  # a sandbox bug must not look like a vendor answer
                traceback.print_exc(file=sys.stderr)
                resp = Response(500, b'{"sandbox_error":"unhandled exception"}',
                                [("Content-Type", "application/json")])
            self.send_response(resp.status)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _run

        def log_message(self, format: str, *args: Any) -> None:
            return  # silence per-request logging

    return Handler
