"""Amazon SP-API Listings Items `searchListingsItems`: merchant-fulfilled listing quantities.

`GET /listings/2021-08-01/items/{sellerId}?marketplaceIds=<one>&includedData=summaries,
fulfillmentAvailability&pageSize=20[&pageToken=][&lastUpdatedAfter=]`, header
`x-amz-access-token` (LWA, as for FBA). Answer `{numberOfResults, pagination: {nextToken,
previousToken}, items: [{sku, summaries: [{marketplaceId, asin, productType, itemName,
status: [...], lastUpdatedDate, ...}], fulfillmentAvailability: [{fulfillmentChannelCode,
quantity}]}]}`; `fulfillmentChannelCode` "DEFAULT" is the merchant-fulfilled quantity
(FBA channels carry no quantity here: that is the FBA Inventory API's job).
[DOC: developer-docs.amazon.com/sp-api/reference/searchlistingsitems: usage plan 5 rps,
burst 5; marketplaceIds takes one id (length <= 1); includedData default `summaries`.
SDK model docs (ItemSearchResults, Listings Items 2021-08-01): numberOfResults, pagination
{nextToken, previousToken}, at most 1000 items paged through. Client libraries' parameter
lists: pageSize, pageToken, lastUpdatedAfter. pageSize default 10 / maximum 20: UNVERIFIED
in this repo's sources; `options.page_size` lowers it.]
A seller with more than 1000 listings cannot be read completely here: that fails the
snapshot naming the report to use (GET_MERCHANT_LISTINGS_ALL_DATA) instead of landing a
partial list that would read as missing stock.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from extractors.amazon_fba import AmazonFbaConnector
from extractors.base import Page
from extractors.errors import ExtractionError
from stockdrift.clock import parse_utc

PAGE_SIZE = 20  # maximum pageSize
MAX_RESULTS = 1000  # searchListingsItems pages through at most this many items
COLUMNS: tuple[str, ...] = (
    "marketplace_id", "seller_sku", "asin", "product_type", "item_name", "status",
    "fulfillment_channel_code", "quantity", "last_updated_date",
)


class AmazonMfnConnector(AmazonFbaConnector):
    """Same LWA auth, pacing, retries, marketplaces fan-out and errors as FBA summaries."""

    raw_table = "amazon_mfn_listings"
    columns = COLUMNS
    key_columns: tuple[str, ...] = ("marketplace_id", "seller_sku", "fulfillment_channel_code")
    token_param = "pageToken"
    rate_per_s, burst = 5.0, 5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seller_id = self.system.options.get("seller_id", "")
        self.path = f"/listings/2021-08-01/items/{self.seller_id}"
        requested = int(self.system.options.get("page_size", PAGE_SIZE))
        self.page_size = max(1, min(requested, PAGE_SIZE))
        # Pages are counted in items, not rows (an item has 0..n channel rows).
        self.strict_items, self.strict_pages = self.strict_pages, False

    def pages(self) -> Iterator[Page]:
        if not self.seller_id:
            raise ExtractionError(self.system_id, "schema", detail="options.seller_id is "
                                  "required (the merchant token, Seller Central > Settings > "
                                  "Account Info > Merchant Token)")
        yield from super().pages()

    def _base(self, marketplace: str) -> dict[str, Any]:
        base: dict[str, Any] = {
            "marketplaceIds": marketplace,
            "includedData": "summaries,fulfillmentAvailability",
            "pageSize": self.page_size,
        }
        if self.since is not None:
            base["lastUpdatedAfter"] = self.since.strftime("%Y-%m-%dT%H:%M:%SZ")
        return base

    def _parse(self, response: httpx.Response, data: Any, page: int | str,
               marketplace: str) -> tuple[list[dict[str, Any]], str | None]:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise self._fail(response, page, "field 'items' missing or not a list", "schema")
        total = data.get("numberOfResults")
        if not isinstance(total, int):
            raise self._fail(response, page, "field 'numberOfResults' missing", "schema")
        if total > MAX_RESULTS:
            raise self._fail(response, page, f"numberOfResults {total} exceeds the "
                             f"{MAX_RESULTS} items searchListingsItems pages through; read "
                             "this seller with the GET_MERCHANT_LISTINGS_ALL_DATA report",
                             "http_status")
        pagination = data.get("pagination") or {}
        token = pagination.get("nextToken") if isinstance(pagination, dict) else None
        if self.strict_items and token and len(data["items"]) < self.page_size:
            raise self._fail(response, page, f"truncated page: {len(data['items'])} items "
                             f"but pageSize={self.page_size} and a nextToken follows")
        rows: list[dict[str, Any]] = []
        for i, item in enumerate(data["items"]):
            rows += self._item_rows(response, item, i, page, marketplace)
        return rows, (str(token) if token else None)

    def _item_rows(self, response: httpx.Response, item: Any, i: int, page: int | str,
                   marketplace: str) -> list[dict[str, Any]]:
        if not isinstance(item, dict) or "sku" not in item:
            raise self._fail(response, page, f"required field 'sku' missing in items[{i}]",
                             "schema")
        if "fulfillmentAvailability" not in item or "summaries" not in item:
            missing = "fulfillmentAvailability" if "summaries" in item else "summaries"
            raise self._fail(response, page, f"required field '{missing}' missing in "
                             f"items[{i}] (asked for with includedData)", "schema")
        summary = next((s for s in item["summaries"] or [] if isinstance(s, dict)
                        and s.get("marketplaceId") == marketplace), {})
        status = summary.get("status")
        updated = summary.get("lastUpdatedDate")
        self._track(updated)
        rows = []
        for j, fa in enumerate(item["fulfillmentAvailability"] or []):
            if not isinstance(fa, dict) or "fulfillmentChannelCode" not in fa:
                raise self._fail(response, page, f"required field 'fulfillmentChannelCode' "
                                 f"missing in items[{i}].fulfillmentAvailability[{j}]",
                                 "schema")
            quantity = fa.get("quantity")
            if quantity is not None and not isinstance(quantity, int):
                raise self._fail(response, page, f"items[{i}].fulfillmentAvailability[{j}]"
                                 f".quantity {quantity!r} is not an integer")
            rows.append({
                "marketplace_id": marketplace, "seller_sku": str(item["sku"]),
                "asin": summary.get("asin"), "product_type": summary.get("productType"),
                "item_name": summary.get("itemName"),
                "status": ",".join(status) if isinstance(status, list) else status,
                "fulfillment_channel_code": str(fa["fulfillmentChannelCode"]),
                "quantity": quantity, "last_updated_date": updated,
            })
        return rows

    def _track(self, value: Any) -> None:
        if not value:
            return
        try:
            when = parse_utc(str(value))
        except ValueError:
            return
        if self.high_water_mark is None or when > self.high_water_mark:
            self.high_water_mark = when
