from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from extract_vendors import (
    SHOP_BASE,
    SHOP_PREFIX,
    SHOPIFY_429,
    SHOPIFY_TOKEN,
    Script,
    ShopifyData,
    Sleeps,
    js,
    make_system,
    shopify_handler,
)

from extractors.base import Page
from extractors.errors import ExtractionError
from extractors.shopify import ShopifyConnector


def connector(script: Script, sleeps: Sleeps) -> ShopifyConnector:
    system = make_system("shopify", page_size="4")
    return ShopifyConnector(system, script.client(SHOP_BASE), sleep=sleeps)


def run(script: Script, sleeps: Sleeps) -> list[Page]:
    return list(connector(script, sleeps).pages())


def failure(script: Script, sleeps: Sleeps) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        run(script, sleeps)
    return info.value


def test_locations_levels_with_link_paging_then_skus(sleeps: Sleeps) -> None:
    data = ShopifyData()
    script = Script(shopify_handler(data))
    conn = connector(script, sleeps)
    pages = list(conn.pages())
    paths = [(r.url.path.rsplit("/", 1)[1], dict(r.url.params)) for r in script.requests]
    assert paths[0] == ("locations.json", {})
    assert paths[1] == ("inventory_levels.json",
                        {"location_ids": "655441491,487838322", "limit": "4"})
    # Link rel=next followed exactly as given (no other filters with page_info, §1.4)
    assert paths[2] == ("inventory_levels.json", {"limit": "4", "page_info": "cursor4"})
    assert paths[3][0] == "inventory_items.json"
    assert paths[3][1]["ids"] == "49148385,808950810,457924702"
    assert all(r.headers["x-shopify-access-token"] == SHOPIFY_TOKEN for r in script.requests)
    # one Page per exchange; rows ride on the items page that resolved their sku
    assert [len(p.rows) for p in pages] == [0, 0, 0, 6]
    assert [p.label for p in pages] == ["locations", "1", "2", "items 1"]
    rows = pages[-1].rows
    assert {(r["inventory_item_id"], r["location_id"], r["sku"]) for r in rows} >= {
        (49148385, 655441491, "SD-1001"), (457924702, 487838322, "SD-1003")}
    assert rows[0]["updated_at"] == "2024-04-02T08:50:04-05:00"  # as returned
    assert conn.source_as_of() is None  # live levels: as of the request
    assert conn.newest_level_change == datetime(2024, 4, 2, 13, 52, 4, tzinfo=UTC)
    assert not any(SHOPIFY_TOKEN in repr(p.exchange) for p in pages)


def test_many_locations_are_batched_by_50(sleeps: Sleeps) -> None:
    data = ShopifyData(locations=list(range(1, 121)), items={7: "A"})
    script = Script(shopify_handler(data))
    conn = ShopifyConnector(make_system("shopify"), script.client(SHOP_BASE), sleep=sleeps)
    rows = [r for p in conn.pages() for r in p.rows]
    batches = [r.url.params["location_ids"].count(",") + 1 for r in script.requests
               if "inventory_levels" in r.url.path]
    assert batches == [50, 50, 20] and len(rows) == 120


def test_item_without_sku_kept_missing_item_fails(sleeps: Sleeps) -> None:
    data = ShopifyData(items={1: None, 2: "B"})
    rows = [r for p in run(Script(shopify_handler(data)), sleeps) for r in p.rows]
    assert {r["sku"] for r in rows} == {None, "B"}
    handler = shopify_handler(data)

    def drop_item_2(request: httpx.Request) -> httpx.Response:
        if "inventory_items" in request.url.path:
            return js(200, {"inventory_items": [{"id": 1, "sku": None}]})
        return handler(request)

    err = failure(Script(drop_item_2), sleeps)
    assert "inventory_items lacks 1 of 2 requested ids (first: 2)" in str(err)


def test_short_page_with_next_link_is_truncated(sleeps: Sleeps) -> None:
    handler = shopify_handler(ShopifyData())

    def short(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if "Link" in response.headers:
            body = response.json()
            body["inventory_levels"] = body["inventory_levels"][:1]
            return js(200, body, dict(response.headers))
        return response

    err = failure(Script(short), sleeps)
    assert "truncated page: 1 rows but limit=4" in str(err)


def test_no_levels_is_an_empty_snapshot(sleeps: Sleeps) -> None:
    conn = connector(Script(shopify_handler(ShopifyData(items={}))), sleeps)
    pages = list(conn.pages())
    assert [p.rows for p in pages] == [[], []] and conn.source_as_of() is None


def test_401(sleeps: Sleeps) -> None:
    err = failure(Script(shopify_handler(ShopifyData(), token="nope")), sleeps)
    assert err.kind == "auth" and err.page == 1 and err.request_id == "shop-req-9"
    assert "[API] Invalid API key or access token" in str(err)
    assert str(err).startswith("shopify: HTTP 401 (authentication/permission) from GET "
                               "/admin/api/2024-04/locations.json (page 1)")


def test_429_retry_after_honoured(sleeps: Sleeps) -> None:
    throttled = js(429, SHOPIFY_429, {"Retry-After": "2.0",
                                      "X-Shopify-Shop-Api-Call-Limit": "40/40"})
    script = Script(shopify_handler(ShopifyData()), failures={3: throttled})
    pages = run(script, sleeps)
    assert sum(len(p.rows) for p in pages) == 6
    assert sleeps == [2.0] and pages[2].exchange.attempts == 2


def test_busy_bucket_slows_down(sleeps: Sleeps) -> None:
    run(Script(shopify_handler(ShopifyData(call_limit="38/40"))), sleeps)
    assert sleeps == [4.0] * 4  # drain 38 -> 30 at 2 requests/second (§1.5)


def test_500_retried_then_success(sleeps: Sleeps) -> None:
    script = Script(shopify_handler(ShopifyData()),
                    failures_for={"inventory_items": [js(500, {"errors": "Internal"})]})
    assert sum(len(p.rows) for p in run(script, sleeps)) == 6


def test_500_forever_on_page_2(sleeps: Sleeps) -> None:
    script = Script(shopify_handler(ShopifyData()),
                    failures_for={"page_info": [js(500, {"errors": "Internal"})] * 5})
    err = failure(script, sleeps)
    assert err.attempts == 5 and err.page == 2
    assert "inventory_levels.json?limit=4&page_info=cursor4 (page 2): Internal" in str(err)


def test_timeout(sleeps: Sleeps) -> None:
    script = Script(shopify_handler(ShopifyData()),
                    failures={i: httpx.ConnectTimeout("slow") for i in range(1, 6)})
    assert failure(script, sleeps).kind == "timeout"


def test_malformed_json(sleeps: Sleeps) -> None:
    script = Script(shopify_handler(ShopifyData()),
                    failures={2: httpx.Response(200, content=b"<html>maintenance</html>")})
    err = failure(script, sleeps)
    assert err.kind == "malformed" and "inventory_levels.json" in err.url


def test_renamed_field(sleeps: Sleeps) -> None:
    handler = shopify_handler(ShopifyData())

    def renamed(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if "inventory_levels" in request.url.path:
            body = response.json()
            for level in body["inventory_levels"]:
                level["quantity"] = level.pop("available")
            return js(200, body)
        return response

    err = failure(Script(renamed), sleeps)
    assert err.kind == "schema"
    assert "required field 'available' missing in inventory_levels[0]" in str(err)


def test_missing_envelope_key(sleeps: Sleeps) -> None:
    script = Script(shopify_handler(ShopifyData()), failures={1: js(200, {"location": []})})
    err = failure(script, sleeps)
    assert err.kind == "schema" and "field 'locations' missing" in str(err)


def test_link_host_is_not_trusted(sleeps: Sleeps) -> None:
    handler = shopify_handler(ShopifyData())

    def evil(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        link = response.headers.get("Link")
        if link:
            response.headers["Link"] = link.replace(SHOP_BASE, "https://evil.example")
        return response

    script = Script(evil)
    run(script, sleeps)
    assert {r.url.host for r in script.requests} == {"stockdrift-test.myshopify.com"}
    assert SHOP_PREFIX in script.requests[2].url.path
