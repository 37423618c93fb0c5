"""The scenario library's faults, applied to a running `World` (see `Scenario.injections`).

Each injection freezes its key first (no new orders or receipts), waits until nothing is in
flight for it (the slowest order shipped and posted: 2 + 20 + 4 minutes), then applies the
fault and records it as ground truth at that minute. Frozen keys keep the fault the only
explanation of the key's drift, so detection is scored exactly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sandbox.catalog import LOCATIONS
from sandbox.scenario import INJECTION_CAUSES, Fault, Injection

if TYPE_CHECKING:
    from sandbox.world import World

MINUTE = timedelta(minutes=1)
RELIST_AFTER_MINUTES = 8   # after the ERP imported the order (1-2) and pushed it (1-3)
SETTLE_MINUTES = 30        # longer than any order's commit -> ship -> post chain
HELD_ORDER_UNITS = 6       # the open order the on-hand push forgets to subtract
LOW_STOCK_COUNT = 3        # what the cycle count finds in the low-stock oversell
THREE_PL_ID = next(loc.location_id for loc in LOCATIONS if loc.shipbob_fc_id is not None)


def system_of(injection: Injection) -> str:
    if injection.kind == "duplicate_record":
        return "shipbob"
    return "erp" if injection.kind == "negative_available" else "shopify"


def validate(injection: Injection, skus: set[str]) -> None:
    if injection.kind not in INJECTION_CAUSES:
        raise ValueError(f"unknown injection kind {injection.kind!r}; "
                         f"one of {sorted(INJECTION_CAUSES)}")
    if injection.sku not in skus:
        raise ValueError(f"injection {injection.kind}: unknown SKU {injection.sku!r}")
    if injection.kind == "duplicate_record" and injection.location != THREE_PL_ID:
        raise ValueError(f"duplicate_record is a ShipBob fault: location must be {THREE_PL_ID}")


def apply_due(world: World, m: int) -> None:
    """Freeze keys whose injection time came; apply the ones whose key has settled."""
    still: list[Injection] = []
    for inj in world._pending:
        key = (inj.location, inj.sku)
        if m < inj.at_minute:
            still.append(inj)
            continue
        world._quiet.add(key)
        last = world._last_activity.get(key)
        if last is not None and m - last < SETTLE_MINUTES:
            still.append(inj)
            continue
        detail = _apply(world, inj, m)
        # the relist itself (not the order before it) is the fault
        at = m + (RELIST_AFTER_MINUTES if inj.kind == "relist" else 0)
        world._faults.append(Fault(INJECTION_CAUSES[inj.kind], system_of(inj), inj.sku,
                                   inj.location, world.start + at * MINUTE, detail))
    world._pending = still


def _apply(world: World, inj: Injection, m: int) -> dict[str, object]:
    key = (inj.location, inj.sku)
    erp, shop = world._erp[key], world._shop[key]
    when = world.start + m * MINUTE
    if inj.kind == "duplicate_record":
        world._dup_shipbob.add(inj.sku)
        return {"records": 2}
    if inj.kind == "on_hand_pushed":
        # a wholesale order awaiting pickup and a stock adjustment: the next push moves the
        # channel, but to the new on-hand (+10) instead of the new available (+4)
        erp.committed += HELD_ORDER_UNITS
        erp.on_hand += 10
        world._push_on_hand.add(key)
        world._erp_changed(inj.location, inj.sku, m)
        return {"committed": erp.committed, "on_hand": erp.on_hand}
    if inj.kind == "channel_edit":
        shop.available = max(0, shop.available // 3)
        shop.updated_at = when
        return {"shopify_available": shop.available}
    if inj.kind == "relist":
        # an order comes in; its units are relisted by hand after the ERP has synced it
        world._shopify_order(inj.location, inj.sku, 1, m)
        world._schedule(m + RELIST_AFTER_MINUTES, ("relist", inj.location, inj.sku, 1))
        return {"relisted_units": 1}
    if inj.kind == "missing_listing":
        world._unlisted.add(key)
        return {"master_available": erp.available}
    if inj.kind == "negative_available":
        erp.committed = erp.on_hand + 4            # an order entered beyond stock
        world._erp_changed(inj.location, inj.sku, m)
        return {"master_available": erp.available}
    # low_stock_oversell: a cycle count finds 3 left; the listing is no longer updated
    erp.on_hand = LOW_STOCK_COUNT
    if inj.location == THREE_PL_ID:
        world._sb[inj.sku].onhand = LOW_STOCK_COUNT
    world._stuck.add(key)
    return {"shopify_available": shop.available, "master_available": erp.available}
