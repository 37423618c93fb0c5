"""The connector contract: a connector yields pages; landing stores them atomically.

A `Page` pairs the rows parsed from one HTTP exchange with the exchange itself, so every
vendor response is kept (gzip, in `raw.payloads`) next to the rows it produced and a
snapshot can be re-landed without calling the vendor again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from extractors.errors import redact, redact_bytes
from stockdrift.config import SystemConfig

REQUEST_DIGEST = "x-stockdrift-request-sha256"  # ours, not the vendor's (extractors/replay.py)
# Response headers that carry session secrets; never stored.
_DROP_HEADERS = frozenset({"set-cookie", "authorization", "x-shopify-access-token"})


@dataclass(frozen=True)
class Exchange:
    """One HTTP request/response as stored: response headers only, never request headers
    (that is where the credentials are)."""

    method: str
    url: str
    status_code: int
    headers: dict[str, str]
    body: bytes
    attempts: int = 1  # HTTP attempts it took (retries included)

    @classmethod
    def from_response(
        cls, response: httpx.Response, *, attempts: int = 1, secrets: Iterable[str] = ()
    ) -> Exchange:
        secrets = tuple(secrets)
        headers = {
            k.lower(): redact(v, secrets)
            for k, v in response.headers.items()
            if k.lower() not in _DROP_HEADERS
        }
        sent = response.request.content if response.request.method != "GET" else b""
        if sent:
            # Which request body got this answer (a digest: bodies may hold secrets), so a
            # replay can match POSTs to one URL (Square, GraphQL) without the vendor.
            headers[REQUEST_DIGEST] = hashlib.sha256(sent).hexdigest()
        return cls(
            method=response.request.method,
            url=redact(str(response.request.url), secrets),
            status_code=response.status_code,
            headers=headers,
            body=redact_bytes(response.content, secrets),
            attempts=attempts,
        )


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    exchange: Exchange
    label: str | None = field(default=None, compare=False)  # e.g. "3", "offset=2000"


# One independent piece of an extraction for the async engine (extractors/fanout.py).
Unit = Callable[[httpx.AsyncClient], Awaitable[list["Page"]]]


@runtime_checkable
class Connector(Protocol):
    system_id: str
    raw_table: str
    columns: tuple[str, ...]  # raw table columns minus snapshot_id, in DDL order

    def pages(self) -> Iterator[Page]:
        """Yield every page of one full extraction; raise ExtractionError on failure."""
        ...

    def source_as_of(self) -> datetime | None:
        """The vendor's own "as of" (valid once pages() is exhausted), or None."""
        ...


class HttpConnector:
    """State every HTTP connector shares: its system, an injected client (tests, pooling) or
    one made per extraction, an injectable sleep (throttle waits in tests cost nothing), the
    page size clamped to the vendor's maximum, and the secrets to redact once known."""

    page_limit: int = 250

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None, *,
                 sleep: Callable[[float], None] = time.sleep,
                 async_client: httpx.AsyncClient | None = None) -> None:
        self.system = system
        self.system_id = system.id
        self._client = client
        self._async_client = async_client  # the concurrent path's client (tests inject one)
        self._sleep = sleep
        requested = int(system.options.get("page_size", self.page_limit))
        self.limit = max(1, min(requested, self.page_limit))
        self._secrets: tuple[str, ...] = ()
        self.max_concurrency = system.max_concurrency

    def _fan_out(self, units: Sequence[Unit]) -> Iterator[Page]:
        """Run independent request units through the async engine (extractors/fanout.py),
        at most `max_concurrency` at once; pages come back in unit order."""
        from extractors.fanout import fan_out
        from extractors.http import make_async_client

        injected = self._async_client

        def client() -> httpx.AsyncClient:
            return injected or make_async_client(self.system.base_url,
                                                 self.system.timeout_seconds)

        for pages in fan_out(units, client=client, max_concurrency=self.max_concurrency,
                             close_client=injected is None):
            yield from pages
