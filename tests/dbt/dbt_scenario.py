"""A small synthetic history for the dbt project: four cycles, three systems, a few keys.

Ids come from `sandbox/catalog.py`, so the committed mapping seeds apply. What each key
does (cycle index 0..3 = 09:00, 09:05, 09:10, 09:15 UTC; targets: erp/shopify 5 min,
shipbob 15 min; tolerance 0):

- OVERSOLD (SD-1001 @ EAST-DC): master available 4 throughout; Shopify lists 4, then 7 from
  cycle 1 on (it rose with no master change): by cycle 3 the drift is 10 minutes old ->
  settled, unexplained_increase, critical.
- IN_FLIGHT (SD-1002 @ EAST-DC): master available 20 -> 15 at cycle 3; Shopify still 20 in
  cycle 3 -> out of tolerance but in flight (master changed 0 minutes ago), sync lag open.
- SYNCED (SD-1003 @ EAST-DC): master available 30 -> 25 at cycle 1; Shopify follows at
  cycle 2 -> sync lag 5 minutes.
- NEW_DRIFT (SD-1005 @ EAST-DC): Shopify lists 1 unit less only in cycle 3 -> in flight.
- SHIPBOB_DRIFT (SD-1004 @ CICERO-3PL): ShipBob counts 3 fewer than the master's on-hand;
  ShipBob's extraction fails in cycle 3 -> every ShipBob key suppressed (extract_failed),
  its last good numbers kept (never zero).
- UNMAPPED_SKU (SD-2001) everywhere; from cycle 2 Shopify also reports a location no
  mapping knows (UNMAPPED_SHOPIFY_LOCATION).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.catalog import LOCATIONS, SHIPBOB_FC_NAME, SKUS, UNMAPPED_SKU, Sku

CYCLES: tuple[datetime, ...] = tuple(
    datetime(2025, 1, 6, 9, 0) + timedelta(minutes=5 * i) for i in range(4)
)
OVERSOLD, IN_FLIGHT, SYNCED, SHIPBOB_DRIFT, NEW_DRIFT = SKUS[0], SKUS[1], SKUS[2], SKUS[3], SKUS[4]
UNMAPPED_SHOPIFY_LOCATION = 777000111
SHIPBOB_FAILS_AT = 3
SHIPBOB_ERROR = "HTTP 503 from ShipBob GET /1.0/inventory page 1: Service Unavailable (3 attempts)"
KEYED_SKUS: tuple[Sku, ...] = (*SKUS[:6], UNMAPPED_SKU)
EAST, CICERO = LOCATIONS


@dataclass(frozen=True)
class Book:
    on_hand: int
    committed: int

    @property
    def available(self) -> int:
        return self.on_hand - self.committed


def master_book(sku: Sku, loc_index: int, cycle: int) -> Book:
    """The ERP's numbers for a key at a cycle."""
    if loc_index == 0 and sku == OVERSOLD:
        return Book(on_hand=6, committed=2)  # available 4: low stock
    if loc_index == 0 and sku == IN_FLIGHT:
        return Book(on_hand=22 if cycle < 3 else 17, committed=2)  # 20 -> 15 at cycle 3
    if loc_index == 0 and sku == SYNCED:
        return Book(on_hand=32 if cycle < 1 else 27, committed=2)  # 30 -> 25 at cycle 1
    base = 40 + 3 * SKUS.index(sku) if sku in SKUS else 12
    return Book(on_hand=base + 10 * loc_index, committed=3)


def shopify_listed(sku: Sku, loc_index: int, cycle: int) -> int:
    master = master_book(sku, loc_index, cycle).available
    if loc_index == 0 and sku == OVERSOLD and cycle >= 1:
        return master + 3
    if loc_index == 0 and sku == IN_FLIGHT and cycle == 3:
        return 20  # has not caught up with the change yet
    if loc_index == 0 and sku == SYNCED and cycle == 1:
        return 30  # one cycle behind the change
    if loc_index == 0 and sku == NEW_DRIFT and cycle == 3:
        return master - 1
    return master


def shipbob_on_hand(sku: Sku, cycle: int) -> int:
    master = master_book(sku, 1, cycle).on_hand
    return master - 3 if sku == SHIPBOB_DRIFT else master


def snapshot_row(
    system_id: str, connector: str, cycle: int, status: str, rows: int
) -> tuple[Any, ...]:
    at = CYCLES[cycle]
    return (
        f"{system_id}-{at:%Y%m%d%H%M}",
        system_id,
        connector,
        at,
        at + timedelta(seconds=5),
        at + timedelta(seconds=20),
        None,
        status,
        rows,
        1,
        1,
        SHIPBOB_ERROR if status == "failed" else None,
    )


def land_cycle(con: Any, cycle: int) -> None:
    """Insert the three systems' snapshots of one cycle, as the extractors would."""
    at = CYCLES[cycle]
    ns_rows, shop_rows, sb_rows = [], [], []
    for sku in KEYED_SKUS:
        for li, loc in enumerate(LOCATIONS):
            book = master_book(sku, li, cycle)
            ns_rows.append(
                (
                    f"erp-{at:%Y%m%d%H%M}",
                    sku.netsuite_item,
                    sku.sku,
                    loc.netsuite_location,
                    loc.name,
                    str(book.on_hand),
                    str(book.available),
                    str(book.committed),
                    "0",
                    f"{sku.unit_cost:.2f}",
                )
            )
            local = (at - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-05:00")
            shop_rows.append(
                (
                    f"shopify-{at:%Y%m%d%H%M}",
                    sku.shopify_item_id,
                    loc.shopify_location_id,
                    sku.sku,
                    shopify_listed(sku, li, cycle),
                    local,
                )
            )
        if cycle != SHIPBOB_FAILS_AT:
            on_hand = shipbob_on_hand(sku, cycle)
            sb_rows.append(
                (
                    f"shipbob-{at:%Y%m%d%H%M}",
                    sku.shipbob_inventory_id,
                    sku.name,
                    CICERO.shipbob_fc_id,
                    SHIPBOB_FC_NAME,
                    on_hand,
                    2,
                    on_hand - 2,
                    0,
                    0,
                )
            )
    if cycle >= 2:
        shop_rows.append(
            (
                f"shopify-{at:%Y%m%d%H%M}",
                SKUS[5].shopify_item_id,
                UNMAPPED_SHOPIFY_LOCATION,
                SKUS[5].sku,
                9,
                at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            )
        )
    con.executemany("insert into raw.netsuite_inventory values (?,?,?,?,?,?,?,?,?,?)", ns_rows)
    con.executemany("insert into raw.shopify_inventory_levels values (?,?,?,?,?,?)", shop_rows)
    if sb_rows:
        con.executemany("insert into raw.shipbob_inventory values (?,?,?,?,?,?,?,?,?,?)", sb_rows)
    snapshots = [
        snapshot_row("erp", "netsuite_suiteql", cycle, "succeeded", len(ns_rows)),
        snapshot_row("shopify", "shopify_rest", cycle, "succeeded", len(shop_rows)),
        snapshot_row(
            "shipbob",
            "shipbob",
            cycle,
            "failed" if cycle == SHIPBOB_FAILS_AT else "succeeded",
            len(sb_rows),
        ),
    ]
    con.executemany("insert into raw.snapshots values (?,?,?,?,?,?,?,?,?,?,?,?)", snapshots)
