from __future__ import annotations

import httpx
import pytest
from extract_vendors import SHOPIFY_401, Script, Sleeps, js

from extractors.errors import ExtractionError, redact
from extractors.http import (
    attempts_of,
    parse_vendor_error,
    request_with_retries,
    same_origin,
)

BASE = "https://shop.example"


def call(script: Script, sleeps: Sleeps, **kw: object) -> httpx.Response:
    with script.client(BASE) as client:
        return request_with_retries(
            client, "GET", "/admin/api/2024-04/x.json", system_id="shopify", page=3,
            sleep=sleeps, **kw,  # type: ignore[arg-type]
        )


def test_redact_longest_first() -> None:
    assert redact("token=abc123 and abc", ["abc", "abc123"]) == "token=*** and ***"
    assert redact("nothing", ["", "x"]) == "nothing"


def test_parse_vendor_errors_from_each_vendor() -> None:
    ns = b'{"title":"Bad Request","status":400,"o:errorDetails":[{"detail":"Invalid search ' \
         b'query.","o:errorCode":"INVALID_PARAMETER"}]}'
    assert parse_vendor_error(ns) == ("INVALID_PARAMETER", "Invalid search query.")
    assert parse_vendor_error(b'{"errors":{"ids":["is invalid"]}}') == (None, "ids: is invalid")
    sb = b'{"statusCode":429,"message":"Rate limit is exceeded. Try again in 25 seconds."}'
    assert parse_vendor_error(sb)[1] == "Rate limit is exceeded. Try again in 25 seconds."
    html = b"<html>  Bad\n gateway </html>"
    assert parse_vendor_error(html) == (None, "<html> Bad gateway </html>")


def test_401_not_retried_message_is_actionable(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(401, SHOPIFY_401, {"X-Request-Id": "req-7"}))
    with pytest.raises(ExtractionError) as info:
        call(script, sleeps)
    err = info.value
    assert len(script.requests) == 1 and err.attempts == 1
    assert (err.kind, err.status_code, err.request_id, err.page) == ("auth", 401, "req-7", 3)
    assert str(err) == (
        "shopify: HTTP 401 (authentication/permission) from GET /admin/api/2024-04/x.json "
        "(page 3): [API] Invalid API key or access token (unrecognized login or wrong password) "
        "[request id req-7] after 1 attempt"
    )
    assert err.exchange is not None and err.exchange.status_code == 401


def test_429_honours_retry_after_then_succeeds(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(200, {"ok": True}),
                    failures={1: js(429, {"errors": "slow down"}, {"Retry-After": "2.0"})})
    response = call(script, sleeps)
    assert response.status_code == 200 and attempts_of(response) == 2
    assert sleeps == [2.0]


def test_vendor_wait_is_capped_and_custom_header(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(200, []),
                    failures={1: js(429, {}, {"x-retry-after": "600", "Retry-After": "1"})})
    call(script, sleeps, retry_after_header="x-retry-after")
    assert sleeps == [30.0]


def test_500_retried_then_success(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(200, {}), failures={1: js(500, {}), 2: js(503, {})})
    assert attempts_of(call(script, sleeps)) == 3
    assert sleeps == []  # our own backoff is stamina's (disabled in test mode)


def test_500_forever_fails_with_attempts(sleeps: Sleeps) -> None:
    script = Script(lambda r: httpx.Response(502, content=b"upstream <b>down</b>"))
    with pytest.raises(ExtractionError) as info:
        call(script, sleeps)
    assert len(script.requests) == 5
    assert info.value.kind == "http_status" and info.value.attempts == 5
    assert str(info.value).endswith("HTTP 502 from GET /admin/api/2024-04/x.json (page 3): "
                                    "upstream <b>down</b> after 5 attempts")


def test_429_forever_is_rate_limited(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(429, {}, {"Retry-After": "2.0"}))
    with pytest.raises(ExtractionError) as info:
        call(script, sleeps, max_attempts=3)
    assert info.value.kind == "rate_limited" and info.value.attempts == 3
    assert sleeps == [2.0, 2.0]  # no pointless wait after the final attempt


def test_timeout_retried_then_reported(sleeps: Sleeps) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ExtractionError) as info:
        call(Script(boom), sleeps)
    assert info.value.kind == "timeout" and info.value.attempts == 5
    assert "shopify: timed out from GET /admin/api/2024-04/x.json (page 3)" in str(info.value)


def test_connection_error_then_success(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(200, {}), failures={1: httpx.ConnectError("refused")})
    assert attempts_of(call(script, sleeps)) == 2


def test_secrets_never_in_error(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(401, {"errors": "bad token shpat_SECRET"}))
    with pytest.raises(ExtractionError) as info:
        call(script, sleeps, secrets=("shpat_SECRET",),
             headers={"X-Shopify-Access-Token": "shpat_SECRET"})
    assert "shpat_SECRET" not in str(info.value)
    assert info.value.exchange is not None
    assert b"shpat_SECRET" not in info.value.exchange.body
    assert "shpat_SECRET" not in repr(info.value.exchange.headers)


def test_same_origin_keeps_path_and_query_exactly() -> None:
    url = same_origin("http://127.0.0.1:8000", "https://shop.myshopify.com/admin/api/2024-04/"
                      "inventory_levels.json?limit=250&page_info=eyJ%3D%3D")
    assert str(url) == ("http://127.0.0.1:8000/admin/api/2024-04/inventory_levels.json"
                        "?limit=250&page_info=eyJ%3D%3D")
    assert str(same_origin("https://api.shipbob.com", "/1.0/inventory?Page=2")) == \
        "https://api.shipbob.com/1.0/inventory?Page=2"
