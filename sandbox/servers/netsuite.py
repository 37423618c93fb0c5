"""Fake NetSuite SuiteTalk REST SuiteQL endpoint (vendor_api_facts.md 4.1, 8, 9.5).

Two queries are answered, told apart by the record they read: `inventoryitemlocations`
(balances, `World.erp_rows`) and `inventorynumberlocation` joined with `inventorynumber`
(lot/serial balances, `erp_lot_rows` over the optional `World.erp_lots`). Both page, fail
and rename fields alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response
from sandbox.servers import rename_field as _rename

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
DEFAULT_LIMIT = 1000   # 4.1: default 1000 results per page, max 1000
MAX_LIMIT = 1000
MAX_RESULTS = 100_000  # 4.1: SuiteQL returns at most 100,000 results

# 4.1: errors are RFC 9110 problem-ish JSON with o:errorDetails [COMMUNITY].
_STATUS = {
    400: ("Bad Request", "15.5.1"), 401: ("Unauthorized", "15.5.2"),
    404: ("Not Found", "15.5.5"), 405: ("Method Not Allowed", "15.5.6"),
    429: ("Too Many Requests", "15.5.29"), 500: ("Internal Server Error", "15.6.1"),
}


def ns_error(status: int, code: str, detail: str) -> Response:
    title, section = _STATUS[status]
    return json_response(status, {
        "type": f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{section}",
        "title": title, "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    })


INVALID_LOGIN = ("Invalid login attempt. For more details, see the Login Audit Trail in the "
                 "NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.")


class NetSuiteApp(VendorApp):
    system_id = "erp"

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        if fault.kind == "status_429":
            # 4.1: concurrency throttling is 429 with CONCURRENCY_LIMIT_EXCEEDED
            return ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED",
                            "Concurrent request limit exceeded. Request blocked.")
        if fault.kind == "expired_token":
            return ns_error(401, "INVALID_LOGIN", INVALID_LOGIN)   # 4.1: 401 INVALID_LOGIN
        return ns_error(500, "UNEXPECTED_ERROR",
                        "An unexpected error occurred. Error ID: sandbox-500")

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        if req.path.rstrip("/") != SUITEQL_PATH:
            return ns_error(404, "NONEXISTENT_ID", f"Invalid URL: {req.path}")
        if req.method != "POST":
            return ns_error(405, "INVALID_REQUEST", f"HTTP method {req.method} not allowed.")
        # 4.1: OAuth 2.0 `Authorization: Bearer <token>` (TBA is not simulated)
        auth = req.header("Authorization") or ""
        if auth != f"Bearer {self.token}":
            return ns_error(401, "INVALID_LOGIN", INVALID_LOGIN)
        # 4.1 / 9.5: SuiteQL requires `Prefer: transient` [detail text is INFERENCE]
        if "transient" not in (req.header("Prefer") or "").lower():
            return ns_error(400, "INVALID_PARAMETER",
                            "Invalid Prefer header. SuiteQL queries require 'Prefer: transient'.")
        query = _query_text(req.body)
        if query is None:
            return ns_error(400, "INVALID_PARAMETER",
                            'Invalid request body. Expected a JSON object {"q": "<SuiteQL>"}.')
        text = query.lower()
        source: Callable[[], list[dict[str, Any]]]
        if "inventorynumberlocation" in text:
            source = self._lot_rows
        elif "inventoryitemlocations" in text:
            source = self.world.erp_rows
        else:
            return ns_error(400, "INVALID_PARAMETER",
                            "Invalid search query. Detailed unprocessed description follows. "
                            "Search error occurred: Record not found or not supported by "
                            "this sandbox (query inventoryitemlocations or "
                            "inventorynumberlocation).")
        paging = _paging(req)
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        rows = source()[:MAX_RESULTS]
        page = rows[offset: offset + limit]
        total = len(rows)
        has_more = offset + len(page) < total
        items: list[dict[str, Any]] = [{"links": [], **row} for row in page]  # 4.1: "links": []
        items = _rename(items, fault, ("quantityonhand", "qtyonhand"))
        return json_response(200, {
            "links": _links(req, limit, offset, total, has_more),
            "count": len(page),     # truncated_page keeps the full page's count on purpose
            "hasMore": has_more,
            "items": cut_rows(items, fault),
            "offset": offset,
            "totalResults": total,
        })

    def _lot_rows(self) -> list[dict[str, Any]]:
        erp_lots = getattr(self.world, "erp_lots", None)
        return erp_lot_rows(erp_lots() if erp_lots is not None else [])


def erp_lot_rows(lots: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """SuiteQL rows of the lot query (extractors/netsuite.py LOT_QUERY), in its ORDER BY.

    Contract of `World.erp_lots()` (optional; absent = no lot rows): a list of mappings, one
    per item x location x inventory number, with
      - `inventorynumber_id`: int (the inventorynumber record id; unique per lot/serial)
      - `item`: NetSuite item internal id (str or int); `itemid`: the SKU-like name
      - `location`: NetSuite location internal id (str or int)
      - `inventorynumber`: the lot or serial number text
      - `expirationdate`: `datetime.date` or None
      - `quantityonhand`, `quantityavailable`: ints (or None when unknown)
    Rendered as NetSuite does (4.1): string values, lowercase keys, NULLs omitted,
    `TO_CHAR(expirationdate, 'YYYY-MM-DD')`.
    """
    ordered = sorted(lots, key=lambda r: (int(r["inventorynumber_id"]), int(r["location"])))
    rows = []
    for lot in ordered:
        expires: date | None = lot.get("expirationdate")
        row = {
            "item": str(lot["item"]), "itemid": lot.get("itemid"),
            "location": str(lot["location"]), "inventorynumber": lot["inventorynumber"],
            "expirationdate": None if expires is None else expires.isoformat(),
            "quantityonhand": lot.get("quantityonhand"),
            "quantityavailable": lot.get("quantityavailable"),
        }
        rows.append({k: str(v) for k, v in row.items() if v is not None})
    return rows


def _query_text(body: bytes) -> str | None:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("q"), str):
        return None
    return str(payload["q"])


def _paging(req: Request) -> tuple[int, int] | Response:
    """4.1: limit <= 1000 (default 1000), offset a multiple of limit [COMMUNITY]."""
    try:
        limit = int(req.param("limit") or DEFAULT_LIMIT)
        offset = int(req.param("offset") or 0)
    except ValueError:
        return ns_error(400, "INVALID_PARAMETER",
                        "Invalid value for a query parameter: limit and offset must be integers.")
    if not 1 <= limit <= MAX_LIMIT:
        return ns_error(400, "INVALID_PARAMETER",
                        f"Invalid value for parameter limit: {limit}. "
                        f"The value must be between 1 and {MAX_LIMIT}.")
    if offset < 0 or offset % limit:
        return ns_error(400, "INVALID_PARAMETER",
                        f"Invalid value for parameter offset: {offset}. "
                        "The offset must be a multiple of the limit.")
    return limit, offset


def _links(req: Request, limit: int, offset: int, total: int,
           has_more: bool) -> list[dict[str, str]]:
    """4.1: self always; next while hasMore (plus first/prev/last); clients follow rel=next
    and POST the same body again."""
    def href(off: int) -> str:
        return f"http://{req.host}{SUITEQL_PATH}?limit={limit}&offset={off}"

    last = max(0, (total - 1) // limit * limit)
    links: list[dict[str, str]] = []
    if has_more or offset > 0:
        links.append({"rel": "first", "href": href(0)})
        if offset > 0:
            links.append({"rel": "prev", "href": href(max(0, offset - limit))})
        if has_more:
            links.append({"rel": "next", "href": href(offset + limit)})
        links.append({"rel": "last", "href": href(last)})
    links.append({"rel": "self", "href": href(offset)})
    return links
