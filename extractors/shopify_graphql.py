"""Shopify Admin GraphQL: every inventory level's named quantities, per location.

vendor_api_facts.md §1.7-1.10. Paged mode (incremental, and full refresh of small shops):
`location(id) { inventoryLevels(first, after, query) { pageInfo, nodes { quantities(names:
[...]) } } }` with cursor paging (§1.8) and cost-based throttling (§1.9): every answer carries
`extensions.cost.throttleStatus`; before the next query we wait until the bucket holds its
requested cost, and a `THROTTLED` answer (HTTP 200 or 429, §1.9) waits the same way and
retries. Bulk mode (full refresh of big shops): `bulkOperationRunQuery` -> poll
`currentBulkOperation` -> download the JSONL `url` (no Shopify token: it is a signed storage
URL), children linked by `__parentId`, not adjacency (§1.10). Offline Admin API tokens do not
expire (§1.1), so there is no refresh: a 401 fails the snapshot naming the token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from extractors.base import Exchange, HttpConnector, Page
from extractors.errors import ExtractionError, Kind
from extractors.http import (
    Sleep,
    attempts_of,
    make_client,
    malformed,
    parse_json,
    request_with_retries,
)
from extractors.shopify_levels import NAMES, LevelError, level_row, parse_bulk_jsonl
from extractors.vendor_errors import add_attempts, copy_error, first_error, with_vendor_code
from stockdrift.clock import parse_utc
from stockdrift.config import SystemConfig

DEFAULT_API_VERSION = "2024-04"
PAGE_LIMIT = 250  # §1.8: max 250 per page
THROTTLE_RETRIES = 5
MAX_PAGES = 100_000
COLUMNS: tuple[str, ...] = ("inventory_level_id", "inventory_item_id", "sku", "location_id",
                            "location_name", *NAMES, "updated_at")
_QUANTITIES = "quantities(names: [" + ", ".join(f'"{n}"' for n in NAMES) + "]) { name quantity }"
LEVEL_FIELDS = f"id updatedAt item {{ id sku }} {_QUANTITIES}"
LOCATIONS_QUERY = ("query Locations($after: String) { locations(first: 250, after: $after) "
                   "{ pageInfo { hasNextPage endCursor } nodes { id name } } }")
LEVELS_QUERY = (
    "query Levels($location: ID!, $first: Int!, $after: String, $query: String) "
    "{ location(id: $location) { inventoryLevels(first: $first, after: $after, query: $query) "
    f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {LEVEL_FIELDS} }} }} }} }}"
)
BULK_QUERY = ("{ locations { edges { node { id name inventoryLevels { edges { node { "
              f"{LEVEL_FIELDS} }} }} }} }} }} }}")


class ShopifyGraphqlConnector(HttpConnector):
    page_limit = PAGE_LIMIT
    system_id: str
    raw_table = "shopify_inventory_quantities"
    columns = COLUMNS
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("inventory_item_id", "location_id")

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None, *,
                 sleep: Sleep = time.sleep, since: datetime | None = None) -> None:
        super().__init__(system, client, sleep=sleep)
        self.version = system.options.get("api_version", DEFAULT_API_VERSION)
        self.path = f"/admin/api/{self.version}/graphql.json"
        self.mode = system.options.get("mode", "paged")  # paged | bulk (full refresh only)
        self.since = since
        self.high_water_mark: datetime | None = None
        self._headers: dict[str, str] = {}
        self.throttle_waits: list[float] = []
        self.bulk_poll_s = float(system.options.get("bulk_poll_seconds", "2"))
        self.bulk_max_polls = int(system.options.get("bulk_max_polls", "900"))

    def source_as_of(self) -> datetime | None:
        return None

    def pages(self) -> Iterator[Page]:
        token = self.system.credential("access_token")
        self._secrets = (token,)
        self._headers = {"X-Shopify-Access-Token": token}  # §1.1
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        try:
            if self.mode == "bulk" and self.since is None:
                yield from self._bulk(client)
            else:
                yield from self._paged(client)
        finally:
            if self._client is None:
                client.close()

    # --- paged ------------------------------------------------------------------------------
    def _paged(self, client: httpx.Client) -> Iterator[Page]:
        locations: list[tuple[str, str]] = []
        after: str | None = None
        for n in range(1, MAX_PAGES + 1):
            response, data = self.graphql(client, LOCATIONS_QUERY, {"after": after}, f"loc {n}")
            conn = self._connection(response, data, ("locations",), f"loc {n}")
            locations += [(str(x["id"]), str(x.get("name"))) for x in conn["nodes"]]
            yield self._page([], response, f"locations {n}")
            after = self._next(response, conn, 250, f"loc {n}")
            if after is None:
                break
        query = None
        if self.since is not None:  # §1.7: inventoryLevels(query:) filters on updated_at
            query = f"updated_at:>'{self.since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}'"
        for loc_id, loc_name in locations:
            after = None
            for n in range(1, MAX_PAGES + 1):
                label = f"{loc_id.rsplit('/', 1)[-1]} p{n}"
                variables = {"location": loc_id, "first": self.limit, "after": after,
                             "query": query}
                response, data = self.graphql(client, LEVELS_QUERY, variables, label)
                conn = self._connection(response, data, ("location", "inventoryLevels"), label)
                rows = [self._row(response, node, loc_id, loc_name, label)
                        for node in conn["nodes"]]
                yield self._page(rows, response, label)
                after = self._next(response, conn, self.limit, label)
                if after is None:
                    break

    def graphql(self, client: httpx.Client, query: str, variables: dict[str, Any],
                label: str) -> tuple[httpx.Response, Any]:
        """POST one query; wait out THROTTLED answers (§1.9) with the bucket's own numbers."""
        spent = 0  # requests answered THROTTLED
        for _ in range(THROTTLE_RETRIES):
            try:
                response = request_with_retries(
                    client, "POST", self.path, system_id=self.system_id, page=label,
                    json={"query": query, "variables": variables}, headers=self._headers,
                    sleep=self._sleep, secrets=self._secrets,
                )
            except ExtractionError as exc:
                exc = with_vendor_code(exc, self._secrets)
                if exc.status_code != 429 or exc.exchange is None:
                    raise copy_error(exc, attempts=exc.attempts + spent) from None
                spent += exc.attempts
                self._throttle_wait(_json_or_none(exc.exchange.body), force=True)
                continue
            add_attempts(response, spent)
            data = parse_json(response, system_id=self.system_id, page=label,
                              secrets=self._secrets)
            code, message = first_error(data)
            if code == "THROTTLED":
                spent += attempts_of(response)
                self._throttle_wait(data, force=True)
                continue
            if code or message:
                raise malformed(response, system_id=self.system_id, page=label,
                                kind="http_status", detail=f"GraphQL error {code}: {message}",
                                secrets=self._secrets)
            self._throttle_wait(data, force=False)
            return response, data
        raise ExtractionError(self.system_id, "rate_limited", method="POST", url=self.path,
                              page=label, status_code=429, vendor_code="THROTTLED",
                              attempts=spent,
                              detail="query cost never fit the bucket")

    def _throttle_wait(self, data: Any, *, force: bool) -> None:
        """Sleep until the bucket can pay for the next query of the same requested cost."""
        try:
            cost = data["extensions"]["cost"]
            status = cost["throttleStatus"]
            need = float(cost["requestedQueryCost"])
            have, rate = float(status["currentlyAvailable"]), float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return
        if (force or have < need) and rate > 0:
            wait = max(need - have, 0.0) / rate or 1.0 / rate
            self.throttle_waits.append(wait)
            self._sleep(wait)

    def _connection(self, response: httpx.Response, data: Any, path: tuple[str, ...],
                    label: str) -> dict[str, Any]:
        node = data.get("data") if isinstance(data, dict) else None
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict) or not isinstance(node.get("nodes"), list) \
                or not isinstance(node.get("pageInfo"), dict):
            raise self._fail(response, label, f"data.{'.'.join(path)} lacks nodes/pageInfo",
                             "schema")
        return node

    def _next(self, response: httpx.Response, conn: dict[str, Any], first: int,
              label: str) -> str | None:
        info = conn["pageInfo"]
        if not info.get("hasNextPage"):
            return None
        if len(conn["nodes"]) < first:
            raise self._fail(response, label, f"truncated page: {len(conn['nodes'])} nodes "
                             f"but first={first} and hasNextPage")
        cursor = info.get("endCursor")
        if not cursor:
            raise self._fail(response, label, "hasNextPage without endCursor", "schema")
        return str(cursor)

    def _row(self, response: httpx.Response, node: Any, loc_id: str, loc_name: str | None,
             label: str) -> dict[str, Any]:
        try:
            row = level_row(node, loc_id, loc_name)
        except LevelError as exc:
            raise self._fail(response, label, str(exc), exc.kind) from None
        self._track(row["updated_at"])
        return row

    def _track(self, value: Any) -> None:
        """The next incremental cursor: the newest level `updatedAt` seen (§1.7)."""
        try:
            when = parse_utc(str(value)) if value else None
        except ValueError:
            return
        if when is not None and (self.high_water_mark is None or when > self.high_water_mark):
            self.high_water_mark = when

    # --- bulk -------------------------------------------------------------------------------
    def _bulk(self, client: httpx.Client) -> Iterator[Page]:
        url: str | None = None
        for response, done_url in self._run_bulk(client):
            url = done_url
            yield self._page([], response, "bulk")
        if url is None:
            return  # no objects: Shopify gives no url for an empty result
        # The signed storage URL needs no (and must not get our) Shopify token (§1.10).
        response = request_with_retries(client, "GET", url, system_id=self.system_id,
                                        page="bulk JSONL", sleep=self._sleep,
                                        secrets=self._secrets)
        try:
            rows = parse_bulk_jsonl(response.content)
        except LevelError as exc:
            raise self._fail(response, "bulk JSONL", str(exc), exc.kind) from None
        for row in rows:
            self._track(row["updated_at"])
        yield self._page(rows, response, "bulk JSONL")

    def _page(self, rows: list[dict[str, Any]], response: httpx.Response, label: str) -> Page:
        return Page(rows, Exchange.from_response(
            response, attempts=attempts_of(response), secrets=self._secrets), label)

    def _fail(self, response: httpx.Response, page: str, detail: str,
              kind: Kind = "malformed") -> ExtractionError:
        return malformed(response, system_id=self.system_id, page=page, detail=detail,
                         kind=kind, secrets=self._secrets)

    def _run_bulk(self, client: httpx.Client) -> Iterator[tuple[httpx.Response, str | None]]:
        """Start the bulk query, then poll until a terminal status (§1.10)."""
        response, data = self.graphql(client, BULK_MUTATION, {"query": BULK_QUERY}, "bulk start")
        run = (data.get("data") or {}).get("bulkOperationRunQuery") or {}
        if run.get("userErrors"):
            err = run["userErrors"][0]
            raise self._fail(response, "bulk start", f"bulkOperationRunQuery refused: "
                             f"{err.get('message')}", "http_status")
        op_id = (run.get("bulkOperation") or {}).get("id")
        if not op_id:
            raise self._fail(response, "bulk start", "no bulkOperation.id", "schema")
        yield response, None
        for n in range(1, self.bulk_max_polls + 1):
            self._sleep(self.bulk_poll_s)
            response, data = self.graphql(client, BULK_POLL, {}, f"bulk poll {n}")
            op = (data.get("data") or {}).get("currentBulkOperation")
            if not isinstance(op, dict) or "status" not in op:
                raise self._fail(response, f"bulk poll {n}", "currentBulkOperation.status "
                                 "missing", "schema")
            if op.get("id") != op_id:
                raise self._fail(response, f"bulk poll {n}", f"another bulk operation "
                                 f"{op.get('id')} replaced ours ({op_id})", "http_status")
            status = op["status"]
            if status == "COMPLETED":
                yield response, op.get("url")
                return
            if status in ("FAILED", "CANCELED", "CANCELING", "EXPIRED"):
                raise self._fail(response, f"bulk poll {n}", f"bulk operation {status} "
                                 f"(errorCode {op.get('errorCode')})", "http_status")
            yield response, None
        raise ExtractionError(self.system_id, "timeout", page="bulk poll",
                              detail=f"bulk operation {op_id} not done after "
                              f"{self.bulk_max_polls} polls")


BULK_MUTATION = ("mutation Run($query: String!) { bulkOperationRunQuery(query: $query) "
                 "{ bulkOperation { id status } userErrors { field message } } }")
BULK_POLL = ("query { currentBulkOperation { id status errorCode createdAt completedAt "
             "objectCount fileSize url partialDataUrl } }")


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None
