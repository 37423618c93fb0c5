"""The fake vendor servers over HTTP: paging, auth failures, rate limits, fault modes."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import timedelta

import httpx
import pytest

from sandbox.catalog import ALL_LOCATIONS
from sandbox.serve import SANDBOX_TOKENS, FaultMode, SandboxServers
from sandbox.servers.shipbob import SlidingWindow
from sandbox.world import World
from stockdrift.clock import ManualClock

Q = {"q": "SELECT iil.item, i.itemid FROM inventoryitemlocations iil JOIN item i "
          "ON i.id = iil.item ORDER BY iil.item, iil.location"}
NS_HEADERS = {"Authorization": f"Bearer {SANDBOX_TOKENS['erp']}", "Prefer": "transient"}
SHOP_HEADERS = {"X-Shopify-Access-Token": SANDBOX_TOKENS["shopify"]}
SB_HEADERS = {"Authorization": f"Bearer {SANDBOX_TOKENS['shipbob']}"}
LINK = re.compile(r'<([^>]+)>; rel="(next|previous)"')


ERP_ROWS = 31 * len(ALL_LOCATIONS)   # every SKU (with the unmapped one) x ERP location


def suiteql(servers: SandboxServers, http: httpx.Client, query: str = "",
            headers: dict[str, str] | None = None, body: object = Q) -> httpx.Response:
    url = f"{servers.base_urls['erp']}/services/rest/query/v1/suiteql{query}"
    return http.post(url, json=body, headers=NS_HEADERS if headers is None else headers)


def ns_code(resp: httpx.Response) -> str:
    body = resp.json()
    assert set(body) == {"type", "title", "status", "o:errorDetails"}
    assert body["status"] == resp.status_code
    return str(body["o:errorDetails"][0]["o:errorCode"])


# ---- NetSuite SuiteQL ---------------------------------------------------------------------
def test_netsuite_pages_follow_next_links(servers: SandboxServers, http: httpx.Client,
                                          world: World) -> None:
    url = f"{servers.base_urls['erp']}/services/rest/query/v1/suiteql?limit=25&offset=0"
    rows, pages = [], 0
    while url:
        resp = http.post(url, json=Q, headers=NS_HEADERS)
        assert resp.status_code == 200
        body = resp.json()
        assert list(body) == ["links", "count", "hasMore", "items", "offset", "totalResults"]
        assert body["count"] == len(body["items"]) and body["totalResults"] == ERP_ROWS
        rels = {link["rel"]: link["href"] for link in body["links"]}
        assert "self" in rels and ("next" in rels) == body["hasMore"]
        rows += body["items"]
        pages += 1
        url = rels.get("next", "")
    assert pages == -(-ERP_ROWS // 25) and len(rows) == ERP_ROWS
    assert all(r["links"] == [] and isinstance(r["quantityonhand"], str) for r in rows)
    assert [{k: v for k, v in r.items() if k != "links"} for r in rows] == world.erp_rows()


def test_netsuite_default_page_is_everything(servers: SandboxServers,
                                             http: httpx.Client) -> None:
    body = suiteql(servers, http).json()
    assert (body["count"], body["hasMore"], body["offset"]) == (ERP_ROWS, False, 0)
    assert [link["rel"] for link in body["links"]] == ["self"]


def test_netsuite_auth_and_request_errors(servers: SandboxServers, http: httpx.Client) -> None:
    resp = suiteql(servers, http, headers={"Prefer": "transient"})
    assert resp.status_code == 401 and ns_code(resp) == "INVALID_LOGIN"
    resp = suiteql(servers, http, headers={**NS_HEADERS, "Authorization": "Bearer wrong"})
    assert resp.status_code == 401 and ns_code(resp) == "INVALID_LOGIN"
    resp = suiteql(servers, http, headers={"Authorization": NS_HEADERS["Authorization"]})
    assert resp.status_code == 400 and ns_code(resp) == "INVALID_PARAMETER"
    resp = suiteql(servers, http, body={"q": "SELECT id FROM customer"})
    assert resp.status_code == 400 and ns_code(resp) == "INVALID_PARAMETER"
    assert resp.json()["o:errorDetails"][0]["detail"].startswith("Invalid search query")
    for query in ("?limit=1001", "?limit=0", "?limit=25&offset=10", "?limit=x"):
        resp = suiteql(servers, http, query)
        assert resp.status_code == 400 and ns_code(resp) == "INVALID_PARAMETER", query
    assert suiteql(servers, http, "?limit=1000").status_code == 200
    past_end = suiteql(servers, http, "?limit=50&offset=250").json()
    assert (past_end["count"], past_end["hasMore"], past_end["items"]) == (0, False, [])


# ---- Shopify REST -------------------------------------------------------------------------
def shop(servers: SandboxServers, resource: str) -> str:
    return f"{servers.base_urls['shopify']}/admin/api/2024-04/{resource}"


def test_shopify_levels_link_paging(servers: SandboxServers, http: httpx.Client,
                                    world: World) -> None:
    url = shop(servers, "inventory_levels.json?location_ids=655441491,487838322&limit=25")
    levels, links = [], []
    while url:
        resp = http.get(url, headers=SHOP_HEADERS)
        assert resp.status_code == 200
        assert re.fullmatch(r"\d+/40", resp.headers["X-Shopify-Shop-Api-Call-Limit"])
        assert resp.headers["X-Shopify-API-Version"] == "2024-04"
        levels += resp.json()["inventory_levels"]
        rels = dict((rel, href) for href, rel in LINK.findall(resp.headers.get("link", "")))
        links.append(sorted(rels))
        url = rels.get("next", "")
    assert links == [["next"], ["next", "previous"], ["previous"]]
    assert len(levels) == 64     # 31 SKUs and the kit at two locations
    level = levels[0]
    assert isinstance(level["available"], int)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[45]:00", level["updated_at"])
    assert level["admin_graphql_api_id"].startswith("gid://shopify/InventoryLevel/")
    cursor = url or LINK.findall(resp.headers["link"])[0][0].split("page_info=")[1]
    assert base64.urlsafe_b64decode(cursor.split("&")[0] + "==")   # opaque but decodable
    assert len(world.shopify_levels()) == 64


def test_shopify_single_page_has_no_link(servers: SandboxServers, http: httpx.Client) -> None:
    resp = http.get(shop(servers, "inventory_levels.json?inventory_item_ids=49148385"),
                    headers=SHOP_HEADERS)
    assert resp.status_code == 200 and "link" not in resp.headers
    assert {lv["location_id"] for lv in resp.json()["inventory_levels"]} == {487838322,
                                                                             655441491}


def test_shopify_filter_and_page_info_rules(servers: SandboxServers,
                                            http: httpx.Client) -> None:
    resp = http.get(shop(servers, "inventory_levels.json?limit=10"), headers=SHOP_HEADERS)
    assert resp.status_code == 422 and "base" in resp.json()["errors"]
    first = http.get(shop(servers, "inventory_levels.json?location_ids=655441491&limit=10"),
                     headers=SHOP_HEADERS)
    next_url = LINK.findall(first.headers["link"])[0][0]
    resp = http.get(next_url + "&location_ids=655441491", headers=SHOP_HEADERS)
    assert resp.status_code == 400 and "location_ids" in resp.json()["errors"]
    resp = http.get(shop(servers, "inventory_levels.json?page_info=garbage"),
                    headers=SHOP_HEADERS)
    assert resp.status_code == 400 and "errors" in resp.json()
    assert http.get(next_url, headers=SHOP_HEADERS).status_code == 200


def test_shopify_updated_at_min(servers: SandboxServers, http: httpx.Client,
                                clock: ManualClock) -> None:
    start = clock.now()
    clock.advance(timedelta(minutes=30))
    since = start.isoformat()
    resp = http.get(shop(servers, "inventory_levels.json"), headers=SHOP_HEADERS, params={
        "location_ids": "655441491,487838322", "updated_at_min": since, "limit": 250})
    changed = resp.json()["inventory_levels"]
    assert 0 < len(changed) < 62


def test_shopify_items_and_locations(servers: SandboxServers, http: httpx.Client) -> None:
    resp = http.get(shop(servers, "inventory_items.json?ids=49148385,49149385"),
                    headers=SHOP_HEADERS)
    assert [i["sku"] for i in resp.json()["inventory_items"]] == ["SD-1001", "SD-1002"]
    assert http.get(shop(servers, "inventory_items.json"),
                    headers=SHOP_HEADERS).status_code == 422
    locations = http.get(shop(servers, "locations.json"), headers=SHOP_HEADERS).json()
    assert {loc["id"] for loc in locations["locations"]} == {655441491, 487838322}
    assert http.get(shop(servers, "orders.json"), headers=SHOP_HEADERS).json() == {
        "errors": "Not Found"}


def test_shopify_auth_failure(servers: SandboxServers, http: httpx.Client) -> None:
    resp = http.get(shop(servers, "locations.json"), headers={"X-Shopify-Access-Token": "nope"})
    assert resp.status_code == 401
    assert resp.json() == {"errors": "[API] Invalid API key or access token "
                                     "(unrecognized login or wrong password)"}
    assert "X-Shopify-Shop-Api-Call-Limit" in resp.headers


def test_shopify_leaky_bucket_429(servers: SandboxServers, http: httpx.Client) -> None:
    statuses = []
    for _ in range(60):
        resp = http.get(shop(servers, "locations.json"), headers=SHOP_HEADERS)
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert resp.headers["Retry-After"] == "2.0"
            assert resp.headers["X-Shopify-Shop-Api-Call-Limit"] == "40/40"
            assert resp.json()["errors"].startswith("Exceeded 2 calls per second")
            break
    assert statuses[-1] == 429 and statuses.count(200) >= 40


# ---- ShipBob v1.0 -------------------------------------------------------------------------
def test_shipbob_pages_via_next_page(servers: SandboxServers, http: httpx.Client) -> None:
    base = servers.base_urls["shipbob"]
    url = f"{base}/1.0/inventory?Page=1&Limit=10&IsActive=true"
    items, pages = [], []
    while url:
        resp = http.get(url, headers=SB_HEADERS)
        assert resp.status_code == 200 and isinstance(resp.json(), list)
        assert resp.headers["total-count"] == "31" and resp.headers["total-pages"] == "4"
        pages.append(resp.headers["page-number"])
        items += resp.json()
        url = base + resp.headers["next-page"] if "next-page" in resp.headers else ""
    assert pages == ["1", "2", "3", "4"] and len(items) == 31
    assert int(resp.headers["x-remaining-calls"]) == 150 - 4
    fc = items[0]["fulfillable_quantity_by_fulfillment_center"][0]
    assert (fc["id"], fc["name"]) == (10, "Cicero (IL)")


def test_shipbob_request_errors(servers: SandboxServers, http: httpx.Client) -> None:
    base = servers.base_urls["shipbob"]
    assert http.get(f"{base}/1.0/inventory").status_code == 401
    for query in ("Limit=0", "Limit=251", "IsActive=maybe"):
        resp = http.get(f"{base}/1.0/inventory?{query}", headers=SB_HEADERS)
        assert resp.status_code == 400, query
    assert len(http.get(f"{base}/1.0/inventory", headers=SB_HEADERS).json()) == 31   # default


def test_shipbob_sliding_window_429(servers: SandboxServers, http: httpx.Client) -> None:
    app = servers.apps["shipbob"]
    app.window = SlidingWindow(limit=3, window_s=60)   # type: ignore[attr-defined]
    url = f"{servers.base_urls['shipbob']}/1.0/inventory?Limit=1"
    remaining = [http.get(url, headers=SB_HEADERS).headers["x-remaining-calls"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    resp = http.get(url, headers=SB_HEADERS)
    assert resp.status_code == 429 and resp.headers["x-remaining-calls"] == "0"
    wait = int(resp.headers["x-retry-after"])
    assert 50 <= wait <= 60
    assert resp.json() == {"statusCode": 429,
                           "message": f"Rate limit is exceeded. Try again in {wait} seconds."}


# ---- fault modes and plumbing --------------------------------------------------------------
def test_fault_modes_count_and_skip(servers: SandboxServers, http: httpx.Client) -> None:
    servers.set_fault("erp", FaultMode("status_500", count=1, skip=1))
    assert suiteql(servers, http).status_code == 200
    resp = suiteql(servers, http)
    assert resp.status_code == 500 and ns_code(resp) == "UNEXPECTED_ERROR"
    assert suiteql(servers, http).status_code == 200
    servers.set_fault("erp", FaultMode("status_429"))
    resp = suiteql(servers, http)
    assert resp.status_code == 429 and ns_code(resp) == "CONCURRENCY_LIMIT_EXCEEDED"
    servers.set_fault("erp", None)
    assert suiteql(servers, http).status_code == 200
    assert servers.requests_served["erp"] == 5


def test_fault_mode_bodies(servers: SandboxServers, http: httpx.Client) -> None:
    servers.set_fault("erp", FaultMode("truncated_page", count=1))
    body = suiteql(servers, http, "?limit=20").json()
    assert body["count"] == 20 and len(body["items"]) == 10 and body["hasMore"]
    servers.set_fault("shopify", FaultMode("malformed_body", count=1))
    resp = http.get(shop(servers, "locations.json"), headers=SHOP_HEADERS)
    assert resp.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        resp.json()
    servers.set_fault("shopify", FaultMode("expired_token", count=1))
    assert http.get(shop(servers, "locations.json"), headers=SHOP_HEADERS).status_code == 401
    servers.set_fault("shipbob", FaultMode("renamed_field"))
    item = http.get(f"{servers.base_urls['shipbob']}/1.0/inventory",
                    headers=SB_HEADERS).json()[0]
    assert "total_on_hand_quantity" in item and "total_onhand_quantity" not in item
    assert "on_hand_quantity" in item["fulfillable_quantity_by_fulfillment_center"][0]
    servers.set_fault("shipbob", FaultMode("slow", count=1, delay_s=0.3))
    began = time.monotonic()
    assert http.get(f"{servers.base_urls['shipbob']}/1.0/inventory",
                    headers=SB_HEADERS).status_code == 200
    assert time.monotonic() - began >= 0.3


def test_requests_advance_the_world_to_the_clock(servers: SandboxServers, http: httpx.Client,
                                                 clock: ManualClock, world: World) -> None:
    clock.advance(timedelta(minutes=17, seconds=20))
    http.get(shop(servers, "locations.json"), headers=SHOP_HEADERS)
    assert world.now == clock.now() - timedelta(seconds=20)
