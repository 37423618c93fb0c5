"""Fake Shopify Admin GraphQL API: locations, location.inventoryLevels with named
quantities, cost-based throttling, bulk operations with a JSONL result
(vendor_api_facts.md §1.7-1.10, §9.2).

Not a GraphQL engine: it recognises the operations stockdrift sends by their root fields
and variables, and answers in the documented shapes. Quantities beyond Shopify's
`available` come from the world's ERP balance (on_hand = available + committed, incoming =
on order) until the world models them itself.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.servers import FaultMode, Request, Response, VendorApp, cut_rows, json_response
from sandbox.servers.amazon import per_minute
from sandbox.world import World
from stockdrift.clock import parse_utc

_PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json$")
_BULK_FILE = re.compile(r"^/bulk-results/(?P<id>\d+)\.jsonl$")
_NAMES = re.compile(r"quantities\(names:\s*\[([^\]]*)\]\)")
_SINCE = re.compile(r"updated_at:>'?([^' ]+)'?")
ALL_NAMES = ("available", "on_hand", "committed", "reserved", "incoming", "damaged",
             "safety_stock", "quality_control")  # §1.7
ERR_401 = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = {"message": "Throttled", "extensions": {
    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}


class CostBucket:
    """§1.9 leaky bucket of query points (docs example: 1000 max, restores 50/s)."""

    def __init__(self, maximum: float = 1000.0, restore: float = 50.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.maximum, self.restore, self._now = maximum, restore, now
        self._available, self._at = maximum, now()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        t = self._now()
        self._available = min(self.maximum, self._available + (t - self._at) * self.restore)
        self._at = t

    def take(self, requested: float, actual: float) -> bool:
        """Requested cost must be available up front; the difference is refunded."""
        with self._lock:
            self._refill()
            if requested > self._available:
                return False
            self._available -= actual
            return True

    def status(self) -> dict[str, float]:
        with self._lock:
            self._refill()
            return {"maximumAvailable": self.maximum,
                    "currentlyAvailable": int(self._available), "restoreRate": self.restore}


def gql_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # §1.7 DateTime, UTC


@per_minute
def levels_by_location(world: World) -> dict[int, list[dict[str, Any]]]:
    erp = {(r["itemid"], r["location_name"]): r for r in world.erp_rows()}
    locs = {loc["id"]: loc["name"] for loc in world.shopify_locations()}
    skus = {i["id"]: i["sku"] for i in world.shopify_items()}
    out: dict[int, list[dict[str, Any]]] = {lid: [] for lid in locs}
    for lvl in world.shopify_levels():
        item, loc = lvl["inventory_item_id"], lvl["location_id"]
        bal = erp.get((skus[item], locs[loc]), {})
        committed = int(bal.get("quantitycommitted", 0))
        q = {"available": lvl["available"], "committed": committed,
             "on_hand": lvl["available"] + committed, "reserved": 0,
             "incoming": int(bal.get("quantityonorder") or 0), "damaged": 0,
             "safety_stock": 0, "quality_control": 0}
        out[loc].append({
            "id": f"gid://shopify/InventoryLevel/{loc}{item % 100000}?inventory_item_id={item}",
            "updatedAt": gql_time(lvl["updated_at"]), "_updated": lvl["updated_at"],
            "item": {"id": f"gid://shopify/InventoryItem/{item}", "sku": skus[item]},
            "_q": q,
        })
    return out


class ShopifyGraphqlApp(VendorApp):
    system_id = "shopify_gql"
    throttle_status = 200  # §1.9: 200 vs 429 is unresolved; tests may choose 429

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bucket = CostBucket()  # replaceable in tests
        self.bulk_polls_to_finish = 2  # CREATED -> RUNNING -> COMPLETED
        self._ops: dict[int, dict[str, Any]] = {}
        self._current: int | None = None

    def decorate(self, req: Request, resp: Response) -> Response:
        resp.headers.append(("X-Request-Id", str(uuid.uuid4())))
        return resp

    def fault_error(self, fault: FaultMode, req: Request) -> Response:
        if fault.kind == "status_429":
            return self._throttled(752)
        if fault.kind == "expired_token":
            return json_response(401, {"errors": ERR_401})
        return json_response(500, {"errors": "Internal Server Error"})

    def _throttled(self, requested: int) -> Response:
        return json_response(self.throttle_status, {"errors": [THROTTLED], "extensions": {
            "cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                     "throttleStatus": self.bucket.status()}}})

    def handle(self, req: Request, fault: FaultMode | None) -> Response:
        match = _BULK_FILE.match(req.path)
        if match and req.method == "GET":  # a signed storage URL: no token needed (§1.10)
            op = self._ops.get(int(match["id"]))
            if op is None or op["status"] != "COMPLETED":
                return Response(404, b"NoSuchKey", [("Content-Type", "application/xml")])
            return Response(200, op["jsonl"], [("Content-Type", "application/jsonl")])
        if req.header("X-Shopify-Access-Token") != self.token:
            return json_response(401, {"errors": ERR_401})
        if not _PATH.match(req.path) or req.method != "POST":
            return json_response(404, {"errors": "Not Found"})
        try:
            body = json.loads(req.body)
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return json_response(400, {"errors": {"query": "Required parameter missing or "
                                                  "invalid"}})
        return self._execute(req, query, variables, fault)

    def _execute(self, req: Request, query: str, variables: dict[str, Any],
                 fault: FaultMode | None) -> Response:
        if "bulkOperationRunQuery" in query:
            return self._answer(10, 10, {"bulkOperationRunQuery": self._bulk_start(
                variables.get("query", ""), req)})
        if "currentBulkOperation" in query:
            return self._answer(1, 1, {"currentBulkOperation": self._bulk_poll(req)})
        if "inventoryLevels(" in query and "location(id:" in query:
            return self._levels(query, variables, fault)
        if "locations(" in query:
            locs = [{"id": f"gid://shopify/Location/{loc['id']}", "name": loc["name"]}
                    for loc in self.world.shopify_locations()]
            return self._answer(252, 2 + len(locs), {"locations": {
                "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": locs}})
        return json_response(200, {"errors": [{"message": "Field is not supported by the "
                                               "stockdrift sandbox", "extensions":
                                               {"code": "undefinedField"}}]})

    def _answer(self, requested: int, actual: int, data: dict[str, Any]) -> Response:
        if not self.bucket.take(requested, actual):
            return self._throttled(requested)
        return json_response(200, {"data": data, "extensions": {"cost": {
            "requestedQueryCost": requested, "actualQueryCost": actual,
            "throttleStatus": self.bucket.status()}}})

    def _levels(self, query: str, v: dict[str, Any], fault: FaultMode | None) -> Response:
        first = int(v.get("first") or 50)
        asked = _NAMES.search(query)
        names = [n.strip().strip('"') for n in (asked.group(1) if asked else "").split(",")
                 if n.strip()]
        loc = int(str(v.get("location", "")).rsplit("/", 1)[-1] or 0)
        levels = levels_by_location(self.world).get(loc)
        if levels is None:
            return self._answer(2, 1, {"location": None})
        since = _SINCE.search(v.get("query") or "")
        if since:
            cut = parse_utc(since.group(1))
            levels = [lv for lv in levels if lv["_updated"] > cut]
        offset = int(base64.b64decode(v["after"]).decode()) if v.get("after") else 0
        page = levels[offset: offset + first]
        nodes = []
        for lv in page:
            node = {k: val for k, val in lv.items() if not k.startswith("_")}
            node["quantities"] = [{"name": n, "quantity": lv["_q"].get(n)} for n in names]
            if fault is not None and fault.kind == "renamed_field":
                old, new = fault.rename or ("quantities", "inventoryQuantities")
                node = {(new if k == old else k): val for k, val in node.items()}
            nodes.append(node)
        more = offset + first < len(levels)
        info = {"hasNextPage": more,
                "endCursor": base64.b64encode(str(offset + len(page)).encode()).decode()
                if page else None}
        return self._answer(2 + 3 * first, 2 + 3 * len(page), {"location": {
            "inventoryLevels": {"pageInfo": info, "nodes": cut_rows(nodes, fault)}}})

    # --- bulk operations (§1.10) -------------------------------------------------------------
    def _bulk_start(self, query: str, req: Request) -> dict[str, Any]:
        with self._lock:
            current = self._ops.get(self._current or -1)
            if current is not None and current["status"] in ("CREATED", "RUNNING"):
                return {"bulkOperation": None, "userErrors": [
                    {"field": None, "message": "A bulk query operation is already running."}]}
            op_id = 720918 + len(self._ops)
            self._ops[op_id] = {"id": op_id, "status": "CREATED", "polls": 0, "query": query,
                                "created": datetime.now(UTC)}
            self._current = op_id
        return {"bulkOperation": {"id": f"gid://shopify/BulkOperation/{op_id}",
                                  "status": "CREATED"}, "userErrors": []}

    def _bulk_poll(self, req: Request) -> dict[str, Any] | None:
        with self._lock:
            op = self._ops.get(self._current or -1)
            if op is None:
                return None
            op["polls"] += 1
            if op["status"] in ("CREATED", "RUNNING"):
                op["status"] = ("COMPLETED" if op["polls"] >= self.bulk_polls_to_finish
                                else "RUNNING")
                if op["status"] == "COMPLETED":
                    op["jsonl"], op["count"] = self._jsonl()
                    op["completed"] = datetime.now(UTC)
        done = op["status"] == "COMPLETED"
        return {"id": f"gid://shopify/BulkOperation/{op['id']}", "status": op["status"],
                "errorCode": None, "createdAt": gql_time(op["created"]),
                "completedAt": gql_time(op["completed"]) if done else None,
                "objectCount": str(op.get("count", 0)),  # UnsignedInt64 as string
                "fileSize": str(len(op.get("jsonl", b""))),
                "url": f"http://{req.host}/bulk-results/{op['id']}.jsonl" if done else None,
                "partialDataUrl": None}

    def _jsonl(self) -> tuple[bytes, int]:
        """Ungrouped JSONL: parents first, children with `__parentId`; the last child of the
        first location is moved to the end (non-adjacent, as in the docs' example)."""
        names = ALL_NAMES
        lines: list[dict[str, Any]] = []
        moved: list[dict[str, Any]] = []
        locs = {loc["id"]: loc["name"] for loc in self.world.shopify_locations()}
        for i, (loc, levels) in enumerate(levels_by_location(self.world).items()):
            gid = f"gid://shopify/Location/{loc}"
            lines.append({"id": gid, "name": locs[loc]})
            children = [{**{k: v for k, v in lv.items() if not k.startswith("_")},
                         "quantities": [{"name": n, "quantity": lv["_q"][n]} for n in names],
                         "__parentId": gid} for lv in levels]
            if i == 0 and children:
                moved.append(children.pop())
            lines += children
        lines += moved
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        return body.encode(), len(lines)
