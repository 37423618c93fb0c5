"""Fake Square Inventory API: `POST /v2/inventory/counts/batch-retrieve`
(vendor_api_facts.md §5, §8, §9.6).

The world has no POS of its own yet, so `square_counts(world)` derives the counts of one
store (location `L8SANDBOXEASTDC`, standing for EAST-DC) from the ERP balance: IN_STOCK =
available, RESERVED_FOR_SALE = committed. Square publishes no numeric rate limit (§5); the
server throttles only when told to (`status_429`), with the observed RATE_LIMITED body.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response
from sandbox.world import World
from stockdrift.clock import parse_utc

PATH = "/v2/inventory/counts/batch-retrieve"
LOCATION_ID = "L8SANDBOXEASTDC"
DEFAULT_LIMIT, MAX_LIMIT = 1000, 1000  # §5: limit 1..1000
IGNORED_STATES = {"NONE", "SOLD", "UNLINKED_RETURN"}  # §5: untracked states ignored


def catalog_object_id(sku: str) -> str:
    """Square ids are 24 upper-case base32 characters (`W62UWFY35CWMYGVWK6TWJDNI`)."""
    return base64.b32encode(hashlib.sha1(sku.encode()).digest()).decode()[:24]


def rfc3339_ms(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def square_counts(world: World) -> list[dict[str, Any]]:
    custom = getattr(world, "square_counts", None)
    if callable(custom):
        return list(custom())
    out = []
    for row in world.erp_rows():
        if row["location"] != "1":
            continue
        touched = world.last_activity_at("EAST-DC", row["itemid"]) or world.start
        for state, qty in (("IN_STOCK", row["quantityavailable"]),
                           ("RESERVED_FOR_SALE", row["quantitycommitted"])):
            out.append({
                "catalog_object_id": catalog_object_id(row["itemid"]),
                "catalog_object_type": "ITEM_VARIATION", "state": state,
                "location_id": LOCATION_ID, "quantity": str(int(qty)),  # decimal string
                "calculated_at": rfc3339_ms(touched),
            })
    # §5: "sorted in descending order according to their calculated_at (newest first)"
    return sorted(out, key=lambda c: (c["calculated_at"], c["catalog_object_id"]),
                  reverse=True)


def errors(status: int, category: str, code: str, detail: str,
           field: str | None = None) -> Response:
    entry = {"category": category, "code": code, "detail": detail}
    if field:
        entry["field"] = field
    return json_response(status, {"errors": [entry]})


class SquareApp(VendorApp):
    system_id = "square"

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        if fault.kind == "status_429":  # observed body (§5)
            return errors(429, "RATE_LIMIT_ERROR", "RATE_LIMITED",
                          "This request was rate limited. Please retry later.")
        if fault.kind == "expired_token":
            return errors(401, "AUTHENTICATION_ERROR", "ACCESS_TOKEN_EXPIRED",
                          "The access token has expired.")
        return errors(500, "API_ERROR", "INTERNAL_SERVER_ERROR",
                      "An internal error has occurred, and the API was unable to service "
                      "your request.")

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        if req.header("Authorization") != f"Bearer {self.token}":
            return errors(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
                          "This request could not be authorized.")
        if req.path != PATH:
            return errors(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Resource not found.")
        if req.method != "POST":
            return errors(405, "INVALID_REQUEST_ERROR", "METHOD_NOT_ALLOWED",
                          f"Method {req.method} is not allowed.")
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return errors(400, "INVALID_REQUEST_ERROR", "INVALID_CONTENT_TYPE",
                          "The request body is not valid JSON.")
        return self._counts(body, fault)

    def _counts(self, body: dict[str, Any], fault: FaultMode | None) -> Response:
        limit = body.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            return errors(400, "INVALID_REQUEST_ERROR", "INVALID_VALUE",
                          f"Invalid limit; must be between 1 and {MAX_LIMIT}.", "limit")
        counts = square_counts(self.world)
        states = set(body.get("states") or []) - IGNORED_STATES
        if states:
            counts = [c for c in counts if c["state"] in states]
        if body.get("location_ids"):
            counts = [c for c in counts if c["location_id"] in body["location_ids"]]
        if body.get("updated_after"):
            try:
                cut = parse_utc(body["updated_after"])
            except ValueError:
                return errors(400, "INVALID_REQUEST_ERROR", "INVALID_TIME",
                              "Invalid updated_after.", "updated_after")
            counts = [c for c in counts if parse_utc(c["calculated_at"]) > cut]
        offset = 0
        if body.get("cursor"):
            try:
                offset = int(base64.urlsafe_b64decode(body["cursor"]).decode())
            except ValueError:
                return errors(400, "INVALID_REQUEST_ERROR", "INVALID_CURSOR",
                              "Invalid cursor.", "cursor")
        page = counts[offset: offset + limit]
        if fault is not None and fault.kind == "renamed_field":
            old, new = fault.rename or ("quantity", "quantity_decimal")
            page = [{(new if k == old else k): v for k, v in c.items()} for c in page]
        out: dict[str, Any] = {"counts": cut_rows(page, fault)}
        if offset + limit < len(counts):
            out["cursor"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        return json_response(200, out)
