"""Shopify's static resources for the sandbox world: Location and InventoryItem records
(doc 1.3 shapes). Datetimes stay aware; the server renders them with the shop's offset."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sandbox.catalog import LOCATIONS, Sku

_ADDRESSES: dict[str, tuple[str, str, str, str, str]] = {
    # address1, city, zip, province, province_code
    "EAST-DC": ("200 Commerce Way", "Edison", "08817", "New Jersey", "NJ"),
    "CICERO-3PL": ("5900 W Ogden Ave", "Cicero", "60804", "Illinois", "IL"),
}


def shopify_locations(start: datetime) -> list[dict[str, Any]]:
    created = start - timedelta(days=900)
    out = []
    for loc in sorted(LOCATIONS, key=lambda x: x.shopify_location_id or 0):
        address1, city, zip_code, province, province_code = _ADDRESSES[loc.location_id]
        out.append({
            "id": loc.shopify_location_id, "name": loc.name, "address1": address1,
            "address2": None, "city": city, "zip": zip_code, "province": province,
            "country": "US", "phone": None, "created_at": created, "updated_at": created,
            "country_code": "US", "country_name": "United States",
            "province_code": province_code, "legacy": False, "active": True,
            "admin_graphql_api_id": f"gid://shopify/Location/{loc.shopify_location_id}",
            "localized_country_name": "United States", "localized_province_name": province,
        })
    return out


def shopify_items(start: datetime, skus: Iterable[Sku]) -> list[dict[str, Any]]:
    out = []
    for i, sku in enumerate(sorted(skus, key=lambda s: s.shopify_item_id)):
        created = start - timedelta(days=400 - i, hours=i % 7)
        out.append({
            "id": sku.shopify_item_id, "sku": sku.sku, "created_at": created,
            "updated_at": created, "requires_shipping": True, "cost": f"{sku.unit_cost:.2f}",
            "country_code_of_origin": None, "province_code_of_origin": None,
            "harmonized_system_code": None, "tracked": True,
            "country_harmonized_system_codes": [],
            "admin_graphql_api_id": f"gid://shopify/InventoryItem/{sku.shopify_item_id}",
        })
    return out
