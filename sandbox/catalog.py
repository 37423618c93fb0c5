"""The sandbox world's fixed catalog: canonical SKUs and locations and every system's ids.

Ids are fixed (not random) so the committed mapping seeds in `dbt/seeds/` describe this
world exactly; `python -m sandbox.catalog` rewrites them and a test checks they agree.
The catalog deliberately contains one SKU that no mapping knows (`UNMAPPED_SKU`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
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
    shopify_location_id: int | None   # None: the storefront does not sell from it
    shipbob_fc_id: int | None  # only the 3PL warehouse is a ShipBob fulfillment center
    # (system id, that system's location id) for the systems beyond ERP/Shopify/ShipBob
    other_ids: tuple[tuple[str, str], ...] = ()

    def external(self, system_id: str) -> str | None:
        return dict(self.other_ids).get(system_id)


# The locations the Shopify storefront sells from (the first world: ERP, Shopify, ShipBob).
LOCATIONS: tuple[Location, ...] = (
    # EAST-DC also ships the seller's own (merchant-fulfilled) Amazon offers
    Location("EAST-DC", "East DC", "America/New_York", "1", 655441491, None,
             (("wms", "DC01"), ("amazon_mfn", "ATVPDKIKX0DER"))),
    Location("CICERO-3PL", "ShipBob Cicero", "America/Chicago", "2", 487838322, 10),
)
# Locations only the ERP and one other system know (issue 3: every kind of system).
OTHER_LOCATIONS: tuple[Location, ...] = (
    # the WMS's second building: wholesale orders only, not on the storefront
    Location("WEST-DC", "West DC", "America/Los_Angeles", "3", None, None, (("wms", "DC02"),)),
    # FBA stock is reported per marketplace, not per fulfillment center (SP-API
    # granularityType=Marketplace, vendor_api_facts.md §2.2): the marketplace id maps it
    Location("AMAZON-FBA-US", "Amazon FBA (US)", "America/Los_Angeles", "4", None, None,
             (("amazon", "ATVPDKIKX0DER"),)),
    # the Square POS store; Square location ids are 13 upper-case characters
    Location("SOHO-STORE", "SoHo Store", "America/New_York", "5", None, None,
             (("square", "L8SOHOSTORE01"),)),
    # stock the supplier holds and drop-ships for us; the ERP books it from its 846 feed
    Location("DROPSHIP-ACME", "Acme Supply (drop-ship)", "America/Chicago", "6", None, None,
             (("supplier", "ACME-RENO"),)),
    # A small regional 3PL with no API: it sends a CSV stock export to a drop folder. A
    # separate building (not CICERO-3PL, which ShipBob's API already covers) so the CSV feed
    # is the only view of that stock besides the ERP, as it is for such partners.
    Location("DALLAS-3PL", "Lone Star 3PL Dallas", "America/Chicago", "7", None, None,
             (("partner_csv", "LS-DAL"),)),
)
ALL_LOCATIONS: tuple[Location, ...] = (*LOCATIONS, *OTHER_LOCATIONS)
SHIPBOB_FC_NAME = "Cicero (IL)"
AMAZON_MARKETPLACE = "ATVPDKIKX0DER"   # Amazon.com (US)

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
# A kit listed on Shopify only: the master books no stock for it; it is built from its
# components (seed bundle_components.csv), so only the storefront's sku_map knows it.
BUNDLE = Sku("SD-KIT-01", "950", 49950001, 889950, "Sock & Tote Kit", 14.0)
BUNDLE_COMPONENTS: tuple[tuple[str, int], ...] = (("SD-1003", 1), ("SD-1004", 2))
# SKUs tracked by lot at the lot-capable holders (ShipBob at CICERO-3PL, the WMS at EAST-DC)
# and in the ERP; SD-1012 is dated (seed sku_lot_policies.csv: 45 days before expiry).
LOT_SKUS: tuple[str, ...] = ("SD-1011", "SD-1012")
LOT_LOCATIONS: tuple[str, ...] = ("EAST-DC", "CICERO-3PL")


def square_variation_id(sku: str) -> str:
    """Square catalog ids are 24 upper-case base32 characters (`W62UWFY35CWMYGVWK6TWJDNI`)."""
    return base64.b32encode(hashlib.sha1(sku.encode()).digest()).decode()[:24]


def supplier_part(sku: Sku) -> str:
    """The supplier's own part number (846 `LIN..VP`): X12 text is upper-case ASCII, so the
    supplier never carries our SKU (which may hold spaces or non-ASCII letters)."""
    return f"ACME-{int(sku.netsuite_item):05d}"


MFN_SUFFIX = "-MFN"


def mfn_seller_sku(sku: str) -> str:
    """Amazon offers are per seller SKU and one SKU is either FBA or merchant-fulfilled, so
    the merchant-fulfilled offer of a product has its own seller SKU."""
    return sku + MFN_SUFFIX


def external_skus(sku: Sku) -> dict[str, str]:
    """Each system's id for a SKU. The WMS, Amazon (seller SKU) and the CSV partner use ours."""
    return {"erp": sku.sku, "shopify": sku.sku, "shipbob": str(sku.shipbob_inventory_id),
            "wms": sku.sku, "amazon": sku.sku, "square": square_variation_id(sku.sku),
            "supplier": supplier_part(sku), "partner_csv": sku.sku,
            "amazon_mfn": mfn_seller_sku(sku.sku)}


def sku_map_rows() -> list[dict[str, str]]:
    rows = [{"system_id": system_id, "external_sku": external, "canonical_sku": s.sku}
            for s in (*SKUS, *ODD_SKUS) for system_id, external in external_skus(s).items()]
    return [*rows, {"system_id": "shopify", "external_sku": BUNDLE.sku,
                    "canonical_sku": BUNDLE.sku}]


def bundle_component_rows() -> list[dict[str, str]]:
    return [{"bundle_sku": BUNDLE.sku, "component_sku": sku, "component_qty": str(qty)}
            for sku, qty in BUNDLE_COMPONENTS]


def location_map_rows() -> list[dict[str, str]]:
    rows = []
    for loc in ALL_LOCATIONS:
        rows.append({"system_id": "erp", "external_location": loc.netsuite_location,
                     "canonical_location": loc.location_id})
        if loc.shopify_location_id is not None:
            rows.append({"system_id": "shopify",
                         "external_location": str(loc.shopify_location_id),
                         "canonical_location": loc.location_id})
        if loc.shipbob_fc_id is not None:
            rows.append({"system_id": "shipbob", "external_location": str(loc.shipbob_fc_id),
                         "canonical_location": loc.location_id})
        rows += [{"system_id": system_id, "external_location": external,
                  "canonical_location": loc.location_id} for system_id, external in loc.other_ids]
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
            "sku_policies.csv": render_csv(sku_policy_rows()),
            "bundle_components.csv": render_csv(bundle_component_rows())}


def main() -> int:
    SEEDS_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in seed_files().items():
        (SEEDS_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {SEEDS_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
