"""Small fake vendors for httpx.MockTransport, reproducing the documented responses
(vendor_api_facts.md §1.2-1.6 Shopify, §3 ShipBob, §4.1 NetSuite)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from stockdrift.config import SystemConfig

NETSUITE_TOKEN = "ns-secret-token-123"
SHOPIFY_TOKEN = "shpat_secret_abc123"
SHIPBOB_TOKEN = "sb-secret-pat-xyz"
TOKENS_ENV = {
    "NETSUITE_TOKEN": NETSUITE_TOKEN,
    "SHOPIFY_ACCESS_TOKEN": SHOPIFY_TOKEN,
    "SHIPBOB_TOKEN": SHIPBOB_TOKEN,
}

Handler = Callable[[httpx.Request], httpx.Response]


def js(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), headers={
        "content-type": "application/json; charset=utf-8", **(headers or {}),
    })


@dataclass
class Script:
    """Wraps a handler: records requests and lets a test inject failures per request number.

    `failures` maps a 1-based request number to a response returned instead of the real one;
    `failures_for` maps a path fragment to a list of responses consumed before the real one.
    """

    handler: Handler
    failures: dict[int, httpx.Response | Exception] = field(default_factory=dict)
    failures_for: dict[str, list[httpx.Response | Exception]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        injected = self.failures.get(len(self.requests))
        for fragment, queue in self.failures_for.items():
            if injected is None and fragment in str(request.url) and queue:
                injected = queue.pop(0)
        if isinstance(injected, Exception):
            raise injected
        if injected is not None:
            return injected
        return self.handler(request)

    def client(self, base_url: str) -> httpx.Client:
        return httpx.Client(base_url=base_url, transport=httpx.MockTransport(self))


# --- NetSuite SuiteQL (§4.1) -------------------------------------------------------------

NS_BASE = "https://1234567.suitetalk.api.netsuite.com"


def ns_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "links": [], "item": str(100 + i // 2), "itemid": f"SD-{1001 + i // 2}",
            "location": str(1 + i % 2), "location_name": ["East DC", "ShipBob Cicero"][i % 2],
            "quantityonhand": str(10 + i), "quantityavailable": str(8 + i),
            "quantitycommitted": "2", "averagecost": "12.5",
        }
        # quantityonorder NULL -> omitted from the row (§4.1)
        rows.append(row)
    return rows


def netsuite_handler(rows: list[dict[str, Any]], token: str = NETSUITE_TOKEN) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return js(401, {
                "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
                "title": "Unauthorized", "status": 401,
                "o:errorDetails": [{"detail": "Invalid login attempt. For more details, see the "
                                    "Login Audit Trail in the NetSuite UI at Setup > Users/Roles "
                                    "> User Management > View Login Audit Trail.",
                                    "o:errorCode": "INVALID_LOGIN"}],
            }, {"x-request-id": "ns-req-1"})
        if request.headers.get("prefer") != "transient" or request.method != "POST":
            return js(400, {"title": "Bad Request", "status": 400, "o:errorDetails": [
                {"detail": "Prefer: transient required", "o:errorCode": "INVALID_PARAMETER"}]})
        limit = int(request.url.params.get("limit", "1000"))
        offset = int(request.url.params.get("offset", "0"))
        assert json.loads(request.content)["q"].startswith("SELECT iil.item")
        items = rows[offset : offset + limit]
        has_more = offset + limit < len(rows)
        self_href = f"{NS_BASE}/services/rest/query/v1/suiteql?limit={limit}&offset={offset}"
        links = [{"rel": "self", "href": self_href}]
        if has_more:
            links.insert(0, {"rel": "next", "href": f"{NS_BASE}/services/rest/query/v1/suiteql"
                                                    f"?limit={limit}&offset={offset + limit}"})
        return js(200, {"links": links, "count": len(items), "hasMore": has_more,
                        "items": items, "offset": offset, "totalResults": len(rows)})
    return handle


# --- Shopify REST (§1.2-1.6) -------------------------------------------------------------

SHOP_BASE = "https://stockdrift-test.myshopify.com"
SHOP_PREFIX = "/admin/api/2024-04"
SHOPIFY_401 = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
               "password)"}
SHOPIFY_429 = {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
               "resume uninterrupted service."}


@dataclass
class ShopifyData:
    locations: list[int] = field(default_factory=lambda: [655441491, 487838322])
    items: dict[int, str | None] = field(default_factory=lambda: {
        49148385: "SD-1001", 808950810: "SD-1002", 457924702: "SD-1003"})
    call_limit: str = "1/40"

    def levels(self) -> list[dict[str, Any]]:
        out = []
        for loc in self.locations:
            for k, item in enumerate(self.items):
                out.append({
                    "inventory_item_id": item, "location_id": loc, "available": k + 1,
                    "updated_at": f"2024-04-02T08:5{k}:04-05:00",
                    "admin_graphql_api_id":
                        f"gid://shopify/InventoryLevel/{loc}?inventory_item_id={item}",
                })
        return out


def shopify_handler(data: ShopifyData, token: str = SHOPIFY_TOKEN) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        headers = {"X-Shopify-Shop-Api-Call-Limit": data.call_limit,
                   "X-Request-Id": "shop-req-9", "X-Shopify-API-Version": "2024-04"}
        if request.headers.get("x-shopify-access-token") != token:
            return js(401, SHOPIFY_401, headers)
        path, params = request.url.path, request.url.params
        if path == f"{SHOP_PREFIX}/locations.json":
            return js(200, {"locations": [
                {"id": loc, "name": f"Loc {loc}", "active": True, "legacy": False}
                for loc in data.locations]}, headers)
        if path == f"{SHOP_PREFIX}/inventory_levels.json":
            limit = int(params.get("limit", "50"))  # §1.4: default 50, max 250
            if "page_info" in params:
                assert set(params) <= {"page_info", "limit"}, "§1.4: no filters with page_info"
                start = int(params["page_info"].removeprefix("cursor"))
                loc_ids = {int(x) for x in data.locations}
            else:
                assert "location_ids" in params, "§1.2: a filter is required"
                start = 0
                loc_ids = {int(x) for x in params["location_ids"].split(",")}
            levels = [lv for lv in data.levels() if lv["location_id"] in loc_ids]
            chunk = levels[start : start + limit]
            if start + limit < len(levels):
                nxt = (f"{SHOP_BASE}{SHOP_PREFIX}/inventory_levels.json?limit={limit}"
                       f"&page_info=cursor{start + limit}")
                headers["Link"] = f'<{nxt}>; rel="next"'
            return js(200, {"inventory_levels": chunk}, headers)
        if path == f"{SHOP_PREFIX}/inventory_items.json":
            ids = [int(x) for x in params["ids"].split(",")]
            assert len(ids) <= 250
            return js(200, {"inventory_items": [
                {"id": i, "sku": data.items[i], "tracked": True, "cost": "25.00",
                 "created_at": "2024-04-02T09:28:43-05:00"} for i in ids if i in data.items
            ]}, headers)
        return js(404, {"errors": "Not Found"}, headers)
    return handle


# --- ShipBob v1.0 (§3.2, §3.4) ---------------------------------------------------------

SB_BASE = "https://sandbox-api.shipbob.com"


def sb_items(n: int) -> list[dict[str, Any]]:
    return [{
        "id": 880000 + i, "name": f"Item {i}", "is_active": True, "is_lot": False,
        "total_onhand_quantity": 10 + i,
        "fulfillable_quantity_by_fulfillment_center": [
            {"id": 10, "name": "Cicero (IL)", "onhand_quantity": 10 + i, "committed_quantity": 1,
             "fulfillable_quantity": 9 + i, "awaiting_quantity": 0,
             "internal_transfer_quantity": 0},
        ] + ([{"id": 228, "name": "Moreno Valley (CA)", "onhand_quantity": 3,
               "committed_quantity": 0, "fulfillable_quantity": 3, "awaiting_quantity": 2,
               "internal_transfer_quantity": 1}] if i % 2 else []),
        "fulfillable_quantity_by_lot": [],
    } for i in range(n)]


def shipbob_handler(items: list[dict[str, Any]], token: str = SHIPBOB_TOKEN,
                    remaining: int = 140) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        headers = {"x-remaining-calls": str(remaining)}
        if request.headers.get("authorization") != f"Bearer {token}":
            return httpx.Response(401, content=b"", headers=headers)
        page = int(request.url.params.get("Page", "1"))
        limit = int(request.url.params.get("Limit", "50"))
        assert request.url.params.get("IsActive") == "true"
        chunk = items[(page - 1) * limit : page * limit]
        if page * limit < len(items):
            headers["next-page"] = f"/1.0/inventory?Page={page + 1}&Limit={limit}&IsActive=true"
        return js(200, chunk, headers)
    return handle


# --- configs and a recording sleep -------------------------------------------------------

def make_system(kind: str, **options: str) -> SystemConfig:
    base: dict[str, Any] = {
        "netsuite": dict(id="erp", role="erp", connector="netsuite_suiteql", base_url=NS_BASE,
                         credentials={"token": "NETSUITE_TOKEN"}),
        "shopify": dict(id="shopify", role="storefront", connector="shopify_rest",
                        base_url=SHOP_BASE, credentials={"access_token": "SHOPIFY_ACCESS_TOKEN"}),
        "shipbob": dict(id="shipbob", role="3pl", connector="shipbob", base_url=SB_BASE,
                        credentials={"token": "SHIPBOB_TOKEN"}),
    }[kind]
    return SystemConfig(freshness_target_minutes=5, options=options, **base)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)
