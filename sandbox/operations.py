"""The sandbox world's semantic flows (docs/SEMANTICS.md): bundles, customer returns, lots,
the store's nightly posting batch, FBA transfers and a warehouse opening.

`World` (sandbox/world.py) owns the state and the clock; the helpers here hold the rules and
the vendor-shaped renderings, so world.py stays the order/receipt engine. Every flow follows
the master and settles: none of them may raise an exception on its own.

- Bundle (catalog.BUNDLE): listed on Shopify only; each listing follows the buildable count
  of its location (min over components of floor(master available / qty)) 1-3 minutes after
  a component's master available changes, like any ERP->Shopify push.
- Returns at the WMS buildings: received (not on hand yet), inspected 30-180 min later and
  then restocked 30-600 min later (WMS on hand first, the ERP posts 1-2 min after) or
  scrapped; always well inside the location's restock window.
- Lots (catalog.LOT_SKUS at catalog.LOT_LOCATIONS): two lots per key, A older than B,
  consumed first-in first-out. The holder and the ERP derive their split from their own
  on-hand with the same rule, so they agree whenever the totals agree.
- POS nightly batch (`Scenario.pos_posting = "nightly"`): Square sales post to the ERP at
  STORE_POSTING_LOCAL store time (seed location_policies.posting_time_local), DST-aware;
  the store then sells in its opening hours (STORE_HOURS) only, so no sale races the batch.
- FBA transfer: the WMS ships EAST-DC stock to Amazon (Amazon inbound rises now); the ERP
  posts the transfer 2-4 min later (EAST-DC on hand drops, FBA on order rises); Amazon
  receives it later through the normal inbound flow.
- Warehouse opening (`Scenario.warehouse_opens_minute`): WEST-DC has no rows in the WMS or
  the ERP until it opens; its opening stock appears in both at the same minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.catalog import BUNDLE_COMPONENTS, LOT_SKUS, Location

STORE_POSTING_LOCAL = time(2, 0)    # dbt/seeds/location_policies.csv SOHO-STORE
STORE_HOURS = range(10, 21)          # local opening hours of a nightly-posting store
OPENING_LOCATION = "WEST-DC"
FBA_SOURCE = "EAST-DC"
DATED_LOT_SKUS = frozenset({"SD-1012"})   # dbt/seeds/sku_lot_policies.csv
LOT_ID_BASE = 7000                   # NetSuite inventorynumber record ids
COMPONENTS = frozenset(sku for sku, _ in BUNDLE_COMPONENTS)


def buildable(available: dict[str, int], buffer: int = 0) -> int:
    """Bundles the components' master available builds, less the channel buffer."""
    built = min(max(0, available[sku]) // qty for sku, qty in BUNDLE_COMPONENTS)
    return max(0, built - buffer)


# ---- returns ----------------------------------------------------------------------------
@dataclass
class ReturnLine:
    """One customer return at a WMS building; minutes are world minutes (negative = before
    the run). Received returns are not on hand until restocked."""

    return_id: str
    sku: str
    location: str                    # canonical
    qty: int
    received: int
    inspected: int | None = None
    restocked: int | None = None
    disposition: str | None = None   # restock | scrap | None until inspected

    def row(self, loc: Location, start: datetime) -> tuple[Any, ...]:
        """The WMS export's `returns` row: ISO-8601 with the building's UTC offset."""
        tz = ZoneInfo(loc.timezone)

        def at(minute: int | None) -> str | None:
            if minute is None:
                return None
            return (start + timedelta(minutes=minute)).astimezone(tz).isoformat()

        return (self.return_id, self.sku, loc.external("wms"), self.qty, at(self.received),
                at(self.inspected), at(self.restocked), self.disposition)


RETURN_COLUMNS = ("return_id", "sku", "location", "qty", "received_at", "inspected_at",
                  "restocked_at", "disposition")


# ---- lots -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LotPlan:
    """The two lots of one key as received: (lot number, expiry, units received)."""

    lots: tuple[tuple[str, date | None, int], ...]

    def split(self, total: int, skew: int = 0) -> list[tuple[str, date | None, int]]:
        """Units per lot for an on-hand `total`: FIFO leaves the newest units, so the newest
        lot is filled first; units beyond every lot's receipt count in the newest one.
        `skew` moves units from the older lot to the newer (a pick booked against the wrong
        lot), or back when the older lot has too few."""
        qty = [0] * len(self.lots)
        left = max(0, total)
        for i in reversed(range(len(self.lots))):
            qty[i] = min(self.lots[i][2], left)
            left -= qty[i]
        qty[-1] += left
        if skew:
            moved = skew if qty[0] >= skew else -min(skew, qty[-1])
            qty[0] -= moved
            qty[-1] += moved
        return [(number, expiry, q) for (number, expiry, _), q in zip(self.lots, qty,
                                                                       strict=True)]


def lot_plan(sku: str, loc: Location, on_hand: int, start: datetime) -> LotPlan:
    code = loc.external("wms") or f"FC{loc.shipbob_fc_id}"
    dated = sku in DATED_LOT_SKUS
    first = start.date()
    older = on_hand - on_hand // 2
    return LotPlan((
        (f"L{sku[-4:]}-{code}-A", first + timedelta(days=150) if dated else None, older),
        (f"L{sku[-4:]}-{code}-B", first + timedelta(days=240) if dated else None,
         on_hand // 2),
    ))


def lot_id(sku_index: int, loc_index: int, lot_index: int) -> int:
    return LOT_ID_BASE + 100 * sku_index + 10 * loc_index + lot_index


def is_lot_sku(sku: str) -> bool:
    return sku in LOT_SKUS


# ---- the store's posting batch --------------------------------------------------------
def next_batch(after: datetime, timezone: str, at: time = STORE_POSTING_LOCAL) -> datetime:
    """The first local `at` strictly after `after`, as an aware UTC instant. A wall time
    inside a spring-forward gap resolves with the pre-transition offset (02:00 New York on
    2026-03-08 = 07:00 UTC = 03:00 EDT), as docs/SEMANTICS.md pins."""
    tz = ZoneInfo(timezone)
    local = after.astimezone(tz)
    day = local.date()
    for offset in range(3):
        candidate = datetime.combine(day + timedelta(days=offset), at, tzinfo=tz)
        utc = candidate.astimezone(ZoneInfo("UTC"))
        if utc > after:
            return utc
    raise AssertionError("unreachable: a daily batch runs within three days")
