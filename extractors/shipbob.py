"""ShipBob v1.0 inventory: one row per inventory item x fulfillment center.

Protocol per vendor_api_facts.md §3.2: GET /1.0/inventory?Page=P&Limit=L&IsActive=true with
`Authorization: Bearer`; the body is a bare JSON array; a `next-page` response header is
present while more pages exist. Rate limit (§3.4): 150 requests/minute sliding window,
`x-remaining-calls`, and on 429 `x-retry-after` (not Retry-After).
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
    same_origin,
)

PATH = "/1.0/inventory"
PAGE_LIMIT = 250  # §3.2: Limit 1..250
MAX_PAGES = 10_000
LOW_REMAINING = 2  # §3.4: with this few calls left in the window, pause before the next one
LOW_REMAINING_PAUSE = 60 / 150  # seconds: one slot of a 150/minute sliding window

COLUMNS: tuple[str, ...] = (
    "inventory_id", "name", "fulfillment_center_id", "fulfillment_center_name",
    "onhand_quantity", "committed_quantity", "fulfillable_quantity", "awaiting_quantity",
    "internal_transfer_quantity",
)
# v1.0 spells it `onhand_quantity` (2025+ says `on_hand_quantity`, §3.2): a rename must fail.
FC_QUANTITIES: tuple[str, ...] = (
    "onhand_quantity", "committed_quantity", "fulfillable_quantity", "awaiting_quantity",
    "internal_transfer_quantity",
)
FC_LIST = "fulfillable_quantity_by_fulfillment_center"


class ShipBobConnector(HttpConnector):
    page_limit = PAGE_LIMIT
    system_id: str
    raw_table = "shipbob_inventory"
    columns = COLUMNS

    def source_as_of(self) -> datetime | None:
        return None  # the v1.0 list carries no as-of; landing uses the finish time

    def pages(self) -> Iterator[Page]:
        token = self.system.credential("token")  # lazily: a missing env var fails the
        self._secrets = (token,)  # snapshot (recorded) rather than the whole cycle
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        headers = {"Authorization": f"Bearer {token}"}  # §3.1
        url: str | httpx.URL = PATH
        params: dict[str, Any] | None = {"Page": 1, "Limit": self.limit, "IsActive": "true"}
        seen: set[str] = set()
        items_seen = 0
        try:
            for n in range(1, MAX_PAGES + 1):
                response = request_with_retries(
                    client, "GET", url, system_id=self.system_id, page=n, headers=headers,
                    params=params, retry_after_header="x-retry-after",  # §3.4
                    sleep=self._sleep, secrets=self._secrets,
                )
                data = parse_json(response, system_id=self.system_id, page=n,
                                  secrets=self._secrets)
                rows = self._rows(response, data, n)
                items_seen += len(data)
                self._check_complete(response, len(data), items_seen, n)
                yield Page(rows, Exchange.from_response(
                    response, attempts=attempts_of(response), secrets=self._secrets
                ), str(n))
                link = response.headers.get("next-page")
                if not link:
                    return  # §3.2: no next-page header = last page
                # next-page is usually relative; resolve it against our configured host.
                # params=None, not {}: httpx would replace the link's query with an empty one.
                url, params = same_origin(self.system.base_url, link), None
                if str(url) in seen:
                    raise self._fail(response, n, f"next-page repeats {link!r}")
                seen.add(str(url))
                self._pace(response)
            raise ExtractionError(self.system_id, "malformed", detail=f"over {MAX_PAGES} pages")
        finally:
            if self._client is None:
                client.close()

    def _check_complete(
        self, response: httpx.Response, received: int, total_seen: int, page: int
    ) -> None:
        """A short page that still links a next page was cut off; `total-count` (commonly
        cited, unverified, §3.2) catches a cut last page when the server sends it."""
        try:
            limit = int(response.request.url.params.get("Limit", str(self.limit)))
        except ValueError:
            limit = self.limit
        if response.headers.get("next-page") and received < limit:
            raise self._fail(
                response, page,
                f"truncated page: {received} items but Limit={limit} and next-page is set",
            )
        total = response.headers.get("total-count", "")
        last_page = not response.headers.get("next-page")
        if last_page and total.isdigit() and total_seen < int(total):
            raise self._fail(
                response, page,
                f"truncated result: total-count {total} but {total_seen} items received",
            )

    def _pace(self, response: httpx.Response) -> None:
        try:
            remaining = int(response.headers.get("x-remaining-calls", ""))
        except ValueError:
            return
        if remaining <= LOW_REMAINING:
            self._sleep(LOW_REMAINING_PAUSE)

    def _rows(self, response: httpx.Response, data: Any, page: int) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise self._fail(response, page, f"expected a JSON array, got {type(data).__name__}")
        rows = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise self._fail(response, page, f"item {i} is not an object")
            for key in ("id", FC_LIST):
                if key not in item:
                    raise self._fail(
                        response, page, f"required field '{key}' missing in item {i}", "schema"
                    )
            centers = item[FC_LIST]
            if not isinstance(item["id"], int) or not isinstance(centers, list):
                raise self._fail(response, page, f"item {i}: id or {FC_LIST} has the wrong type")
            for j, fc in enumerate(centers):
                if not isinstance(fc, dict):
                    raise self._fail(response, page, f"item {i}: {FC_LIST}[{j}] is not an object")
                for key in ("id", *FC_QUANTITIES):
                    if key not in fc:
                        raise self._fail(
                            response, page,
                            f"required field '{key}' missing in item {i} {FC_LIST}[{j}]",
                            "schema",
                        )
                if not isinstance(fc["id"], int):
                    raise self._fail(response, page, f"item {i}: fulfillment center id not int")
                bad = [q for q in FC_QUANTITIES if not isinstance(fc[q], int | None)]
                if bad:
                    raise self._fail(response, page, f"item {i}: {bad[0]} is not an integer")
                rows.append({
                    "inventory_id": item["id"],
                    "name": item.get("name"),
                    "fulfillment_center_id": fc["id"],
                    "fulfillment_center_name": fc.get("name"),
                    **{q: fc[q] for q in FC_QUANTITIES},
                })
        return rows

    def _fail(
        self, response: httpx.Response, page: int | str, detail: str, kind: Kind = "malformed"
    ) -> ExtractionError:
        return malformed(
            response, system_id=self.system_id, page=page, detail=detail, kind=kind,
            secrets=self._secrets,
        )
