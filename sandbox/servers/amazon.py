"""Fake Amazon SP-API FBA Inventory v1 + a fake LWA token endpoint
(vendor_api_facts.md §2.1-2.5, §8, §9.3).

The world has no Amazon state of its own yet, so `fba_summaries(world)` derives one summary
per SKU from the ERP's EAST-DC balance (fulfillable = available, reserved = committed,
inbound = on order). A world that grows an `amazon_summaries()` accessor replaces it.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

from sandbox.catalog import MFN_SUFFIX, mfn_seller_sku
from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response
from sandbox.world import World
from stockdrift.clock import parse_utc

T = TypeVar("T")
MARKETPLACE = "ATVPDKIKX0DER"
# Marketplaces the sandbox seller sells in (US, CA, MX): each serves the same catalogue.
MARKETPLACES = frozenset({MARKETPLACE, "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8"})
SELLER_ID = "A3SANDBOXSELLER"
LISTINGS_PREFIX = "/listings/2021-08-01/items/"
LISTINGS_PAGE_MAX = 20  # searchListingsItems pageSize: default 10, maximum 20
LWA_PATH = "/auth/o2/token"
SUMMARIES_PATH = "/fba/inventory/v1/summaries"
CLIENT_ID = "amzn1.application-oa2-client.sandbox"
NEXT_TOKEN_TTL_S = 30.0  # §2.2: "will expire in 30 seconds"
QUOTA = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested "
         "resource.", "details": ""}  # §2.3 [COMMUNITY]


class TokenBucket:
    """§2.3: usage plan rate 2 requests/second, burst 2 (wall time)."""

    def __init__(self, rate: float = 2.0, burst: int = 2,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._now = rate, burst, now
        self._tokens, self._at = float(burst), now()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            t = self._now()
            self._tokens = min(self.burst, self._tokens + (t - self._at) * self.rate)
            self._at = t
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True


def errors(status: int, code: str, message: str, details: str = "",
           error_type: str | None = None) -> Response:
    """§2.5: every error status uses `{"errors": [{code, message, details}]}`."""
    headers = [("x-amzn-ErrorType", error_type)] if error_type else []
    return json_response(status, {"errors": [{"code": code, "message": message,
                                              "details": details}]}, headers)


def per_minute(fn: Callable[[World], T]) -> Callable[[World], T]:
    """The world only changes when it advances a minute: derive each view once per minute
    (the derived views are rebuilt from the whole world, which dominates large pages)."""
    memo: dict[int, tuple[datetime, T]] = {}

    def cached(world: World) -> T:
        hit = memo.get(id(world))
        now = world.now
        if hit is None or hit[0] != now:
            hit = (now, fn(world))
            memo[id(world)] = hit
        return hit[1]

    return cached


@per_minute
def fba_summaries(world: World) -> list[dict[str, Any]]:
    custom = getattr(world, "amazon_summaries", None)
    if callable(custom):
        return list(custom())
    out = []
    for row in world.erp_rows():
        if row["location"] != "1":  # EAST-DC ships the FBA inbound in this sandbox
            continue
        avail, committed = int(row["quantityavailable"]), int(row["quantitycommitted"])
        inbound = int(row.get("quantityonorder") or 0)
        touched = world.last_activity_at("EAST-DC", row["itemid"])
        out.append({
            "asin": f"B0{int(row['item']):08d}", "fnSku": f"X0{int(row['item']):08d}",
            "sellerSku": row["itemid"], "condition": "NewItem",
            "inventoryDetails": {
                "fulfillableQuantity": max(avail, 0), "inboundWorkingQuantity": inbound,
                "inboundShippedQuantity": 0, "inboundReceivingQuantity": 0,
                "reservedQuantity": {"totalReservedQuantity": committed,
                                     "pendingCustomerOrderQuantity": committed,
                                     "pendingTransshipmentQuantity": 0,
                                     "fcProcessingQuantity": 0},
                "researchingQuantity": {"totalResearchingQuantity": 0,
                                        "researchingQuantityBreakdown": []},
                "unfulfillableQuantity": {
                    "totalUnfulfillableQuantity": 0, "customerDamagedQuantity": 0,
                    "warehouseDamagedQuantity": 0, "distributorDamagedQuantity": 0,
                    "carrierDamagedQuantity": 0, "defectiveQuantity": 0, "expiredQuantity": 0},
            },
            # §2.4/§8: "2018-03-31T23:40:39Z", or "" when Amazon has no date
            "lastUpdatedTime": "" if touched is None
            else touched.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "productName": f"Sandbox item {row['itemid']}",
            "totalQuantity": max(avail, 0) + committed + inbound,  # includes inbound (§2.4)
        })
    return out


@per_minute
def mfn_listings(world: World) -> list[dict[str, Any]]:
    """searchListingsItems items (summaries + fulfillmentAvailability) for the merchant-
    fulfilled offers: quantities from `world.amazon_mfn_quantities()` ({seller SKU:
    quantity}) when the world has it, else the ERP's EAST-DC available (as FBA above)."""
    custom = getattr(world, "amazon_mfn_quantities", None)
    quantities: dict[str, int | None]
    if callable(custom):
        quantities = dict(custom())
    else:
        quantities = {mfn_seller_sku(row["itemid"]): max(int(row["quantityavailable"]), 0)
                      for row in world.erp_rows() if row["location"] == "1"}
    out = []
    for n, (sku, qty) in enumerate(sorted(quantities.items()), 1):
        touched = world.last_activity_at("EAST-DC", sku.removesuffix(MFN_SUFFIX))
        when = (touched or world.start).astimezone(UTC)
        out.append({
            "sku": sku,
            "summaries": [{
                "marketplaceId": MARKETPLACE, "asin": f"B1{n:08d}", "productType": "PRODUCT",
                "conditionType": "new_new", "status": ["BUYABLE", "DISCOVERABLE"],
                "itemName": f"Sandbox item {sku}",
                "createdDate": world.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "lastUpdatedDate": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }],
            "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT",
                                         "quantity": qty}],
        })
    return out


class AmazonApp(VendorApp):
    system_id = "amazon"
    page_size = 50  # [COMMUNITY] SP-API returns up to 50 summaries per page

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket = TokenBucket()  # replaceable in tests
        self.listings_bucket = TokenBucket(5.0, 5)  # searchListingsItems: 5 rps, burst 5
        self._pages: dict[str, tuple[int, str | None, str]] = {}  # pageToken -> state
        self.client_secret = f"{self.token}-client-secret"
        self._access: dict[str, float] = {}  # issued access token -> expiry (wall)
        self._next: dict[str, tuple[int, str | None, float]] = {}
        self.token_ttl_s = 3600.0
        self.throttled = 0  # 429s sent because the usage plan was exceeded

    def decorate(self, req: Request, resp: Response) -> Response:
        resp.headers.append(("x-amzn-RequestId", str(uuid.uuid4())))  # §2.3: every response
        return resp

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        if req.path == LWA_PATH:
            if fault.kind == "expired_token":
                return json_response(400, {"error": "invalid_grant", "error_description":
                                           "The request has an invalid grant parameter : "
                                           "refresh_token"})
            return json_response(503 if fault.kind == "status_500" else 429,
                                 {"error": "server_error",
                                  "error_description": "Service unavailable"})
        if fault.kind == "status_429":
            return errors(429, **QUOTA)  # no x-amzn-RateLimit-Limit on 429 (§2.3)
        if fault.kind == "expired_token":
            return errors(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided has expired.")
        return errors(500, "InternalFailure",
                      "We encountered an internal error. Please try again.")  # §2.5

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        if req.path == LWA_PATH and req.method == "POST":
            return self._lwa(req)
        listings = req.path.startswith(LISTINGS_PREFIX) and req.method == "GET"
        if not listings and (req.path != SUMMARIES_PATH or req.method != "GET"):
            return errors(404, "NotFound", "Resource not found.")
        expiry = self._access.get(req.header("x-amz-access-token") or "")
        if expiry is None:
            return errors(403, "Unauthorized", "Access to requested resource is denied.",
                          "Access token is missing in the request header.", "AccessDeniedException")
        if time.monotonic() >= expiry:
            return errors(403, "Unauthorized", "Access to requested resource is denied.",
                          "The access token you provided has expired.")
        if not (self.listings_bucket if listings else self.bucket).take():
            self.throttled += 1
            return errors(429, **QUOTA)
        return self._listings(req, fault) if listings else self._summaries(req, fault)

    def _listings(self, req: Request, fault: FaultMode | None) -> Response:
        """searchListingsItems (Listings Items API v2021-08-01)."""
        seller = req.path[len(LISTINGS_PREFIX):]
        if seller != SELLER_ID:
            return errors(403, "Unauthorized", "Access to requested resource is denied.",
                          "The seller id does not match the authorized selling partner.")
        p = {k: v[-1] for k, v in req.query.items() if v}
        market = p.get("marketplaceIds", "")
        if market not in MARKETPLACES:  # exactly one id (length <= 1)
            return errors(400, "InvalidInput", "Invalid marketplaceIds.")
        try:
            size = int(p.get("pageSize", "10"))
        except ValueError:
            size = 0
        if not 1 <= size <= LISTINGS_PAGE_MAX:
            return errors(400, "InvalidInput", "pageSize must be between 1 and 20.")
        since = p.get("lastUpdatedAfter")
        offset = 0
        if "pageToken" in p:
            with self._lock:
                state = self._pages.get(p["pageToken"])
            if state is None or state[1] != since or state[2] != market:
                return errors(400, "InvalidInput", "Invalid pageToken.")
            offset = state[0]
        items = mfn_listings(self.world)
        if since:
            try:
                cut = parse_utc(since)
            except ValueError:
                return errors(400, "InvalidInput", f"Invalid lastUpdatedAfter: {since}")
            items = [i for i in items
                     if parse_utc(i["summaries"][0]["lastUpdatedDate"]) > cut]
        included = set(p.get("includedData", "summaries").split(","))
        page = [{"sku": i["sku"], **{k: (v if k != "summaries" else
                                         [{**x, "marketplaceId": market} for x in v])
                                      for k, v in i.items() if k in included}}
                for i in items[offset: offset + size]]
        if fault is not None and fault.kind == "renamed_field":
            old, new = fault.rename or ("fulfillmentAvailability", "fulfillment_availability")
            page = [{(new if k == old else k): v for k, v in i.items()} for i in page]
        body: dict[str, Any] = {"numberOfResults": len(items)}
        if offset + size < len(items):
            token = secrets.token_urlsafe(18)
            with self._lock:
                self._pages[token] = (offset + size, since, market)
            body["pagination"] = {"nextToken": token}
        body["items"] = cut_rows(page, fault)
        return json_response(200, body, [("x-amzn-RateLimit-Limit", "5.0")])

    def _lwa(self, req: Request) -> Response:
        """§2.1 refresh-token grant; answers like api.amazon.com/auth/o2/token."""
        form = {k: v[-1] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return json_response(400, {"error": "unsupported_grant_type",
                                       "error_description": "Invalid grant type"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self.client_secret:
            return json_response(401, {"error": "invalid_client",
                                       "error_description": "Client authentication failed"})
        if form.get("refresh_token") != self.token:
            return json_response(400, {"error": "invalid_grant", "error_description":
                                       "The request has an invalid grant parameter : "
                                       "refresh_token"})
        access = "Atza|" + secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = time.monotonic() + self.token_ttl_s
        return json_response(200, {"access_token": access, "token_type": "bearer",
                                   "expires_in": int(self.token_ttl_s),
                                   "refresh_token": self.token})

    def expire_tokens(self) -> None:
        """Every issued access token expires now (tests of the refresh path)."""
        with self._lock:
            self._access = dict.fromkeys(self._access, 0.0)

    def _summaries(self, req: Request, fault: FaultMode | None) -> Response:
        p = {k: v[-1] for k, v in req.query.items() if v}
        if p.get("granularityType") != "Marketplace" or not p.get("granularityId"):
            return errors(400, "InvalidInput", "Invalid granularityType or granularityId.")
        if p.get("marketplaceIds", "").split(",")[0] not in MARKETPLACES:
            return errors(400, "InvalidInput", "Invalid marketplaceIds.")
        since = p.get("startDateTime")
        offset = 0
        if "nextToken" in p:
            with self._lock:
                state = self._next.pop(p["nextToken"], None)  # single use (§9.3)
            if state is None or time.monotonic() > state[2]:
                return errors(400, "InvalidInput", "Invalid nextToken.")
            if state[1] != since:  # §2.2: startDateTime must accompany nextToken
                return errors(400, "InvalidInput",
                              "startDateTime is required with nextToken for this request.")
            offset = state[0]
        rows = fba_summaries(self.world)
        if since:
            try:
                cut = parse_utc(since)
            except ValueError:
                return errors(400, "InvalidInput", f"Invalid startDateTime: {since}")
            rows = [r for r in rows
                    if r["lastUpdatedTime"] and parse_utc(r["lastUpdatedTime"]) > cut]
        if p.get("details") != "true":
            rows = [{k: v for k, v in r.items() if k != "inventoryDetails"} for r in rows]
        page = rows[offset: offset + self.page_size]
        if fault is not None and fault.kind == "renamed_field":
            old, new = fault.rename or ("sellerSku", "sellerSKU")
            page = [{(new if k == old else k): v for k, v in r.items()} for r in page]
        body: dict[str, Any] = {}
        if offset + self.page_size < len(rows):
            token = secrets.token_urlsafe(18)
            with self._lock:
                self._next[token] = (offset + self.page_size, since,
                                     time.monotonic() + NEXT_TOKEN_TTL_S)
            body["pagination"] = {"nextToken": token}
        body["payload"] = {"granularity": {"granularityType": "Marketplace",
                                           "granularityId": p["granularityId"]},
                           "inventorySummaries": cut_rows(page, fault)}
        return json_response(200, body, [("x-amzn-RateLimit-Limit", "2.0")])
