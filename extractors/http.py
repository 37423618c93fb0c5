"""Shared HTTP plumbing: one client factory, bounded jittered retries, vendor error parsing.

Retries (stamina): timeouts, transport errors, 5xx and 429. Other 4xx are answers, not
accidents, and fail at once. When the vendor says how long to wait (Retry-After, ShipBob's
x-retry-after) we wait exactly that (capped) instead of our own backoff.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import stamina

from extractors.base import Exchange
from extractors.errors import ExtractionError, Kind, redact

USER_AGENT = "stockdrift/0.1 (read-only inventory monitor)"
MAX_THROTTLE_WAIT = 30.0  # seconds; a vendor asking for longer fails this cycle, not the next
REQUEST_ID_HEADERS = ("x-request-id", "x-shopify-request-id", "x-amzn-requestid")
_ATTEMPTS_KEY = "stockdrift.attempts"

Sleep = Callable[[float], None]


def make_client(
    base_url: str, timeout: float, headers: dict[str, str] | None = None
) -> httpx.Client:
    """Redirects are not followed: a redirect could carry vendor auth headers to another host."""
    return httpx.Client(**_client_options(base_url, timeout, headers))


def _client_options(base_url: str, timeout: float,
                    headers: dict[str, str] | None) -> dict[str, Any]:
    """What the sync and the async client share: TLS, timeout, headers, no redirects."""
    return {"base_url": base_url, "verify": _tls(), "timeout": httpx.Timeout(timeout),
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json",
                        **(headers or {})},
            "follow_redirects": False}


def same_origin(base_url: str | httpx.URL, link: str) -> httpx.URL:
    """Resolve a server-supplied next-page link against our configured host.

    Path and query are kept byte for byte (Shopify's page_info must be used exactly as given,
    vendor_api_facts.md §1.4); scheme/host/port always come from config so credentials are
    only ever sent to the host the operator configured.
    """
    base = httpx.URL(str(base_url))
    target = httpx.URL(link)
    raw_path = target.raw_path if target.raw_path.startswith(b"/") else b"/" + target.raw_path
    return base.copy_with(raw_path=raw_path, fragment=None)


def attempts_of(response: httpx.Response) -> int:
    return int(response.extensions.get(_ATTEMPTS_KEY, 1))


def parse_vendor_error(body: bytes) -> tuple[str | None, str | None]:
    """(vendor_code, message) from any of the vendors' documented error bodies."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        text = " ".join(body.decode("utf-8", "replace").split())
        return None, (text[:200] or None)
    if isinstance(data, dict):
        # NetSuite: {"title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]} §4.1
        details = data.get("o:errorDetails")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            first = details[0]
            return _str_or_none(first.get("o:errorCode")), _str_or_none(
                first.get("detail") or data.get("title")
            )
        # Shopify: {"errors": "..." | {"field": ["..."]} | ["..."]} §1.6
        if "errors" in data:
            return None, _flatten(data["errors"])
        # ShipBob: {"statusCode": 429, "message": "..."} §3.4
        if "message" in data:
            return _str_or_none(data.get("code")), _str_or_none(data["message"])
        if "title" in data:
            return None, _str_or_none(data["title"])
    return None, _flatten(data)[:200] or None


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _flatten(errors: object) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in errors.items())
    if isinstance(errors, list):
        return "; ".join(_flatten(v) for v in errors)
    return str(errors)


def _retry_after(response: httpx.Response, header: str) -> float | None:
    value = response.headers.get(header)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date form; fall back to our own backoff
    return max(0.0, min(seconds, MAX_THROTTLE_WAIT))


class _Retryable(Exception):
    """A response worth another attempt (5xx, 429); carries the vendor's requested wait."""

    def __init__(self, response: httpx.Response, wait: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.wait = wait


def _should_retry(exc: Exception) -> bool | float:
    if isinstance(exc, _Retryable):
        # The vendor's wait is slept explicitly (injectable); add no backoff on top.
        return 0.0 if exc.wait is not None else True
    return isinstance(exc, httpx.TransportError)  # includes every httpx.TimeoutException


def error_from_response(
    response: httpx.Response,
    *,
    system_id: str,
    page: int | str | None,
    attempts: int,
    secrets: Iterable[str] = (),
) -> ExtractionError:
    secrets = tuple(secrets)
    code, message = parse_vendor_error(response.content)
    status = response.status_code
    kind: Kind = (
        "auth" if status in (401, 403) else "rate_limited" if status == 429 else "http_status"
    )
    request_id = next(
        (response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None
    )
    return ExtractionError(
        system_id,
        kind,
        method=response.request.method,
        url=redact(_path(response.request.url), secrets),
        status_code=status,
        vendor_code=code,
        vendor_message=redact(message, secrets) if message else None,
        request_id=request_id,
        page=page,
        attempts=attempts,
        exchange=Exchange.from_response(response, attempts=attempts, secrets=secrets),
    )


def _path(url: httpx.URL) -> str:
    return url.raw_path.decode("ascii", "replace")


def request_with_retries(
    client: httpx.Client,
    method: str,
    url: str | httpx.URL,
    *,
    system_id: str,
    page: int | str | None,
    retry_after_header: str = "Retry-After",
    max_attempts: int = 5,
    sleep: Sleep = time.sleep,
    secrets: Iterable[str] = (),
    **kwargs: Any,
) -> httpx.Response:
    """Send one request with bounded retries; return a 2xx response or raise ExtractionError.

    The number of attempts used is available as `attempts_of(response)`.
    """
    secrets = tuple(secrets)
    attempts = 0
    pending_wait: float | None = None
    try:
        for attempt in stamina.retry_context(
            on=_should_retry, attempts=max_attempts, timeout=None, wait_max=10.0
        ):
            with attempt:
                if pending_wait:
                    sleep(pending_wait)  # the vendor's throttle wait, before the next attempt
                pending_wait = None
                attempts += 1
                response = client.request(method, url, **kwargs)
                if response.status_code == 429 or response.status_code >= 500:
                    pending_wait = _retry_after(response, retry_after_header)
                    raise _Retryable(response, pending_wait)
    except _Retryable as exc:
        raise error_from_response(
            exc.response, system_id=system_id, page=page, attempts=attempts, secrets=secrets
        ) from None
    except httpx.TransportError as exc:
        kind: Kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
        target = client.build_request(method, url).url
        raise ExtractionError(
            system_id,
            kind,
            method=method,
            url=redact(_path(target), secrets),
            page=page,
            attempts=attempts,
            detail=redact(f"{type(exc).__name__}: {exc}".rstrip(": "), secrets),
        ) from None
    if not response.is_success:
        raise error_from_response(
            response, system_id=system_id, page=page, attempts=attempts, secrets=secrets
        )
    response.extensions[_ATTEMPTS_KEY] = attempts
    return response


def parse_json(
    response: httpx.Response,
    *,
    system_id: str,
    page: int | str | None,
    secrets: Iterable[str] = (),
) -> Any:
    """Decode a 2xx body; a body that is not JSON is a malformed page, not an empty one."""
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise malformed(
            response, system_id=system_id, page=page, detail=f"body is not JSON ({exc})",
            secrets=secrets,
        ) from None


def malformed(
    response: httpx.Response,
    *,
    system_id: str,
    page: int | str | None,
    detail: str,
    kind: Kind = "malformed",
    secrets: Iterable[str] = (),
) -> ExtractionError:
    secrets = tuple(secrets)
    attempts = attempts_of(response)
    return ExtractionError(
        system_id,
        kind,
        method=response.request.method,
        url=redact(_path(response.request.url), secrets),
        status_code=response.status_code,
        page=page,
        attempts=attempts,
        detail=redact(detail, secrets),
        exchange=Exchange.from_response(response, attempts=attempts, secrets=secrets),
    )


DEFAULT_THROTTLE_PAUSE = 1.0  # seconds every worker waits after a 429 that names no wait


async def arequest_with_retries(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
    *,
    system_id: str,
    page: int | str | None,
    throttle: Throttle,
    retry_after_header: str = "Retry-After",
    max_attempts: int = 5,
    secrets: Iterable[str] = (),
    **kwargs: Any,
) -> httpx.Response:
    """`request_with_retries` for the concurrent path (extractors/fanout.py): the same
    retry policy and errors, but a vendor's wait is put on the shared `throttle`, so one
    worker's 429 slows every worker of the extraction instead of only itself."""
    secrets = tuple(secrets)
    attempts = 0
    try:
        async for attempt in stamina.retry_context(
            on=_should_retry, attempts=max_attempts, timeout=None, wait_max=10.0
        ):
            with attempt:
                await throttle.wait()
                attempts += 1
                response = await client.request(method, url, **kwargs)
                if response.status_code == 429 or response.status_code >= 500:
                    wait = _retry_after(response, retry_after_header)
                    if wait or response.status_code == 429:
                        throttle.pause(wait or DEFAULT_THROTTLE_PAUSE)
                    raise _Retryable(response, wait)
    except _Retryable as exc:
        raise error_from_response(
            exc.response, system_id=system_id, page=page, attempts=attempts, secrets=secrets
        ) from None
    except httpx.TransportError as exc:
        kind: Kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection"
        target = client.build_request(method, url).url
        raise ExtractionError(
            system_id, kind, method=method, url=redact(_path(target), secrets), page=page,
            attempts=attempts,
            detail=redact(f"{type(exc).__name__}: {exc}".rstrip(": "), secrets),
        ) from None
    if not response.is_success:
        raise error_from_response(
            response, system_id=system_id, page=page, attempts=attempts, secrets=secrets
        )
    response.extensions[_ATTEMPTS_KEY] = attempts
    return response


class Throttle:
    """Throttle state shared by every worker of one extraction: a pause asked for by any
    response (429 + Retry-After, a nearly full leaky bucket, few calls left in a window)
    delays the next request of all of them. Busy periods slow the sync, never break it."""

    def __init__(self, sleep: Sleep = time.sleep,
                 now: Callable[[], float] = time.monotonic) -> None:
        self._sleep, self._now = sleep, now
        self._resume_at = 0.0
        self.pauses: list[float] = []  # every pause asked for (tests, bench)

    def pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.pauses.append(seconds)
        self._resume_at = max(self._resume_at, self._now() + min(seconds, MAX_THROTTLE_WAIT))

    async def wait(self) -> None:
        target = self._resume_at
        delay = target - self._now()
        if delay <= 0:
            return
        await asleep(self._sleep, delay)
        if self._resume_at == target:
            self._resume_at = 0.0  # served (an injected test sleep does not move the clock)


async def asleep(sleep: Sleep, seconds: float) -> None:
    """Real waits yield to the other workers; an injected sleep (tests) is called as is."""
    import asyncio

    if sleep is time.sleep:
        await asyncio.sleep(seconds)
    else:
        sleep(seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context per process: building it (CA bundle) costs ~25-75 ms, which
    per extraction would eat what concurrency saves on small syncs."""
    return httpx.create_ssl_context()


def make_async_client(
    base_url: str, timeout: float, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """The concurrent path's client: same headers, timeout and no-redirect rule."""
    return httpx.AsyncClient(**_client_options(base_url, timeout, headers))
