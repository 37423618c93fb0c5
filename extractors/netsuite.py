"""NetSuite SuiteTalk REST SuiteQL: inventory balance per item and location.

Protocol per vendor_api_facts.md §4.1: POST /services/rest/query/v1/suiteql?limit=L&offset=O,
`Prefer: transient`, body {"q": ...}; envelope {links, count, hasMore, items, offset,
totalResults}; rows have lowercase keys, string values, `links: []`, NULL columns omitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from extractors.base import Exchange, HttpConnector, Page
from extractors.errors import ExtractionError, Kind
from extractors.http import (
    attempts_of,
    make_client,
    malformed,
    parse_json,
    request_with_retries,
)

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
KNOWN_KEYS = frozenset({*COLUMNS, "links"})


class NetSuiteConnector(HttpConnector):
    page_limit = MAX_LIMIT
    system_id: str
    raw_table = "netsuite_inventory"
    columns = COLUMNS

    def source_as_of(self) -> datetime | None:
        return None  # SuiteQL has no as-of; landing uses the finish time

    def pages(self) -> Iterator[Page]:
        token = self.system.credential("token")  # resolved lazily: a missing env var fails
        secrets = self._secrets = (token,)  # the snapshot (recorded), not the whole cycle
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        headers = {
            "Authorization": f"Bearer {token}",  # OAuth 2.0 bearer (§4.1)
            "Prefer": "transient",  # required by SuiteQL (§4.1)
            "Content-Type": "application/json",
        }
        try:
            offset, received = 0, 0
            while True:
                label = f"offset={offset}"
                response = request_with_retries(
                    client, "POST", PATH, system_id=self.system_id, page=label,
                    params={"limit": self.limit, "offset": offset},
                    json={"q": QUERY}, headers=headers, sleep=self._sleep, secrets=secrets,
                    retry_after_header="Retry-After",  # some clients honour it on 429 (§4.1)
                )
                data = parse_json(response, system_id=self.system_id, page=label, secrets=secrets)
                rows, has_more, next_offset = self._parse(response, data, label, offset)
                received += len(rows)
                yield Page(
                    rows, Exchange.from_response(
                        response, attempts=attempts_of(response), secrets=secrets
                    ), label,
                )
                if not has_more:
                    total = data.get("totalResults")
                    if isinstance(total, int) and total > received and total > MAX_RESULTS:
                        raise malformed(
                            response, system_id=self.system_id, page=label, secrets=secrets,
                            detail=f"totalResults {total} exceeds the SuiteQL cap of "
                            f"{MAX_RESULTS}; only {received} rows were returned",
                        )
                    return
                offset = next_offset
        finally:
            if self._client is None:
                client.close()

    def _parse(
        self, response: httpx.Response, data: Any, label: str, offset: int
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
            for key in REQUIRED:
                if item.get(key) is None:
                    raise fail(f"required field '{key}' missing in row {i}", "schema")
            # NULLs are omitted (§4.1), so a renamed column shows up only as a key our SELECT
            # never asked for; SuiteQL returns exactly the selected aliases, lowercased.
            unknown = sorted(set(item) - KNOWN_KEYS)
            if unknown:
                raise fail(
                    f"unexpected field '{unknown[0]}' in row {i} (renamed column?); "
                    f"expected only {', '.join(COLUMNS)}", "schema",
                )
            # Values stay strings as NetSuite returns them; omitted columns are NULL (§4.1).
            rows.append({c: None if item.get(c) is None else str(item[c]) for c in COLUMNS})
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
