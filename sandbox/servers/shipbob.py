"""Fake ShipBob v1.0 inventory API (vendor_api_facts.md 3.1, 3.2, 3.4, 8, 9.4).

Lots: when the world has `shipbob_lots`, items carry `fulfillable_quantity_by_lot[]` in the
documented shape (3.2); see `with_lots` for the contract.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response

# 3.2: the quantities of every fulfillable_quantity_by_fulfillment_center entry
FC_QUANTITIES = ("awaiting_quantity", "committed_quantity", "fulfillable_quantity",
                 "internal_transfer_quantity", "onhand_quantity")

DEFAULT_LIMIT, MAX_LIMIT = 50, 250      # 3.2: Limit 1..250 (default 50 [INFERENCE])
_ITEM = re.compile(r"^/1\.0/inventory/(?P<id>\d+)$")


class SlidingWindow:
    """3.4: 150 requests per minute, sliding window, per user and application (wall time)."""

    def __init__(self, limit: int = 150, window_s: float = 60.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self._now = limit, window_s, now
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def _expire(self, t: float) -> None:
        while self._calls and t - self._calls[0] >= self.window_s:
            self._calls.popleft()

    def take(self) -> tuple[bool, int, int]:
        """(allowed, remaining calls, seconds until a call frees up)."""
        with self._lock:
            t = self._now()
            self._expire(t)
            if len(self._calls) >= self.limit:
                wait = math.ceil(self.window_s - (t - self._calls[0]))
                return False, 0, max(1, wait)
            self._calls.append(t)
            return True, self.limit - len(self._calls), 0

    def remaining(self) -> int:
        with self._lock:
            self._expire(self._now())
            return self.limit - len(self._calls)


def rate_limited(seconds: int) -> Response:
    # 3.4: 429 with `x-retry-after` (not Retry-After) and `x-remaining-calls: 0`, this body
    return json_response(
        429, {"statusCode": 429,
              "message": f"Rate limit is exceeded. Try again in {seconds} seconds."},
        [("x-retry-after", str(seconds)), ("x-remaining-calls", "0")])


def bad_request(field: str, message: str) -> Response:
    # ASP.NET-style validation problem body [INFERENCE: not in the fact sheet]
    return json_response(400, {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.", "status": 400,
        "errors": {field: [message]},
    }, content_type="application/problem+json; charset=utf-8")


def unauthorized() -> Response:
    # [INFERENCE] the fact sheet gives no 401 body; ASP.NET Web API's default message
    return json_response(401, {"message": "Authorization has been denied for this request."},
                         [("WWW-Authenticate", "Bearer")])


class ShipBobApp(VendorApp):
    system_id = "shipbob"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = SlidingWindow()   # replaceable in tests

    def decorate(self, req: Request, resp: Response) -> Response:
        if not any(name == "x-remaining-calls" for name, _ in resp.headers):
            resp.headers.append(("x-remaining-calls", str(self.window.remaining())))   # 3.4
        return resp

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        if fault.kind == "status_429":
            return rate_limited(25)          # 3.4 example: "Try again in 25 seconds."
        if fault.kind == "expired_token":
            return unauthorized()
        return json_response(500, {"statusCode": 500, "message": "Internal server error"})

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        # 3.1: `Authorization: Bearer <PAT or OAuth JWT>`
        if req.header("Authorization") != f"Bearer {self.token}":
            return unauthorized()
        allowed, _, wait = self.window.take()
        if not allowed:
            return rate_limited(wait)
        if req.method != "GET":
            return json_response(405, {"message": "The requested resource does not support "
                                                  f"http method '{req.method}'."})
        path = req.path.rstrip("/")
        if path == "/1.0/inventory":
            return self._list(req, fault)
        match = _ITEM.match(path)
        if match:
            found = [i for i in self._items() if i["id"] == int(match["id"])]
            if not found:
                return json_response(404, {"message": "Inventory item not found"})
            return json_response(200, _renamed(found, fault)[0])
        return json_response(404, {"message": "No HTTP resource was found that matches the "
                                              "request URI."})

    def _list(self, req: Request, fault: FaultMode | None) -> Response:
        # 3.2 query params are PascalCase; ASP.NET binds them case-insensitively
        params = {k.lower(): v[-1] for k, v in req.query.items() if v}
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            return bad_request("Page", f"The value '{params['page']}' is not valid.")
        try:
            limit = int(params.get("limit", str(DEFAULT_LIMIT)))
        except ValueError:
            return bad_request("Limit", f"The value '{params['limit']}' is not valid.")
        if not 1 <= limit <= MAX_LIMIT:
            return bad_request("Limit", f"The field Limit must be between 1 and {MAX_LIMIT}.")
        page = max(page, 1)   # pages are 1-based; Page=0 reads as the first page
        is_active = params.get("isactive")
        if is_active is not None and is_active.lower() not in ("true", "false"):
            return bad_request("IsActive", f"The value '{is_active}' is not valid.")
        items = self._items()
        if is_active is not None:
            items = [i for i in items if i["is_active"] == (is_active.lower() == "true")]
        total = len(items)
        total_pages = max(1, math.ceil(total / limit))
        rows = items[(page - 1) * limit: page * limit]
        resp = json_response(200, cut_rows(_renamed(rows, fault), fault))   # bare JSON array
        # 3.2: FAQ confirms `next-page` while more pages exist; `page-number`, `total-pages`,
        # `total-count` are commonly cited but UNVERIFIED against ShipBob's docs.
        resp.headers += [("page-number", str(page)), ("total-pages", str(total_pages)),
                         ("total-count", str(total))]
        if page < total_pages:
            query: dict[str, Any] = {"Page": page + 1, "Limit": limit}
            if is_active is not None:
                query["IsActive"] = is_active
            resp.headers.append(("next-page", f"/1.0/inventory?{urlencode(query)}"))
        return resp

    def _items(self) -> list[dict[str, Any]]:
        lots = getattr(self.world, "shipbob_lots", None)
        items = self.world.shipbob_items()
        return items if lots is None else with_lots(items, lots())


def with_lots(items: list[dict[str, Any]],
              lots: Mapping[int, list[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Items with `fulfillable_quantity_by_lot[]` filled in (3.2 list example).

    Contract of `World.shipbob_lots()` (optional; absent = every item's list stays `[]`):
    a mapping from ShipBob inventory id (the item's `id`) to that item's lots, each a mapping
      - `lot_number`: str
      - `expiration_date`: `datetime.date`, an aware `datetime`, or None
      - `fulfillment_centers`: list of mappings with `id` (int), `name` (str) and any of
        `onhand_quantity`, `committed_quantity`, `fulfillable_quantity`,
        `awaiting_quantity`, `internal_transfer_quantity` (ints; a missing one is 0).
    The lot's own totals are the sums over its centers; an item with lots gets
    `is_lot: true`. Ids absent from the mapping keep `[]`. Items are copied, never mutated.
    """
    out = []
    for item in items:
        item_lots = lots.get(item["id"])
        if not item_lots:
            out.append(item)
            continue
        out.append({**item, "is_lot": True,
                    "fulfillable_quantity_by_lot": [_lot(lot) for lot in item_lots]})
    return out


def _lot(lot: Mapping[str, Any]) -> dict[str, Any]:
    centers = [{"id": fc["id"], "name": fc["name"], **{q: int(fc.get(q, 0))
                                                       for q in FC_QUANTITIES}}
               for fc in lot["fulfillment_centers"]]
    return {
        **{q: sum(c[q] for c in centers) for q in FC_QUANTITIES},
        "expiration_date": _iso_z(lot.get("expiration_date")),
        "fulfillable_quantity_by_fulfillment_center": centers,
        "lot_number": lot["lot_number"],
    }


def _iso_z(value: date | datetime | None) -> str | None:
    """3.2 renders lot expiry as `2019-08-24T14:15:22Z`; a date is midnight UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return f"{value.isoformat()}T00:00:00Z"
    if value.tzinfo is None:
        raise ValueError(f"shipbob_lots: naive expiration_date {value!r}; use an aware UTC "
                         "datetime or a date")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _renamed(items: list[dict[str, Any]], fault: FaultMode | None) -> list[dict[str, Any]]:
    """renamed_field default: the 2025+ spelling `on_hand` leaking into v1.0 (3.2 notes the
    naming inconsistency), per fulfillment center and in the total."""
    if fault is None or fault.kind != "renamed_field":
        return items
    old, new = fault.rename or ("onhand_quantity", "on_hand_quantity")

    def swap(d: dict[str, Any]) -> dict[str, Any]:
        return {(new if k == old else k.replace(old, new) if k == f"total_{old}" else k):
                (_swap_list(v, swap) if isinstance(v, list) else v) for k, v in d.items()}

    return [swap(i) for i in items]


def _swap_list(values: list[Any], swap: Callable[[dict[str, Any]], dict[str, Any]]) -> list[Any]:
    return [swap(v) if isinstance(v, dict) else v for v in values]
