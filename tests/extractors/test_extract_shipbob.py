from __future__ import annotations

import httpx
import pytest
from extract_vendors import (
    SB_BASE,
    SHIPBOB_TOKEN,
    Script,
    Sleeps,
    js,
    make_system,
    sb_items,
    shipbob_handler,
)

from extractors.base import Page
from extractors.errors import ExtractionError
from extractors.shipbob import COLUMNS, ShipBobConnector

RATE_LIMITED = {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 25 seconds."}


def run(script: Script, sleeps: Sleeps, page_size: str = "3") -> list[Page]:
    system = make_system("shipbob", page_size=page_size)
    with script.client(SB_BASE) as client:
        return list(ShipBobConnector(system, client, sleep=sleeps).pages())


def failure(script: Script, sleeps: Sleeps) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        run(script, sleeps)
    return info.value


def test_follows_next_page_header_one_row_per_fc(sleeps: Sleeps) -> None:
    script = Script(shipbob_handler(sb_items(7)))
    pages = run(script, sleeps)
    assert [r.url.params["Page"] for r in script.requests] == ["1", "2", "3"]
    assert dict(script.requests[0].url.params) == {"Page": "1", "Limit": "3", "IsActive": "true"}
    assert all(r.headers["authorization"] == f"Bearer {SHIPBOB_TOKEN}" for r in script.requests)
    rows = [r for p in pages for r in p.rows]
    assert len(rows) == 7 + 3  # odd items sit in two fulfillment centers
    assert list(rows[0]) == list(COLUMNS)
    assert rows[1]["fulfillment_center_id"] == 10 and rows[2]["fulfillment_center_id"] == 228
    assert rows[0]["fulfillment_center_name"] == "Cicero (IL)"
    assert rows[0]["onhand_quantity"] == 10 and rows[0]["fulfillable_quantity"] == 9


def test_absolute_next_page_and_empty_list(sleeps: Sleeps) -> None:
    handler = shipbob_handler(sb_items(3))

    def absolute(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        if "next-page" in response.headers:
            response.headers["next-page"] = SB_BASE + response.headers["next-page"]
        return response

    assert len(run(Script(absolute), sleeps, page_size="2")) == 2
    pages = run(Script(shipbob_handler([])), sleeps)
    assert len(pages) == 1 and pages[0].rows == []


def test_401_empty_body(sleeps: Sleeps) -> None:
    err = failure(Script(shipbob_handler(sb_items(2), token="other")), sleeps)
    assert err.kind == "auth" and err.attempts == 1
    assert str(err) == ("shipbob: HTTP 401 (authentication/permission) from GET "
                        "/1.0/inventory?Page=1&Limit=3&IsActive=true (page 1) after 1 attempt")


def test_429_honours_x_retry_after(sleeps: Sleeps) -> None:
    throttled = js(429, RATE_LIMITED, {"x-retry-after": "25", "x-remaining-calls": "0"})
    script = Script(shipbob_handler(sb_items(5)), failures={2: throttled})
    pages = run(script, sleeps)
    assert sum(len(p.rows) for p in pages) == 7 and sleeps == [25.0]


def test_low_remaining_calls_pauses(sleeps: Sleeps) -> None:
    run(Script(shipbob_handler(sb_items(5), remaining=1)), sleeps)
    assert sleeps == [0.4]  # one pause between the two pages


def test_429_forever(sleeps: Sleeps) -> None:
    script = Script(lambda r: js(429, RATE_LIMITED, {"x-retry-after": "25"}))
    err = failure(script, sleeps)
    assert err.kind == "rate_limited" and err.attempts == 5
    assert "Rate limit is exceeded. Try again in 25 seconds. after 5 attempts" in str(err)


def test_500_then_success(sleeps: Sleeps) -> None:
    script = Script(shipbob_handler(sb_items(4)), failures={1: js(500, {"message": "oops"})})
    assert len(run(script, sleeps)) == 2


def test_timeout(sleeps: Sleeps) -> None:
    script = Script(lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow")))
    err = failure(script, sleeps)
    assert err.kind == "timeout" and err.attempts == 5


def test_malformed(sleeps: Sleeps) -> None:
    script = Script(shipbob_handler(sb_items(5)), failures={2: httpx.Response(200, content=b"[{")})
    err = failure(script, sleeps)
    assert err.kind == "malformed" and err.page == 2
    err = failure(Script(lambda r: js(200, {"items": []})), sleeps)
    assert "expected a JSON array, got dict" in str(err)


def test_renamed_quantity_field(sleeps: Sleeps) -> None:
    items = sb_items(2)
    fc = items[1]["fulfillable_quantity_by_fulfillment_center"][0]
    fc["on_hand_quantity"] = fc.pop("onhand_quantity")  # the 2025+ spelling (§3.2)
    err = failure(Script(shipbob_handler(items)), sleeps)
    assert err.kind == "schema"
    assert ("required field 'onhand_quantity' missing in item 1 "
            "fulfillable_quantity_by_fulfillment_center[0]") in str(err)


def test_repeating_next_page_is_an_error(sleeps: Sleeps) -> None:
    loop = js(200, sb_items(3), {"next-page": "/1.0/inventory?Page=2"})
    err = failure(Script(lambda r: loop), sleeps)
    assert "next-page repeats" in str(err)
