"""Square Inventory `POST /v2/inventory/counts/batch-retrieve`: one row per catalog object x
location x state (vendor_api_facts.md §5).

Body cursor paging: the response carries `cursor` only while more pages exist and we send it
back in the next POST body. `quantity` is a decimal string (kept as text; validated), ordering
is newest `calculated_at` first. Incremental: `updated_after` = last high-water mark.
Errors are `{"errors": [{category, code, detail, field}]}`, including HTTP 200 answers with
per-item errors (treated as a failed page: partial counts would read as missing stock).
Auth: `Authorization: Bearer`. Either a personal access token (`credentials.access_token`,
no expiry, no refresh) or OAuth (`credentials.refresh_token`, `client_id`, `client_secret`):
`POST /oauth2/token` with `grant_type=refresh_token` returns an access token valid 30 days
with an ISO `expires_at` [DOC: developer.squareup.com/reference/square/o-auth/obtain-token];
we obtain one per run and again once on a 401. Square publishes no numeric rate limit and no
rate-limit headers; a 429 `RATE_LIMITED` backs off via the shared retry policy.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from extractors.base import Exchange, HttpConnector, Page, Unit
from extractors.errors import ExtractionError, Kind
from extractors.http import (
    Sleep,
    Throttle,
    arequest_with_retries,
    attempts_of,
    make_client,
    malformed,
    parse_json,
    request_with_retries,
)
from extractors.vendor_errors import add_attempts, copy_error, first_error, with_vendor_code
from stockdrift.clock import parse_utc
from stockdrift.config import SystemConfig

PATH = "/v2/inventory/counts/batch-retrieve"  # the old batch-retrieve-counts is retired (§5)
DEFAULT_VERSION = "2024-04-17"
PAGE_LIMIT = 1000  # §5: limit 1..1000
MAX_PAGES = 100_000
DEFAULT_STATES = ("IN_STOCK", "RESERVED_FOR_SALE", "WASTE", "ORDERED_FROM_VENDOR",
                  "IN_TRANSIT_TO")
STATES = frozenset({  # §5 InventoryState enum (+ IN_TRANSIT in newer versions)
    "CUSTOM", "IN_STOCK", "SOLD", "RETURNED_BY_CUSTOMER", "RESERVED_FOR_SALE", "SOLD_ONLINE",
    "ORDERED_FROM_VENDOR", "RECEIVED_FROM_VENDOR", "IN_TRANSIT_TO", "NONE", "WASTE",
    "UNLINKED_RETURN", "COMPOSED", "DECOMPOSED", "SUPPORTED_BY_NEWER_VERSION", "IN_TRANSIT",
})
COLUMNS: tuple[str, ...] = (
    "catalog_object_id", "catalog_object_type", "state", "location_id", "quantity",
    "calculated_at",
)
REQUIRED = ("catalog_object_id", "state", "location_id", "quantity", "calculated_at")


class SquareConnector(HttpConnector):
    page_limit = PAGE_LIMIT
    system_id: str
    raw_table = "square_inventory_counts"
    columns = COLUMNS
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("catalog_object_id", "location_id", "state")

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None, *,
                 sleep: Sleep = time.sleep, since: datetime | None = None,
                 async_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(system, client, sleep=sleep, async_client=async_client)
        opts = system.options
        self.version = opts.get("square_version", DEFAULT_VERSION)
        self.states = [s for s in opts.get("states", ",".join(DEFAULT_STATES)).split(",") if s]
        self.location_ids = [s for s in opts.get("location_ids", "").split(",") if s]
        self.since = since
        self.high_water_mark: datetime | None = None
        # Full pages before the last are observed, not documented: `strict_pages: "false"`
        # accepts short pages that carry a cursor.
        self.strict_pages = opts.get("strict_pages", "true") != "false"
        self._oauth: dict[str, str] = {}
        self._client_for_tokens: httpx.Client | None = None
        self.refreshes = 0
        self._token_requests = 0

    def source_as_of(self) -> datetime | None:
        return None  # counts are live; calculated_at is per count (high_water_mark)

    def pages(self) -> Iterator[Page]:
        oauth = "refresh_token" in self.system.credentials
        if oauth:
            self._oauth = {n: self.system.credential(n)
                           for n in ("refresh_token", "client_id", "client_secret")}
            self._secrets = (self._oauth["refresh_token"], self._oauth["client_secret"])
        else:
            self._secrets = (self.system.credential("access_token"),)
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        self._client_for_tokens = client  # location workers re-obtain through it on a 401
        token = self._obtain_token(client) if oauth else self._secrets[0]
        headers = {"Authorization": f"Bearer {token}", "Square-Version": self.version}
        body: dict[str, Any] = {"states": self.states, "limit": self.limit}
        if self.location_ids:
            body["location_ids"] = self.location_ids
        if self.since is not None:  # RFC 3339 (§5 default 1970-01-01T00:00:00Z)
            body["updated_after"] = self.since.astimezone(UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z")
        cursor: str | None = None
        seen: set[str] = set()
        try:
            if self.max_concurrency > 1 and len(self.location_ids) > 1:
                yield from self._fan_out(self._location_units(body, headers))
                return
            for n in range(1, MAX_PAGES + 1):
                label = str(n) if cursor is None else f"{n} (cursor {cursor[:16]})"
                payload = {**body, **({"cursor": cursor} if cursor else {})}
                try:
                    response = request_with_retries(
                        client, "POST", PATH, system_id=self.system_id, page=label,
                        json=payload, headers=headers, sleep=self._sleep, secrets=self._secrets,
                    )
                except ExtractionError as exc:
                    if not (oauth and exc.status_code == 401 and self.refreshes == 1):
                        raise with_vendor_code(exc, self._secrets) from None
                    headers["Authorization"] = f"Bearer {self._obtain_token(client)}"
                    response = request_with_retries(  # once more with a fresh token
                        client, "POST", PATH, system_id=self.system_id, page=label,
                        json=payload, headers=headers, sleep=self._sleep, secrets=self._secrets,
                    )
                    add_attempts(response, exc.attempts)  # the 401 answer
                add_attempts(response, self._token_requests)  # ObtainToken calls count too
                self._token_requests = 0
                data = parse_json(response, system_id=self.system_id, page=label,
                                  secrets=self._secrets)
                rows, cursor = self._parse(response, data, label)
                yield Page(rows, Exchange.from_response(
                    response, attempts=attempts_of(response), secrets=self._secrets), label)
                if not cursor:
                    return  # §5: "If unset, this is the final response"
                if cursor in seen:
                    raise self._fail(response, label, "cursor repeats a previous one")
                seen.add(cursor)
            raise ExtractionError(self.system_id, "malformed", detail=f"over {MAX_PAGES} pages")
        finally:
            if self._client is None:
                client.close()

    def _location_units(self, body: dict[str, Any], headers: dict[str, str]) -> list[Unit]:
        """One cursor chain per group of `location_ids` (§5: the filter takes a list), at
        most `max_concurrency` groups; each chain stays sequential."""
        throttle = Throttle(self._sleep)
        per = -(-len(self.location_ids) // self.max_concurrency)
        groups = [self.location_ids[i : i + per]
                  for i in range(0, len(self.location_ids), per)]

        def unit(k: int, group: list[str]) -> Unit:
            async def fetch(client: httpx.AsyncClient) -> list[Page]:
                pages: list[Page] = []
                cursor: str | None = None
                seen: set[str] = set()
                for n in range(1, MAX_PAGES + 1):
                    label = f"L{k}.{n}" + (f" (cursor {cursor[:16]})" if cursor else "")
                    payload = {**body, "location_ids": group,
                               **({"cursor": cursor} if cursor else {})}
                    response = await self._apost(client, throttle, payload, headers,
                                                 label)
                    if k == 1 and n == 1:  # this run's ObtainToken calls count too
                        add_attempts(response, self._token_requests)
                        self._token_requests = 0
                    data = parse_json(response, system_id=self.system_id, page=label,
                                      secrets=self._secrets)
                    rows, cursor = self._parse(response, data, label)
                    pages.append(Page(rows, Exchange.from_response(
                        response, attempts=attempts_of(response), secrets=self._secrets),
                        label))
                    if not cursor:
                        return pages
                    if cursor in seen:
                        raise self._fail(response, label, "cursor repeats a previous one")
                    seen.add(cursor)
                raise ExtractionError(self.system_id, "malformed",
                                      detail=f"over {MAX_PAGES} pages")
            return fetch

        return [unit(k, g) for k, g in enumerate(groups, 1)]

    async def _apost(self, client: httpx.AsyncClient, throttle: Throttle,
                     payload: dict[str, Any], headers: dict[str, str],
                     label: str) -> httpx.Response:
        """One page for a location worker; with OAuth a 401 obtains one new token for all
        workers (`headers` is shared) and retries once, as the sequential path does."""
        try:
            return await arequest_with_retries(
                client, "POST", PATH, system_id=self.system_id, page=label, json=payload,
                headers=dict(headers), throttle=throttle, secrets=self._secrets)
        except ExtractionError as exc:
            if not (self._oauth and exc.status_code == 401 and self.refreshes == 1):
                raise with_vendor_code(exc, self._secrets) from None
            assert self._client_for_tokens is not None
            headers["Authorization"] = f"Bearer {self._obtain_token(self._client_for_tokens)}"
            response = await arequest_with_retries(
                client, "POST", PATH, system_id=self.system_id, page=label, json=payload,
                headers=dict(headers), throttle=throttle, secrets=self._secrets)
            add_attempts(response, exc.attempts + self._token_requests)
            self._token_requests = 0
            return response

    def _obtain_token(self, client: httpx.Client) -> str:
        """ObtainToken with the refresh_token grant; the access token joins the secrets."""
        try:
            response = request_with_retries(
                client, "POST", "/oauth2/token", system_id=self.system_id, page="oauth2/token",
                json={**self._oauth, "grant_type": "refresh_token"}, sleep=self._sleep,
                secrets=self._secrets, headers={"Square-Version": self.version},
            )
        except ExtractionError as exc:
            raise copy_error(with_vendor_code(exc, self._secrets),
                             detail="Square refused the refresh token; re-authorize the "
                             "seller (OAuth) for a new one") from None
        self._token_requests += attempts_of(response)
        data = parse_json(response, system_id=self.system_id, page="oauth2/token",
                          secrets=self._secrets)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise self._fail(response, "oauth2/token", "no access_token in the answer", "schema")
        self._secrets = (*self._secrets, token)
        self.refreshes += 1
        return token

    def _parse(self, response: httpx.Response, data: Any, label: str
               ) -> tuple[list[dict[str, Any]], str | None]:
        if not isinstance(data, dict):
            raise self._fail(response, label, "body is not a JSON object")
        if data.get("errors"):  # 200 with per-item errors (§5): not a complete answer
            code, message = first_error(data)
            raise malformed(response, system_id=self.system_id, page=label, kind="http_status",
                            detail=f"errors in a 200 answer: {code}: {message}",
                            secrets=self._secrets)
        counts = data.get("counts", [])  # Square omits empty arrays
        if not isinstance(counts, list):
            raise self._fail(response, label, "field 'counts' is not a list", "schema")
        cursor = data.get("cursor")
        if self.strict_pages and cursor and len(counts) < self.limit:
            raise self._fail(response, label, f"truncated page: {len(counts)} counts but "
                             f"limit={self.limit} and a cursor follows")
        return [self._row(response, c, i, label) for i, c in enumerate(counts)], cursor

    def _row(self, response: httpx.Response, c: Any, i: int, label: str) -> dict[str, Any]:
        if not isinstance(c, dict):
            raise self._fail(response, label, f"counts[{i}] is not an object")
        for key in REQUIRED:
            if key not in c:
                raise self._fail(response, label, f"required field '{key}' missing in "
                                 f"counts[{i}]", "schema")
        if c["state"] not in STATES:
            raise self._fail(response, label, f"counts[{i}].state {c['state']!r} is not an "
                             "InventoryState", "schema")
        try:
            Decimal(str(c["quantity"]))
            when = parse_utc(str(c["calculated_at"]))
        except (InvalidOperation, ValueError):
            raise self._fail(response, label, f"counts[{i}]: quantity {c['quantity']!r} or "
                             f"calculated_at {c['calculated_at']!r} unreadable") from None
        if self.high_water_mark is None or when > self.high_water_mark:
            self.high_water_mark = when
        return {k: c.get(k) for k in COLUMNS}

    def _fail(self, response: httpx.Response, page: str, detail: str,
              kind: Kind = "malformed") -> ExtractionError:
        return malformed(response, system_id=self.system_id, page=page, detail=detail,
                         kind=kind, secrets=self._secrets)
