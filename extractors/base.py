"""The connector contract: a connector yields pages; landing stores them atomically.

A `Page` pairs the rows parsed from one HTTP exchange with the exchange itself, so every
vendor response is kept (gzip, in `raw.payloads`) next to the rows it produced and a
snapshot can be re-landed without calling the vendor again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from extractors.errors import redact, redact_bytes
from stockdrift.config import SystemConfig

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
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.system = system
        self.system_id = system.id
        self._client = client
        self._sleep = sleep
        requested = int(system.options.get("page_size", self.page_limit))
        self.limit = max(1, min(requested, self.page_limit))
        self._secrets: tuple[str, ...] = ()
