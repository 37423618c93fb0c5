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
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response
from sandbox.servers.amazon import per_minute
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


@per_minute
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


CLIENT_ID = "sq0idp-sandbox"


class SquareApp(VendorApp):
    """`self.token` is a personal access token; OAuth apps refresh with
    `refresh_token` / `client_secret` below (`POST /oauth2/token`)."""

    system_id = "square"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refresh_token = f"{self.token}-refresh"
        self.client_secret = f"{self.token}-client-secret"
        self._issued: set[str] = set()

    def expire_tokens(self) -> None:
        """Every OAuth access token issued so far expires now (tests of the refresh path)."""
        with self._lock:
            self._issued.clear()

    def _obtain_token(self, req: Request) -> Response:
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            body = {}
        if (body.get("grant_type") != "refresh_token" or body.get("client_id") != CLIENT_ID
                or body.get("client_secret") != self.client_secret
                or body.get("refresh_token") != self.refresh_token):
            return errors(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
                          "Invalid client credentials or refresh token.")
        token = "EAAA" + secrets.token_urlsafe(24)
        with self._lock:
            self._issued.add(token)
        expires = datetime.now(UTC) + timedelta(days=30)
        return json_response(200, {"access_token": token, "token_type": "bearer",
                                   "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   "merchant_id": "MLSANDBOX01",
                                   "refresh_token": self.refresh_token, "short_lived": False})

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
        if req.path == "/oauth2/token" and req.method == "POST":
            return self._obtain_token(req)
        auth = req.header("Authorization") or ""
        if auth != f"Bearer {self.token}" and auth.removeprefix("Bearer ") not in self._issued:
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
