"""State and vendor-shaped views of the sandbox world's other systems: the WMS, the 3PLs'
physical stock (ShipBob and the CSV partner), Amazon FBA, the Square store and the drop-ship
supplier. `World` (sandbox/world.py) moves the numbers; the functions here only render them
in each vendor's shape, so the servers and file feeds read one consistent state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.catalog import Sku, square_variation_id, supplier_part

# Which system holds the physical stock of a location (compared on on-hand with the ERP).
HOLDERS: dict[str, str] = {"EAST-DC": "wms", "WEST-DC": "wms", "CICERO-3PL": "shipbob",
                           "DALLAS-3PL": "partner_csv"}
FBA = "AMAZON-FBA-US"
STORE = "SOHO-STORE"
DROPSHIP = "DROPSHIP-ACME"


@dataclass
class Holding:
    """A warehouse's own count: on hand, allocated to orders, inbound (WRO / ASN)."""

    onhand: int
    committed: int = 0
    awaiting: int = 0
    internal_transfer: int = 0
    changed: int = 0            # minute of the last change (WMS `last_changed`)

    @property
    def fulfillable(self) -> int:
        return self.onhand - self.committed


@dataclass
class FbaStock:
    """Amazon's view of one seller SKU at the marketplace (FBA summaries, §2.4)."""

    fulfillable: int
    pending: int = 0            # reservedQuantity.pendingCustomerOrderQuantity
    inbound: int = 0            # inboundWorkingQuantity (a shipment plan the ERP has as a PO)
    changed: int = 0


@dataclass
class PosCount:
    """Square's counts for one item variation at the store (§5 states)."""

    in_stock: int
    reserved: int = 0           # RESERVED_FOR_SALE (none in this store's flows yet)
    changed: int = 0


def rfc3339_ms(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def amazon_summary(sku: Sku, fba: FbaStock, touched: datetime) -> dict[str, Any]:
    """One `inventorySummaries[]` entry with details=true (vendor_api_facts.md §2.4)."""
    item = int(sku.netsuite_item)
    return {
        "asin": f"B0{item:08d}", "fnSku": f"X0{item:08d}", "sellerSku": sku.sku,
        "condition": "NewItem",
        "inventoryDetails": {
            "fulfillableQuantity": fba.fulfillable, "inboundWorkingQuantity": fba.inbound,
            "inboundShippedQuantity": 0, "inboundReceivingQuantity": 0,
            "reservedQuantity": {"totalReservedQuantity": fba.pending,
                                 "pendingCustomerOrderQuantity": fba.pending,
                                 "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
            "researchingQuantity": {"totalResearchingQuantity": 0,
                                    "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": 0, "customerDamagedQuantity": 0,
                "warehouseDamagedQuantity": 0, "distributorDamagedQuantity": 0,
                "carrierDamagedQuantity": 0, "defectiveQuantity": 0, "expiredQuantity": 0},
        },
        # §2.4/§8: "2018-03-31T23:40:39Z"
        "lastUpdatedTime": touched.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "productName": sku.name,
        "totalQuantity": fba.fulfillable + fba.pending + fba.inbound,  # includes inbound
    }


def square_counts(sku: Sku, pos: PosCount, location_id: str,
                  touched: datetime) -> list[dict[str, Any]]:
    """InventoryCount objects (§5): quantity is a decimal string, one per tracked state."""
    return [{"catalog_object_id": square_variation_id(sku.sku),
             "catalog_object_type": "ITEM_VARIATION", "state": state,
             "location_id": location_id, "quantity": str(qty),
             "calculated_at": rfc3339_ms(touched)}
            for state, qty in (("IN_STOCK", pos.in_stock), ("RESERVED_FOR_SALE", pos.reserved))]


def supplier_items(skus: tuple[Sku, ...],
                   report: dict[str, int]) -> list[tuple[str, str, list[int]]]:
    """(supplier part, description, [on hand]) per SKU for the 846 generator."""
    return [(supplier_part(s), s.name.upper(), [report[s.sku]]) for s in skus]
