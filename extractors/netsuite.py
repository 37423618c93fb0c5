"""NetSuite SuiteTalk REST SuiteQL: inventory balance per item and location, and (option
`lots: "true"`) lot/serial balances per item x location x inventory number.

Protocol per vendor_api_facts.md §4.1: POST /services/rest/query/v1/suiteql?limit=L&offset=O,
`Prefer: transient`, body {"q": ...}; envelope {links, count, hasMore, items, offset,
totalResults}; rows have lowercase keys, string values, `links: []`, NULL columns omitted.

Lots: a second query in the same extraction (same paging and validation), landed into
`raw.netsuite_inventory_lots` in the same snapshot. Tables and fields are NetSuite's
SuiteQL records `inventorynumber` (id, item, inventorynumber = the lot/serial text,
expirationdate) and `inventorynumberlocation` (inventorynumber, location, quantityonhand,
quantityavailable), as queried in the wild, e.g. Tim Dietrich's SuiteQL library
(GSpo7/suiteql-sql-library:items-with-expiration-dates.sql: `InventoryNumber.Item`,
`InventoryNumber.InventoryNumber`, `InventoryNumber.ExpirationDate`) and clients joining
`inventorynumberlocation invloc ON invloc.inventorynumber = inv.id` for
`invloc.quantityonhand` / `quantityavailable` per `location`. `InventoryBalance` would add
bin and status rows per lot; this table is already one row per lot x location.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from extractors.base import Exchange, HttpConnector, Page, Unit
from extractors.errors import ExtractionError, Kind
from extractors.http import (
    Throttle,
    arequest_with_retries,
    attempts_of,
    make_client,
    malformed,
    parse_json,
    request_with_retries,
)
from extractors.side_tables import SidePage, SideTable
from stockdrift.config import ConfigError, SystemConfig

PATH = "/services/rest/query/v1/suiteql"
MAX_LIMIT = 1000  # §4.1: default and maximum page size
MAX_RESULTS = 100_000  # §4.1: SuiteQL returns at most 100k rows; more would be silently cut
# ORDER BY a unique key so rows neither repeat nor vanish across pages (§4.1).
QUERY = (
    "SELECT iil.item, i.itemid, iil.location, BUILTIN.DF(iil.location) AS location_name, "
    "iil.quantityonhand, iil.quantityavailable, iil.quantitycommitted, iil.quantityonorder, "
    "iil.averagecostmli AS averagecost "
    "FROM inventoryitemlocations iil JOIN item i ON i.id = iil.item "
    "ORDER BY iil.item, iil.location"
)
COLUMNS: tuple[str, ...] = (
    "item", "itemid", "location", "location_name", "quantityonhand", "quantityavailable",
    "quantitycommitted", "quantityonorder", "averagecost",
)
REQUIRED: tuple[str, ...] = ("item", "location")
# Dates come back in the account's format (§4.1) unless TO_CHAR fixes it; the ORDER BY is
# the unique key (inventory number id, location).
LOT_QUERY = (
    "SELECT inv.item, i.itemid, inl.location, inv.inventorynumber, "
    "TO_CHAR(inv.expirationdate, 'YYYY-MM-DD') AS expirationdate, "
    "inl.quantityonhand, inl.quantityavailable "
    "FROM inventorynumberlocation inl "
    "JOIN inventorynumber inv ON inv.id = inl.inventorynumber "
    "JOIN item i ON i.id = inv.item "
    "ORDER BY inl.inventorynumber, inl.location"
)
LOTS = SideTable("netsuite_inventory_lots", (
    "item", "itemid", "location", "inventorynumber", "expirationdate", "quantityonhand",
    "quantityavailable",
))
LOT_REQUIRED: tuple[str, ...] = ("item", "location", "inventorynumber")


@dataclass(frozen=True)
class Query:
    """One SuiteQL query: its text, the columns it selects and those never NULL; `side`
    names the raw table its rows go to when it is not the connector's main one."""

    text: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    side: SideTable | None = None

    def page(self, rows: list[dict[str, Any]], exchange: Exchange, label: str) -> Page:
        if self.side is None:
            return Page(rows, exchange, label)
        return SidePage([], exchange, label, {self.side: rows})


BALANCES = Query(QUERY, COLUMNS, REQUIRED)
LOT_BALANCES = Query(LOT_QUERY, LOTS.columns, LOT_REQUIRED, LOTS)


def lots_enabled(system: SystemConfig) -> bool:
    value = system.options.get("lots", "false").strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(f"systems[{system.id}].options.lots: {value!r} is not a flag; "
                          'use "true" or "false" (quoted: options are strings)')
    return value == "true"


class NetSuiteConnector(HttpConnector):
    page_limit = MAX_LIMIT
    system_id: str
    raw_table = "netsuite_inventory"
    columns = COLUMNS
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("item", "location")

    def source_as_of(self) -> datetime | None:
        return None  # SuiteQL has no as-of; landing uses the finish time

    def pages(self) -> Iterator[Page]:
        queries = [BALANCES, LOT_BALANCES] if lots_enabled(self.system) else [BALANCES]
        token = self.system.credential("token")  # resolved lazily: a missing env var fails
        self._secrets = (token,)  # the snapshot (recorded), not the whole cycle
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        headers = {
            "Authorization": f"Bearer {token}",  # OAuth 2.0 bearer (§4.1)
            "Prefer": "transient",  # required by SuiteQL (§4.1)
            "Content-Type": "application/json",
        }
        requested = self.limit  # a next link may lower it; each query starts afresh
        try:
            for query in queries:
                self.limit = requested
                yield from self._query_pages(client, headers, query)
        finally:
            if self._client is None:
                client.close()

    def _query_pages(self, client: httpx.Client, headers: dict[str, str],
                     query: Query) -> Iterator[Page]:
        secrets = self._secrets
        prefix = "" if query.side is None else "lots "
        offset, received = 0, 0
        while True:
            label = f"{prefix}offset={offset}"
            response = request_with_retries(
                client, "POST", PATH, system_id=self.system_id, page=label,
                params={"limit": self.limit, "offset": offset},
                json={"q": query.text}, headers=headers, sleep=self._sleep, secrets=secrets,
                retry_after_header="Retry-After",  # some clients honour it on 429 (§4.1)
            )
            data = parse_json(response, system_id=self.system_id, page=label, secrets=secrets)
            rows, has_more, next_offset = self._parse(response, data, label, offset, query)
            received += len(rows)
            yield query.page(rows, Exchange.from_response(
                response, attempts=attempts_of(response), secrets=secrets), label)
            total = data.get("totalResults")
            if has_more and offset == 0 and self.max_concurrency > 1 \
                    and isinstance(total, int) and received < total <= MAX_RESULTS \
                    and next_offset == received:
                # totalResults and the page size fix every remaining offset: fetch
                # them concurrently (§4.1 offset paging is random access).
                yield from self._fan_out(self._offset_units(headers, received, total, query))
                return
            if not has_more:
                if isinstance(total, int) and total > received and total > MAX_RESULTS:
                    raise malformed(
                        response, system_id=self.system_id, page=label, secrets=secrets,
                        detail=f"totalResults {total} exceeds the SuiteQL cap of "
                        f"{MAX_RESULTS}; only {received} rows were returned",
                    )
                return
            offset = next_offset

    def _offset_units(self, headers: dict[str, str], step: int, total: int,
                      query: Query) -> list[Unit]:
        """One unit per remaining offset page; each must be full except the last, and the
        last must say hasMore=false, so a short or shifted page fails as it would in
        sequence (a row changing pages mid-read shows up as a count mismatch)."""
        offsets = list(range(step, total, step))
        limit = self.limit
        throttle = Throttle(self._sleep)

        def unit(offset: int) -> Unit:
            async def fetch(client: httpx.AsyncClient) -> list[Page]:
                label = f"{'' if query.side is None else 'lots '}offset={offset}"
                response = await arequest_with_retries(
                    client, "POST", PATH, system_id=self.system_id, page=label,
                    throttle=throttle, params={"limit": limit, "offset": offset},
                    json={"q": query.text}, headers=headers, secrets=self._secrets,
                )
                data = parse_json(response, system_id=self.system_id, page=label,
                                  secrets=self._secrets)
                rows, has_more, _ = self._parse(response, data, label, offset, query)
                last = offset == offsets[-1]
                expected = total - offset if last else step
                if has_more == last or len(rows) != expected:
                    raise malformed(
                        response, system_id=self.system_id, page=label,
                        secrets=self._secrets,
                        detail=f"page changed under us: {len(rows)} rows, hasMore="
                        f"{has_more}; totalResults {total} and page size {step} say "
                        f"{expected} rows, hasMore={not last}",
                    )
                return [query.page(rows, Exchange.from_response(
                    response, attempts=attempts_of(response), secrets=self._secrets), label)]
            return fetch

        return [unit(o) for o in offsets]

    def _parse(
        self, response: httpx.Response, data: Any, label: str, offset: int,
        query: Query = BALANCES,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        def fail(detail: str, kind: Kind = "malformed") -> ExtractionError:
            return malformed(
                response, system_id=self.system_id, page=label, detail=detail, kind=kind,
                secrets=self._secrets,
            )

        if not isinstance(data, dict):
            raise fail(f"expected a JSON object envelope, got {type(data).__name__}")
        items, has_more = data.get("items"), data.get("hasMore")
        if not isinstance(items, list):
            raise fail("envelope field 'items' missing or not a list", "schema")
        if not isinstance(has_more, bool):
            raise fail("envelope field 'hasMore' missing or not a boolean", "schema")
        count = data.get("count")
        if isinstance(count, int) and count != len(items):
            raise fail(f"truncated page: count says {count} rows but {len(items)} arrived")
        if has_more and not items:
            raise fail("hasMore is true but the page has no items (would loop forever)")
        rows = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise fail(f"row {i} is not an object")
            for key in query.required:
                if item.get(key) is None:
                    raise fail(f"required field '{key}' missing in row {i}", "schema")
            # NULLs are omitted (§4.1), so a renamed column shows up only as a key our SELECT
            # never asked for; SuiteQL returns exactly the selected aliases, lowercased.
            unknown = sorted(set(item) - {*query.columns, "links"})
            if unknown:
                raise fail(
                    f"unexpected field '{unknown[0]}' in row {i} (renamed column?); "
                    f"expected only {', '.join(query.columns)}", "schema",
                )
            # Values stay strings as NetSuite returns them; omitted columns are NULL (§4.1).
            rows.append({c: None if item.get(c) is None else str(item[c])
                         for c in query.columns})
        try:
            next_offset = self._next_offset(data, offset, len(items))
        except ValueError as exc:
            raise fail(f"unusable next link: {exc}") from None
        return rows, has_more, next_offset

    def _next_offset(self, data: dict[str, Any], offset: int, received: int) -> int:
        # Follow links[rel=next] (§4.1); its host is ignored, we re-POST to our own base URL
        # with the same body. Without a next link, step by the page actually received.
        for link in data.get("links") or []:
            if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
                params = httpx.URL(str(link["href"])).params
                if "offset" in params:
                    nxt = int(params["offset"])
                    if "limit" in params:
                        self.limit = min(int(params["limit"]), MAX_LIMIT)
                    if nxt > offset:
                        return nxt
        return offset + received
