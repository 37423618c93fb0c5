"""Shopify Admin REST: inventory levels per location, joined with inventory item SKUs.

Flow (vendor_api_facts.md §1.2–1.4): locations.json -> inventory_levels.json per batch of
<= 50 location ids (Link-header pages) -> inventory_items.json per batch of <= 250 ids (sku).

Page emission: every HTTP exchange is yielded as a Page as soon as it arrives, so its payload
is kept even if a later call fails. Locations and levels pages carry rows=[] (a level has no
sku yet); each inventory_items page carries the finished rows of the levels whose sku it
resolved. Rows therefore land only once the join for them is complete.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
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
    same_origin,
)
from stockdrift.clock import parse_utc
from stockdrift.config import SystemConfig

DEFAULT_API_VERSION = "2024-04"
PAGE_LIMIT = 250  # §1.2 / §1.4: maximum page size
MAX_LOCATION_IDS = 50  # §1.2: location_ids takes at most 50 ids
MAX_ITEM_IDS = 250  # inventory_items.json?ids= takes at most 250 ids (ARCHITECTURE.md)
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"  # "32/40" (§1.5)
LEAK_PER_SECOND = 2.0  # §1.5: standard bucket leaks 2 requests/second
BUSY_MARGIN = 5  # slow down when the bucket is within 5 of full (35/40)
MAX_PAGES = 10_000  # a cursor that never ends is a vendor bug, not an infinite sync

COLUMNS: tuple[str, ...] = (
    "inventory_item_id", "location_id", "sku", "available", "updated_at",
)
LEVEL_FIELDS = ("inventory_item_id", "location_id", "available", "updated_at")


class ShopifyConnector(HttpConnector):
    page_limit = PAGE_LIMIT
    system_id: str
    raw_table = "shopify_inventory_levels"
    columns = COLUMNS
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("inventory_item_id", "location_id")

    def __init__(
        self,
        system: SystemConfig,
        client: httpx.Client | None = None,
        *,
        sleep: Sleep = time.sleep,
        since: datetime | None = None,
        async_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(system, client, sleep=sleep, async_client=async_client)
        self.api_version = system.options.get("api_version", DEFAULT_API_VERSION)
        self.prefix = f"/admin/api/{self.api_version}"  # §1.1
        self._max_updated: datetime | None = None
        self.since = since  # incremental: inventory_levels?updated_at_min= (§1.2)

    def source_as_of(self) -> datetime | None:
        """None: the REST API answers with live levels, so the snapshot is as of the request
        (landing uses its finish time). The newest `updated_at` (`newest_level_change`) is
        only a lower bound: a quiet shop would look stale when it is not."""
        return None

    @property
    def newest_level_change(self) -> datetime | None:
        return self._max_updated

    @property
    def high_water_mark(self) -> datetime | None:
        """The next incremental cursor: the newest level `updated_at` seen."""
        return self._max_updated

    def pages(self) -> Iterator[Page]:
        token = self.system.credential("access_token")  # lazily: a missing env var fails the
        self._secrets = (token,)  # snapshot (recorded) rather than the whole cycle
        self._max_updated = None
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        headers = {"X-Shopify-Access-Token": token}  # §1.1
        try:
            locations: list[int] = []
            for response, data in self._get_all(client, headers, "locations.json", {}):
                records = self._records(response, data, "locations", ("id",), 1)
                locations.extend(int(r["id"]) for r in records)
                yield self._page([], response, "locations")

            levels: list[dict[str, Any]] = []
            since: dict[str, Any] = {}
            if self.since is not None:  # §1.2: levels changed at or after this time
                since["updated_at_min"] = self.since.astimezone(UTC).isoformat(
                    timespec="seconds").replace("+00:00", "Z")
            if self.max_concurrency > 1:
                yield from self._concurrent(headers, locations, since)
                return
            for start in range(0, len(locations), MAX_LOCATION_IDS):
                ids = ",".join(str(i) for i in locations[start : start + MAX_LOCATION_IDS])
                params = {"location_ids": ids, "limit": self.limit, **since}
                for n, (response, data) in enumerate(
                    self._get_all(client, headers, "inventory_levels.json", params), 1
                ):
                    records = self._records(response, data, "inventory_levels", LEVEL_FIELDS, n)
                    self._check_full(response, len(records), n)
                    levels.extend(self._level(response, r, n) for r in records)
                    yield self._page([], response, n)

            item_ids = list(dict.fromkeys(int(r["inventory_item_id"]) for r in levels))
            for start in range(0, len(item_ids), MAX_ITEM_IDS):
                batch = item_ids[start : start + MAX_ITEM_IDS]
                params = {"ids": ",".join(str(i) for i in batch), "limit": PAGE_LIMIT}
                skus: dict[int, str | None] = {}
                last: httpx.Response | None = None
                for n, (response, data) in enumerate(
                    self._get_all(client, headers, "inventory_items.json", params), 1
                ):
                    for item in self._records(response, data, "inventory_items", ("id", "sku"), n):
                        skus[int(item["id"])] = item["sku"]
                    if last is not None:
                        yield self._page([], last, n - 1)
                    last = response
                assert last is not None
                missing = [i for i in batch if i not in skus]
                if missing:
                    # A level exists only for an existing item: a missing item is a cut-off
                    # response, not an item without a SKU.
                    raise self._fail(
                        last, f"items {start // MAX_ITEM_IDS + 1}",
                        f"inventory_items lacks {len(missing)} of {len(batch)} requested ids "
                        f"(first: {missing[0]}); response truncated?",
                    )
                wanted = set(batch)
                rows = [
                    {**r, "sku": skus.get(r["inventory_item_id"])}
                    for r in levels
                    if r["inventory_item_id"] in wanted
                ]
                yield self._page(rows, last, f"items {start // MAX_ITEM_IDS + 1}")
        finally:
            if self._client is None:
                client.close()

    def _concurrent(self, headers: dict[str, str], locations: list[int],
                    since: dict[str, Any]) -> Iterator[Page]:
        """Levels per location batch, then SKUs per item batch, each batch a unit of the
        async engine (its Link chain stays sequential, §1.4). Batches shrink so every worker
        gets one; the leaky bucket (§1.5) and 429s pause all workers through one Throttle."""
        throttle = Throttle(self._sleep)
        per = max(1, min(MAX_LOCATION_IDS, -(-len(locations) // self.max_concurrency)))
        batches = [locations[i : i + per] for i in range(0, len(locations), per)]
        levels: list[dict[str, Any]] = []

        def level_unit(batch: list[int]) -> Unit:
            async def fetch(client: httpx.AsyncClient) -> list[Page]:
                params = {"location_ids": ",".join(map(str, batch)), "limit": self.limit,
                          **since}
                pages = []
                answers = await self._aget_all(client, throttle, headers,
                                               "inventory_levels.json", params)
                for n, (response, data) in enumerate(answers, 1):
                    records = self._records(response, data, "inventory_levels",
                                            LEVEL_FIELDS, n)
                    self._check_full(response, len(records), n)
                    levels.extend(self._level(response, r, n) for r in records)
                    pages.append(self._page([], response, n))
                return pages
            return fetch

        yield from self._fan_out([level_unit(b) for b in batches])
        # Levels arrive in batch order whatever the timing: sort to the sequential order.
        order = {loc: i for i, loc in enumerate(locations)}
        levels.sort(key=lambda r: order[r["location_id"]])
        item_ids = list(dict.fromkeys(int(r["inventory_item_id"]) for r in levels))

        def item_unit(k: int, batch: list[int]) -> Unit:
            async def fetch(client: httpx.AsyncClient) -> list[Page]:
                params = {"ids": ",".join(str(i) for i in batch), "limit": PAGE_LIMIT}
                answers = await self._aget_all(client, throttle, headers,
                                               "inventory_items.json", params)
                skus: dict[int, str | None] = {}
                for n, (response, data) in enumerate(answers, 1):
                    for item in self._records(response, data, "inventory_items",
                                              ("id", "sku"), n):
                        skus[int(item["id"])] = item["sku"]
                return self._sku_pages(answers, batch, skus, levels, k)
            return fetch

        yield from self._fan_out([
            item_unit(k, item_ids[i : i + MAX_ITEM_IDS])
            for k, i in enumerate(range(0, len(item_ids), MAX_ITEM_IDS), 1)
        ])

    def _sku_pages(self, answers: list[tuple[httpx.Response, Any]], batch: list[int],
                   skus: dict[int, str | None], levels: list[dict[str, Any]],
                   k: int) -> list[Page]:
        last = answers[-1][0]
        missing = [i for i in batch if i not in skus]
        if missing:
            raise self._fail(last, f"items {k}", f"inventory_items lacks {len(missing)} of "
                             f"{len(batch)} requested ids (first: {missing[0]}); response "
                             "truncated?")
        wanted = set(batch)
        rows = [{**r, "sku": skus.get(r["inventory_item_id"])}
                for r in levels if r["inventory_item_id"] in wanted]
        pages = [self._page([], response, n) for n, (response, _) in enumerate(answers, 1)]
        return [*pages[:-1], self._page(rows, last, f"items {k}")]

    async def _aget_all(
        self, client: httpx.AsyncClient, throttle: Throttle, headers: dict[str, str],
        resource: str, params: dict[str, Any] | None,
    ) -> list[tuple[httpx.Response, Any]]:
        """`_get_all` on the async client: one Link chain, sequential (§1.4)."""
        url: str | httpx.URL = f"{self.prefix}/{resource}"
        seen: set[str] = set()
        out = []
        for n in range(1, MAX_PAGES + 1):
            response = await arequest_with_retries(
                client, "GET", url, system_id=self.system_id, page=n, headers=headers,
                params=params, throttle=throttle, secrets=self._secrets,
            )
            throttle.pause(self._bucket_wait(response))
            out.append((response, parse_json(response, system_id=self.system_id, page=n,
                                             secrets=self._secrets)))
            link = response.links.get("next", {}).get("url")
            if not link:
                return out
            url, params = same_origin(self.system.base_url, link), None
            if str(url) in seen:
                raise self._fail(response, n, f"Link rel=next repeats {url.raw_path!r}")
            seen.add(str(url))
        raise ExtractionError(self.system_id, "malformed", detail=f"over {MAX_PAGES} pages")

    def _get_all(
        self, client: httpx.Client, headers: dict[str, str], resource: str,
        params: dict[str, Any] | None,
    ) -> Iterator[tuple[httpx.Response, Any]]:
        """GET a resource and every Link rel="next" page after it (§1.4)."""
        url: str | httpx.URL = f"{self.prefix}/{resource}"
        seen: set[str] = set()
        for n in range(1, MAX_PAGES + 1):
            response = request_with_retries(
                client, "GET", url, system_id=self.system_id, page=n, headers=headers,
                params=params, retry_after_header="Retry-After",  # §1.5: 429 + Retry-After
                sleep=self._sleep, secrets=self._secrets,
            )
            self._pace(response)
            yield response, parse_json(
                response, system_id=self.system_id, page=n, secrets=self._secrets
            )
            link = response.links.get("next", {}).get("url")
            if not link:
                return  # §1.4: no Link header (or no rel=next) means this was the last page
            # page_info must be used exactly as given and carry no other filters (§1.4);
            # params=None, not {}: httpx would replace the link's query with an empty one.
            url, params = same_origin(self.system.base_url, link), None
            if str(url) in seen:
                raise self._fail(response, n, f"Link rel=next repeats {url.raw_path!r}")
            seen.add(str(url))
        raise ExtractionError(self.system_id, "malformed", detail=f"over {MAX_PAGES} pages")

    def _check_full(self, response: httpx.Response, received: int, page: int) -> None:
        """Cursor pages before the last are full (§1.4); a short one with a next link was cut."""
        if "next" not in response.links:
            return
        try:
            limit = int(response.request.url.params.get("limit", PAGE_LIMIT))
        except ValueError:
            return
        if received < limit:
            raise self._fail(
                response, page, f"truncated page: {received} rows but limit={limit} and a "
                "next page is linked",
            )

    def _pace(self, response: httpx.Response) -> None:
        """Leaky bucket (§1.5): near full, wait for it to drain so busy periods slow us."""
        wait = self._bucket_wait(response)
        if wait > 0:
            self._sleep(wait)

    @staticmethod
    def _bucket_wait(response: httpx.Response) -> float:
        used, _, size = response.headers.get(CALL_LIMIT_HEADER, "").partition("/")
        try:
            n, cap = int(used), int(size)
        except ValueError:
            return 0.0
        if n >= cap - BUSY_MARGIN:
            return (n - (cap - 2 * BUSY_MARGIN)) / LEAK_PER_SECOND
        return 0.0

    def _records(
        self, response: httpx.Response, data: Any, key: str, required: tuple[str, ...],
        page: int | str,
    ) -> list[dict[str, Any]]:
        records = data.get(key) if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise self._fail(response, page, f"field '{key}' missing or not a list", "schema")
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise self._fail(response, page, f"{key}[{i}] is not an object")
            for field in required:
                if field not in record:
                    raise self._fail(
                        response, page, f"required field '{field}' missing in {key}[{i}]",
                        "schema",
                    )
            if not isinstance(record.get(required[0]), int):
                raise self._fail(response, page, f"{key}[{i}].{required[0]} is not an integer")
        return records

    def _level(self, response: httpx.Response, r: dict[str, Any], page: int) -> dict[str, Any]:
        if not isinstance(r["location_id"], int):
            raise self._fail(response, page, "inventory_levels location_id is not an integer")
        available, updated = r["available"], r["updated_at"]
        if available is not None and not isinstance(available, int):
            raise self._fail(response, page, f"available {available!r} is not an integer")
        if updated is not None:
            try:
                when = parse_utc(str(updated))
            except ValueError:
                detail = f"updated_at {updated!r} is not ISO-8601"
                raise self._fail(response, page, detail) from None
            if self._max_updated is None or when > self._max_updated:
                self._max_updated = when
        return {
            "inventory_item_id": r["inventory_item_id"],
            "location_id": r["location_id"],
            "sku": None,
            "available": available,
            "updated_at": updated,  # stored as returned, offset included (§8)
        }

    def _page(self, rows: list[dict[str, Any]], response: httpx.Response, label: Any) -> Page:
        exchange = Exchange.from_response(
            response, attempts=attempts_of(response), secrets=self._secrets
        )
        return Page(rows, exchange, str(label))

    def _fail(
        self, response: httpx.Response, page: int | str, detail: str, kind: Kind = "malformed"
    ) -> ExtractionError:
        return malformed(
            response, system_id=self.system_id, page=page, detail=detail, kind=kind,
            secrets=self._secrets,
        )
