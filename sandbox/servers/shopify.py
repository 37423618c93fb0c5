"""Fake Shopify Admin REST API: locations, inventory_items, inventory_levels
(vendor_api_facts.md 1.1-1.6, 8, 9.1)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response
from sandbox.servers import rename_field as _rename
from stockdrift.clock import parse_utc

SHOP_TZ = ZoneInfo("America/New_York")   # 1.3 / 8: REST timestamps carry the shop's offset
_PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/(?P<resource>[a-z_]+)\.json$")
DEFAULT_LIMIT, MAX_LIMIT = 50, 250       # 1.2 / 1.4: limit default 50, maximum 250
MAX_FILTER_IDS = 50                      # 1.2: location_ids / inventory_item_ids max 50
MAX_ITEM_IDS = 250                       # inventory_items ids: the ARCHITECTURE contract's cap

# 1.6: error bodies [COMMUNITY fixtures]; 1.5: 429 body [COMMUNITY]
ERR_401 = "[API] Invalid API key or access token (unrecognized login or wrong password)"
ERR_429 = ("Exceeded 2 calls per second for api client. "
           "Reduce request rates to resume uninterrupted service.")


class LeakyBucket:
    """1.5: bucket of 40 requests per app+store leaking 2/s, on wall time (the sim clock is
    frozen during a cycle)."""

    def __init__(self, size: int = 40, leak_per_s: float = 2.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.size, self.leak_per_s, self._now = size, leak_per_s, now
        self._level, self._at = 0.0, now()
        self._lock = threading.Lock()

    def _leak(self) -> None:
        t = self._now()
        self._level = max(0.0, self._level - (t - self._at) * self.leak_per_s)
        self._at = t

    def take(self) -> bool:
        with self._lock:
            self._leak()
            if self._level + 1 > self.size:
                return False
            self._level += 1
            return True

    def header(self) -> str:
        """`X-Shopify-Shop-Api-Call-Limit: n/40`."""
        with self._lock:
            self._leak()
            return f"{min(self.size, math.ceil(self._level - 1e-9))}/{self.size}"


def shop_time(value: datetime) -> str:
    """`2024-04-02T08:56:04-05:00` (1.2 / 8)."""
    return value.astimezone(SHOP_TZ).isoformat(timespec="seconds")


def _render(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return shop_time(obj)
    if isinstance(obj, dict):
        return {k: _render(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_render(v) for v in obj]
    return obj


def errors(status: int, detail: Any) -> Response:
    return json_response(status, {"errors": detail})


def _encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(text: str) -> dict[str, Any] | None:
    try:
        state = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("offset"), int) else None


def _ids(text: str | None) -> list[int] | None:
    if text is None or text == "":
        return None
    return [int(part) for part in text.split(",") if part.strip()]


class ShopifyApp(VendorApp):
    system_id = "shopify"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket = LeakyBucket()   # replaceable in tests

    def decorate(self, req: Request, resp: Response) -> Response:
        match = _PATH.match(req.path)
        version = match["version"] if match else "2024-04"
        # 1.5: call-limit header on every response; 1.1: X-Shopify-API-Version
        resp.headers += [
            ("X-Shopify-Shop-Api-Call-Limit", self.bucket.header()),
            ("X-Shopify-API-Version", version),
            ("X-Request-Id", str(uuid.uuid4())),   # [INFERENCE] real responses carry one
        ]
        return resp

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        if fault.kind == "status_429":
            return self._throttled()
        if fault.kind == "expired_token":
            return errors(401, ERR_401)
        return errors(500, "Internal Server Error")

    def _throttled(self) -> Response:
        # 1.5: 429 + `Retry-After: 2.0` (float string) + observed body
        resp = errors(429, ERR_429)
        resp.headers.append(("Retry-After", "2.0"))
        return resp

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        # 1.1: `X-Shopify-Access-Token` on every request; 1.6: 401 body
        if req.header("X-Shopify-Access-Token") != self.token:
            return errors(401, ERR_401)
        if not self.bucket.take():
            return self._throttled()
        match = _PATH.match(req.path)
        if match is None or req.method != "GET":
            return errors(404, "Not Found")                      # 1.6
        resource = match["resource"]
        if resource == "locations":
            return json_response(200, {"locations": _render(self.world.shopify_locations())})
        if resource == "inventory_items":
            return self._inventory_items(req, fault)
        if resource == "inventory_levels":
            return self._inventory_levels(req, fault)
        return errors(404, "Not Found")

    # ---- inventory_items.json?ids= ---------------------------------------------------------
    def _inventory_items(self, req: Request, fault: FaultMode | None) -> Response:
        try:
            ids = _ids(req.param("ids"))
        except ValueError:
            return errors(400, {"ids": ["expected a comma-separated list of integers"]})
        if ids is None:
            return errors(422, {"ids": ["can't be blank"]})       # 1.6 shape [INFERENCE text]
        if len(ids) > MAX_ITEM_IDS:
            return errors(422, {"ids": [f"must have at most {MAX_ITEM_IDS} ids"]})
        wanted = set(ids)
        items = [i for i in self.world.shopify_items() if i["id"] in wanted]
        items = _rename(items, fault, ("sku", "sku_code"))
        return json_response(200, {"inventory_items": _render(cut_rows(items, fault))})

    # ---- inventory_levels.json -------------------------------------------------------------
    def _inventory_levels(self, req: Request, fault: FaultMode | None) -> Response:
        try:
            limit = int(req.param("limit") or DEFAULT_LIMIT)
        except ValueError:
            return errors(400, {"limit": ["expected an integer"]})
        limit = max(1, min(limit, MAX_LIMIT))                    # [INFERENCE] clamps
        cursor_text = req.param("page_info")
        if cursor_text is not None:
            # 1.4: a page_info request may carry no parameter except limit (filters live in
            # the cursor). Message as observed: Shopify/shopify-api-js#755 [COMMUNITY].
            extra = sorted(set(req.query) - {"page_info", "limit"})
            if extra:
                return errors(400, {extra[0]: f"{extra[0]} cannot be passed when page_info is "
                                              "present. See https://shopify.dev/api/usage/"
                                              "pagination-rest for more information."})
            decoded = _decode_cursor(cursor_text)
            if decoded is None:
                return errors(400, {"page_info": "Invalid value."})
            state = decoded
        else:
            if "page" in req.query:   # 1.2: sending `page` returns an error since 2019-10
                return errors(400, {"page": "page cannot be passed. See https://shopify.dev/"
                                            "api/usage/pagination-rest for more information."})
            first = self._first_state(req)
            if isinstance(first, Response):
                return first
            state = first
        rows = self._filtered_levels(state)
        offset = int(state["offset"])
        page = rows[offset: offset + limit]
        out = [{**r, "admin_graphql_api_id":
                f"gid://shopify/InventoryLevel/{r['location_id']}"
                f"?inventory_item_id={r['inventory_item_id']}"} for r in page]
        out = _rename(out, fault, ("available", "quantity"))
        resp = json_response(200, {"inventory_levels": _render(cut_rows(out, fault))})
        link = self._link(req, state, limit, offset, len(rows))
        if link:
            resp.headers.append(("Link", link))
        return resp

    def _first_state(self, req: Request) -> dict[str, Any] | Response:
        try:
            locations = _ids(req.param("location_ids"))
            items = _ids(req.param("inventory_item_ids"))
        except ValueError:
            return errors(400, {"location_ids": ["expected comma-separated integers"]})
        if locations is None and items is None:
            # 1.2: "You must include inventory_item_ids, location_ids, or both"; 1.6 shape
            return errors(422, {"base": ["You must include inventory_item_ids, location_ids, "
                                         "or both as filter parameters."]})
        for name, ids in (("location_ids", locations), ("inventory_item_ids", items)):
            if ids is not None and len(ids) > MAX_FILTER_IDS:
                return errors(422, {name: [f"must have at most {MAX_FILTER_IDS} ids"]})
        since = req.param("updated_at_min")
        if since:
            try:
                since = parse_utc(since).isoformat()
            except ValueError:
                return errors(400, {"updated_at_min": ["is not a valid date"]})
        return {"location_ids": locations, "inventory_item_ids": items,
                "updated_at_min": since or None, "offset": 0}

    def _filtered_levels(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        locations, items = state.get("location_ids"), state.get("inventory_item_ids")
        since = parse_utc(state["updated_at_min"]) if state.get("updated_at_min") else None
        return [
            r for r in self.world.shopify_levels()
            if (locations is None or r["location_id"] in locations)
            and (items is None or r["inventory_item_id"] in items)
            and (since is None or r["updated_at"] >= since)   # 1.2: "at or after"
        ]

    def _link(self, req: Request, state: dict[str, Any], limit: int, offset: int,
              total: int) -> str | None:
        """1.4: `<url>; rel="next", <url>; rel="previous"` only when there are such pages."""
        base = f"http://{req.host}{req.path}"
        parts = []
        if offset > 0:
            prev_cursor = _encode_cursor({**state, "offset": max(0, offset - limit)})
            parts.append(f'<{base}?page_info={quote(prev_cursor)}&limit={limit}>; '
                         'rel="previous"')
        if offset + limit < total:
            next_cursor = _encode_cursor({**state, "offset": offset + limit})
            parts.append(f'<{base}?page_info={quote(next_cursor)}&limit={limit}>; rel="next"')
        return ", ".join(parts) or None
