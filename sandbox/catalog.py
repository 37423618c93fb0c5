"""The sandbox world's fixed catalog: canonical SKUs and locations and every system's ids.

Ids are fixed (not random) so the committed mapping seeds in `dbt/seeds/` describe this
world exactly; `python -m sandbox.catalog` rewrites them and a test checks they agree.
The catalog deliberately contains one SKU that no mapping knows (`UNMAPPED_SKU`).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds"


@dataclass(frozen=True)
class Sku:
    sku: str                  # canonical SKU (also the ERP itemid and the Shopify sku)
    netsuite_item: str        # NetSuite internal item id
    shopify_item_id: int      # Shopify inventory_item_id
    shipbob_inventory_id: int  # ShipBob inventory id (ShipBob's list has no SKU field)
    name: str
    unit_cost: float


@dataclass(frozen=True)
class Location:
    location_id: str          # canonical
    name: str
    timezone: str
    netsuite_location: str    # NetSuite internal location id
    shopify_location_id: int
    shipbob_fc_id: int | None  # only the 3PL warehouse is a ShipBob fulfillment center


LOCATIONS: tuple[Location, ...] = (
    Location("EAST-DC", "East DC", "America/New_York", "1", 655441491, None),
    Location("CICERO-3PL", "ShipBob Cicero", "America/Chicago", "2", 487838322, 10),
)
SHIPBOB_FC_NAME = "Cicero (IL)"

_NAMES = (
    "Merino Crew Sock", "Trail Runner", "Canvas Tote", "Rain Shell", "Wool Beanie",
    "Down Vest", "Fleece Pullover", "Hiking Short", "Base Layer Top", "Camp Mug",
    "Insulated Bottle", "Headlamp", "Trekking Pole", "Dry Bag 10L", "Sun Hoodie",
    "Packable Jacket", "Gaiter", "Liner Glove", "Sleeping Pad", "Camp Chair",
    "Water Filter", "Trail Sandal", "Rain Pant", "Cap", "Bandana",
    "Chalk Bag", "Climbing Shoe", "Belay Device", "Carabiner Set", "First Aid Kit",
)


def _sku(i: int) -> Sku:
    n = 1001 + i
    return Sku(
        sku=f"SD-{n}",
        netsuite_item=str(100 + i),
        shopify_item_id=49148385 + 1000 * i,
        shipbob_inventory_id=880000 + i,
        name=_NAMES[i % len(_NAMES)],
        unit_cost=round(4.5 + (i * 7.3) % 60, 2),
    )


SKUS: tuple[Sku, ...] = tuple(_sku(i) for i in range(30))
# A new product the merchandising team launched on every system before anyone mapped it.
UNMAPPED_SKU = Sku("SD-2001", "900", 49999001, 889999, "Limited Edition Parka", 88.0)
# Real catalogs carry ids with `/`, `.`, spaces and non-ASCII letters; they are mapped like
# any other SKU and only present in the world when `Scenario.odd_ids` is on.
ODD_SKUS: tuple[Sku, ...] = (
    Sku("SD/3001-BLK", "301", 49300001, 883001, "Slash Sock", 6.0),
    Sku("SD.3002.v2", "302", 49300002, 883002, "Dotted Tee", 12.0),
    Sku("SD 3003 XL", "303", 49300003, 883003, "Spaced Fleece", 31.0),
    Sku("SD-3004-Größe-Ñ", "304", 49300004, 883004, "Umlaut Parka", 54.0),
)
ALL_SKUS: tuple[Sku, ...] = (*SKUS, UNMAPPED_SKU)
# SKUs sold on backorder: a negative master available is allowed for them (no exception).
BACKORDER_SKUS: frozenset[str] = frozenset({"SD-1030"})


def sku_map_rows() -> list[dict[str, str]]:
    rows = []
    for s in (*SKUS, *ODD_SKUS):
        rows.append({"system_id": "erp", "external_sku": s.sku, "canonical_sku": s.sku})
        rows.append({"system_id": "shopify", "external_sku": s.sku, "canonical_sku": s.sku})
        rows.append({"system_id": "shipbob", "external_sku": str(s.shipbob_inventory_id),
                     "canonical_sku": s.sku})
    return rows


def location_map_rows() -> list[dict[str, str]]:
    rows = []
    for loc in LOCATIONS:
        rows.append({"system_id": "erp", "external_location": loc.netsuite_location,
                     "canonical_location": loc.location_id})
        rows.append({"system_id": "shopify", "external_location": str(loc.shopify_location_id),
                     "canonical_location": loc.location_id})
        if loc.shipbob_fc_id is not None:
            rows.append({"system_id": "shipbob", "external_location": str(loc.shipbob_fc_id),
                         "canonical_location": loc.location_id})
    return rows


def sku_policy_rows() -> list[dict[str, str]]:
    return [{"canonical_sku": s.sku,
             "backorder_allowed": "true" if s.sku in BACKORDER_SKUS else "false"}
            for s in (*SKUS, *ODD_SKUS)]


def render_csv(rows: list[dict[str, str]]) -> str:
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def seed_files() -> dict[str, str]:
    return {"sku_map.csv": render_csv(sku_map_rows()),
            "location_map.csv": render_csv(location_map_rows()),
            "sku_policies.csv": render_csv(sku_policy_rows())}


def main() -> int:
    SEEDS_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in seed_files().items():
        (SEEDS_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {SEEDS_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
