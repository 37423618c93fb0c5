"""Shopify GraphQL inventory levels -> raw rows, for paged answers and bulk JSONL alike.

vendor_api_facts.md §1.7 (quantity names), §1.10 (JSONL: one object per line, children
carry `__parentId` and may sit anywhere after their parent).
"""

from __future__ import annotations

import json
from typing import Any

from extractors.errors import Kind

NAMES: tuple[str, ...] = ("available", "on_hand", "committed", "reserved", "incoming",
                          "damaged", "safety_stock", "quality_control")  # §1.7


def gid_number(gid: Any) -> int:
    """`gid://shopify/InventoryItem/30322695` -> 30322695 (levels carry `?inventory_item_id`)."""
    try:
        return int(str(gid).rsplit("/", 1)[1].split("?", 1)[0])
    except (IndexError, ValueError):
        raise LevelError(f"{gid!r} is not a Shopify GID") from None


class LevelError(ValueError):
    def __init__(self, message: str, kind: Kind = "schema") -> None:
        super().__init__(message)
        self.kind: Kind = kind


def level_row(node: Any, loc_id: str, loc_name: str | None) -> dict[str, Any]:
    """One InventoryLevel node -> one raw row; every requested name must come back (§1.7)."""
    if not isinstance(node, dict):
        raise LevelError("inventory level is not an object", "malformed")
    for key in ("id", "item", "quantities"):
        if key not in node:
            raise LevelError(f"required field '{key}' missing in inventory level "
                             f"{node.get('id', '?')}")
    item = node["item"] or {}
    quantities = {q.get("name"): q.get("quantity") for q in node["quantities"]
                  if isinstance(q, dict)}
    missing = [n for n in NAMES if n not in quantities]
    if missing:
        raise LevelError(f"quantity name '{missing[0]}' missing in level {node['id']}")
    bad = [n for n in NAMES if not isinstance(quantities[n], int | None)]
    if bad:
        raise LevelError(f"quantity '{bad[0]}' of level {node['id']} is not an Int", "malformed")
    return {
        "inventory_level_id": node["id"], "inventory_item_id": gid_number(item.get("id")),
        "sku": item.get("sku"), "location_id": gid_number(loc_id), "location_name": loc_name,
        **{n: quantities[n] for n in NAMES}, "updated_at": node.get("updatedAt"),
    }




def parse_bulk_jsonl(body: bytes) -> list[dict[str, Any]]:
    """Locations first pass, levels second: a child's parent may be anywhere (§1.10)."""
    objects = []
    for n, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise LevelError(f"JSONL line {n} is not JSON (file cut?)", "malformed") from None
        if not isinstance(obj, dict) or "id" not in obj:
            raise LevelError(f"JSONL line {n} has no id", "schema")
        objects.append(obj)
    names = {o["id"]: o.get("name") for o in objects if "/Location/" in str(o["id"])}
    rows = []
    for o in objects:
        if "/InventoryLevel/" not in str(o["id"]):
            continue
        parent = o.get("__parentId")
        if parent not in names:
            raise LevelError(f"level {o['id']} has unknown __parentId {parent!r}")
        rows.append(level_row(o, str(parent), names[parent]))
    return rows
