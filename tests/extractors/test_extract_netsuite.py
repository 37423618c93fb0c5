from __future__ import annotations

import json

import httpx
import pytest
from extract_vendors import (
    NETSUITE_TOKEN,
    NS_BASE,
    Script,
    Sleeps,
    js,
    make_system,
    netsuite_handler,
    ns_rows,
)

from extractors.base import Page
from extractors.errors import ExtractionError
from extractors.netsuite import COLUMNS, QUERY, NetSuiteConnector


def run(script: Script, sleeps: Sleeps, page_size: str = "4") -> list[Page]:
    system = make_system("netsuite", page_size=page_size)
    with script.client(NS_BASE) as client:
        return list(NetSuiteConnector(system, client, sleep=sleeps).pages())


def failure(script: Script, sleeps: Sleeps) -> ExtractionError:
    with pytest.raises(ExtractionError) as info:
        run(script, sleeps)
    return info.value


def test_pages_follow_has_more_and_keep_strings(sleeps: Sleeps) -> None:
    script = Script(netsuite_handler(ns_rows(10)))
    pages = run(script, sleeps)
    assert [len(p.rows) for p in pages] == [4, 4, 2]
    assert [p.label for p in pages] == ["offset=0", "offset=4", "offset=8"]
    offsets = [r.url.params["offset"] for r in script.requests]
    assert offsets == ["0", "4", "8"]
    for request in script.requests:  # same body re-POSTed on every page (§4.1)
        assert request.method == "POST"
        assert request.url.path == "/services/rest/query/v1/suiteql"
        assert request.headers["authorization"] == f"Bearer {NETSUITE_TOKEN}"
        assert request.headers["prefer"] == "transient"
        assert json.loads(request.content) == {"q": QUERY}
    row = pages[0].rows[0]
    assert list(row) == list(COLUMNS)
    assert row["item"] == "100" and row["quantityonhand"] == "10"
    assert row["quantityonorder"] is None  # omitted NULL -> None
    assert "links" not in row
    # stored exchanges carry response headers only, never the bearer token
    assert NETSUITE_TOKEN not in repr(pages[0].exchange)


def test_empty_result_is_legitimate(sleeps: Sleeps) -> None:
    pages = run(Script(netsuite_handler([])), sleeps)
    assert len(pages) == 1 and pages[0].rows == []


def test_401_fails_with_vendor_code(sleeps: Sleeps) -> None:
    err = failure(Script(netsuite_handler(ns_rows(3), token="other")), sleeps)
    assert err.kind == "auth" and err.vendor_code == "INVALID_LOGIN" and err.attempts == 1
    assert str(err).startswith(
        "erp: HTTP 401 (authentication/permission) from POST /services/rest/query/v1/suiteql"
        "?limit=4&offset=0 (page offset=0): INVALID_LOGIN: Invalid login attempt."
    )
    assert "[request id ns-req-1]" in str(err)


def test_concurrency_limit_429_retried(sleeps: Sleeps) -> None:
    busy = js(429, {"title": "Too Many Requests", "status": 429, "o:errorDetails": [
        {"detail": "Concurrent request limit exceeded.",
         "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}]}, {"Retry-After": "1"})
    script = Script(netsuite_handler(ns_rows(6)), failures={2: busy})
    pages = run(script, sleeps)
    assert sum(len(p.rows) for p in pages) == 6
    assert pages[1].exchange.attempts == 2 and sleeps == [1.0]


def test_500_forever(sleeps: Sleeps) -> None:
    err = failure(Script(lambda r: js(503, {"title": "Service Unavailable", "status": 503})),
                  sleeps)
    assert err.attempts == 5 and err.status_code == 503
    assert "Service Unavailable after 5 attempts" in str(err)


def test_timeout(sleeps: Sleeps) -> None:
    script = Script(netsuite_handler(ns_rows(6)),
                    failures={i: httpx.ReadTimeout("slow") for i in range(2, 7)})
    err = failure(script, sleeps)
    assert err.kind == "timeout" and err.page == "offset=4" and err.attempts == 5


def test_malformed_json(sleeps: Sleeps) -> None:
    script = Script(netsuite_handler(ns_rows(6)),
                    failures={2: httpx.Response(200, content=b'{"items": [')})
    err = failure(script, sleeps)
    assert err.kind == "malformed" and err.page == "offset=4"
    assert "body is not JSON" in str(err)


def test_renamed_field_is_a_schema_error(sleeps: Sleeps) -> None:
    rows = ns_rows(3)
    rows[2]["item_id"] = rows[2].pop("item")
    err = failure(Script(netsuite_handler(rows)), sleeps)
    assert err.kind == "schema"
    assert "required field 'item' missing in row 2" in str(err)


def test_truncated_page_is_not_an_empty_one(sleeps: Sleeps) -> None:
    truncated = js(200, {"links": [], "count": 4, "hasMore": True, "items": [], "offset": 0,
                         "totalResults": 10})
    err = failure(Script(lambda r: truncated), sleeps)
    assert err.kind == "malformed" and "count says 4 rows but 0 arrived" in str(err)


def test_missing_has_more(sleeps: Sleeps) -> None:
    err = failure(Script(lambda r: js(200, {"items": [], "count": 0})), sleeps)
    assert err.kind == "schema" and "'hasMore'" in str(err)


def test_renamed_optional_column_is_a_schema_error(sleeps: Sleeps) -> None:
    rows = ns_rows(3)
    rows[0]["qtyonhand"] = rows[0].pop("quantityonhand")
    err = failure(Script(netsuite_handler(rows)), sleeps)
    assert err.kind == "schema" and "unexpected field 'qtyonhand' in row 0" in str(err)
