"""ShipBob v1.0 inventory: one row per inventory item x fulfillment center, and one
`raw.shipbob_inventory_lots` row per item x lot x fulfillment center.

Protocol per vendor_api_facts.md §3.2: GET /1.0/inventory?Page=P&Limit=L&IsActive=true with
`Authorization: Bearer`; the body is a bare JSON array; a `next-page` response header is
present while more pages exist. Rate limit (§3.4): 150 requests/minute sliding window,
`x-remaining-calls`, and on 429 `x-retry-after` (not Retry-After).
Lots (§3.2, the documented list example): each item's `fulfillable_quantity_by_lot[]` holds
`lot_number`, `expiration_date` (`2019-08-24T14:15:22Z`), lot totals and a nested
`fulfillable_quantity_by_fulfillment_center[]`; the per-center entries are landed, from
the same response as the balances (same snapshot). An item without the key has no lots.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    same_origin,
)
from extractors.side_tables import SidePage, SideTable

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
LOT_LIST = "fulfillable_quantity_by_lot"
LOTS = SideTable("shipbob_inventory_lots", (
    "inventory_id", "lot_number", "expiration_date", "fulfillment_center_id",
    "onhand_quantity", "committed_quantity", "fulfillable_quantity", "awaiting_quantity",
))


class ShipBobConnector(HttpConnector):
    page_limit = PAGE_LIMIT
    system_id: str
    raw_table = "shipbob_inventory"
    columns = COLUMNS
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("inventory_id", "fulfillment_center_id")

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
                rows, lots = self._rows(response, data, n)
                items_seen += len(data)
                self._check_complete(response, len(data), items_seen, n)
                yield SidePage(rows, Exchange.from_response(
                    response, attempts=attempts_of(response), secrets=self._secrets
                ), str(n), {LOTS: lots})
                link = response.headers.get("next-page")
                if not link:
                    return  # §3.2: no next-page header = last page
                pages_total = response.headers.get("total-pages", "")
                if n == 1 and self.max_concurrency > 1 and pages_total.isdigit() \
                        and int(pages_total) >= 2:
                    # Page numbers are random access (§3.2); total-pages (commonly cited,
                    # unverified) says how many: fetch the rest concurrently. Without it
                    # we follow next-page one by one.
                    counted = [items_seen]
                    yield from self._fan_out(self._page_units(headers, int(pages_total),
                                                              counted))
                    total = response.headers.get("total-count", "")
                    if total.isdigit() and counted[0] < int(total):
                        raise ExtractionError(
                            self.system_id, "malformed", page=f"1-{pages_total}",
                            detail=f"truncated result: total-count {total} but "
                            f"{counted[0]} items received")
                    return
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

    def _page_units(self, headers: dict[str, str], pages_total: int,
                    items_seen: list[int]) -> list[Unit]:
        """Pages 2..total-pages; `items_seen[0]` counts items for the caller's total check."""
        throttle = Throttle(self._sleep)
        limit = self.limit
        numbers = list(range(2, pages_total + 1))

        def unit(n: int) -> Unit:
            async def fetch(client: httpx.AsyncClient) -> list[Page]:
                response = await arequest_with_retries(
                    client, "GET", PATH, system_id=self.system_id, page=n, headers=headers,
                    params={"Page": n, "Limit": limit, "IsActive": "true"},
                    retry_after_header="x-retry-after", throttle=throttle,  # §3.4
                    secrets=self._secrets,
                )
                data = parse_json(response, system_id=self.system_id, page=n,
                                  secrets=self._secrets)
                rows, lots = self._rows(response, data, n)
                last = n == numbers[-1]
                if bool(response.headers.get("next-page")) == last:
                    raise self._fail(response, n, f"page {n} of total-pages {pages_total} "
                                     f"{'has' if last else 'lacks'} a next-page header")
                items_seen[0] += len(data)
                # Other pages may still be in flight: the caller checks total-count once
                # every page is in (a huge running total skips the check here).
                self._check_complete(response, len(data), 2**62, n)
                if self._remaining(response) <= LOW_REMAINING:
                    throttle.pause(LOW_REMAINING_PAUSE)  # §3.4: slow every worker
                return [SidePage(rows, Exchange.from_response(
                    response, attempts=attempts_of(response), secrets=self._secrets), str(n),
                    {LOTS: lots})]
            return fetch

        return [unit(n) for n in numbers]

    @staticmethod
    def _remaining(response: httpx.Response) -> int:
        try:
            return int(response.headers.get("x-remaining-calls", ""))
        except ValueError:
            return LOW_REMAINING + 1

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

    def _rows(self, response: httpx.Response, data: Any, page: int
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(balance rows, lot rows) of one page."""
        if not isinstance(data, list):
            raise self._fail(response, page, f"expected a JSON array, got {type(data).__name__}")
        rows: list[dict[str, Any]] = []
        lots: list[dict[str, Any]] = []
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
                self._check_center(response, page, fc, f"item {i} {FC_LIST}[{j}]")
                rows.append({
                    "inventory_id": item["id"],
                    "name": item.get("name"),
                    "fulfillment_center_id": fc["id"],
                    "fulfillment_center_name": fc.get("name"),
                    **{q: fc[q] for q in FC_QUANTITIES},
                })
            lots += self._lot_rows(response, page, item, f"item {i}")
        return rows, lots

    def _lot_rows(self, response: httpx.Response, page: int, item: dict[str, Any],
                  where: str) -> list[dict[str, Any]]:
        lot_list = item.get(LOT_LIST)
        if lot_list is None:
            return []  # not a lot-tracked account/item: nothing to compare
        if not isinstance(lot_list, list):
            raise self._fail(response, page, f"{where}: {LOT_LIST} is not a list")
        out = []
        for k, lot in enumerate(lot_list):
            at = f"{where} {LOT_LIST}[{k}]"
            if not isinstance(lot, dict):
                raise self._fail(response, page, f"{at} is not an object")
            for key in ("lot_number", FC_LIST):
                if key not in lot:
                    raise self._fail(response, page, f"required field '{key}' missing in {at}",
                                     "schema")
            number, expires = lot["lot_number"], lot.get("expiration_date")
            if not isinstance(number, str | None) or not isinstance(expires, str | None) \
                    or not isinstance(lot[FC_LIST], list):
                raise self._fail(response, page, f"{at}: lot_number, expiration_date or "
                                 f"{FC_LIST} has the wrong type")
            for j, fc in enumerate(lot[FC_LIST]):
                self._check_center(response, page, fc, f"{at} {FC_LIST}[{j}]")
                out.append({
                    "inventory_id": item["id"], "lot_number": number,
                    "expiration_date": expires, "fulfillment_center_id": fc["id"],
                    **{q: fc[q] for q in FC_QUANTITIES},
                })
        return out

    def _check_center(self, response: httpx.Response, page: int, fc: Any, where: str) -> None:
        """One `fulfillable_quantity_by_fulfillment_center` entry: id and the five v1.0
        quantities, integers (a 2025+ `on_hand_quantity` is a schema change, §3.2)."""
        if not isinstance(fc, dict):
            raise self._fail(response, page, f"{where} is not an object")
        for key in ("id", *FC_QUANTITIES):
            if key not in fc:
                raise self._fail(response, page, f"required field '{key}' missing in {where}",
                                 "schema")
        if not isinstance(fc["id"], int):
            raise self._fail(response, page, f"{where}: fulfillment center id not int")
        bad = [q for q in FC_QUANTITIES if not isinstance(fc[q], int | None)]
        if bad:
            raise self._fail(response, page, f"{where}: {bad[0]} is not an integer")

    def _fail(
        self, response: httpx.Response, page: int | str, detail: str, kind: Kind = "malformed"
    ) -> ExtractionError:
        return malformed(
            response, system_id=self.system_id, page=page, detail=detail, kind=kind,
            secrets=self._secrets,
        )
