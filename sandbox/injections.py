"""The scenario library's faults, applied to a running `World` (see `Scenario.injections`).

Each injection freezes its key first (no new orders or receipts), waits until nothing is in
flight for it (the slowest order shipped and posted: 2 + 20 + 4 minutes), then applies the
fault and records it as ground truth at that minute. Frozen keys keep the fault the only
explanation of the key's drift, so detection is scored exactly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sandbox.catalog import BUNDLE, BUNDLE_COMPONENTS, LOCATIONS, LOT_LOCATIONS, LOT_SKUS
from sandbox.channels import HOLDERS
from sandbox.scenario import INJECTION_CAUSES, Fault, Injection

if TYPE_CHECKING:
    from sandbox.world import World

MINUTE = timedelta(minutes=1)
RELIST_AFTER_MINUTES = 8   # after the ERP imported the order (1-2) and pushed it (1-3)
SETTLE_MINUTES = 30        # longer than any order's commit -> ship -> post chain
HELD_ORDER_UNITS = 6       # the open order the on-hand push forgets to subtract
LOW_STOCK_COUNT = 3        # what the cycle count finds in the low-stock oversell
THREE_PL_ID = next(loc.location_id for loc in LOCATIONS if loc.shipbob_fc_id is not None)
STOREFRONT_IDS = tuple(loc.location_id for loc in LOCATIONS)
# semantic injections judged at the physical holder of their location
HOLDER_KINDS = frozenset({"canceled_order", "duplicate_order", "return_delay", "lot_mismatch",
                          "incoming_stuck"})
UNRELEASED_UNITS = 4        # the canceled / duplicated order's units the ERP keeps
BUNDLE_SOLD = 4             # bundles' worth of components sold while the kit listing froze
LOT_SKEW_UNITS = 3          # units picked from lot B that the ERP booked against lot A
STUCK_INBOUND_UNITS = 24    # a WRO ShipBob still awaits after the ERP closed its PO
DELAYED_RETURN_DAYS = 14    # received two weeks before the run (> any 5-10 business days)


def system_of(injection: Injection) -> str:
    if injection.kind == "duplicate_record":
        return "shipbob"
    if injection.kind in HOLDER_KINDS:
        return HOLDERS[injection.location]
    return "erp" if injection.kind == "negative_available" else "shopify"


def validate(injection: Injection, skus: set[str]) -> None:
    kind, loc = injection.kind, injection.location
    if kind not in INJECTION_CAUSES:
        raise ValueError(f"unknown injection kind {kind!r}; one of {sorted(INJECTION_CAUSES)}")
    if kind == "bundle_oversell":
        if injection.sku != BUNDLE.sku or loc not in STOREFRONT_IDS:
            raise ValueError(f"bundle_oversell: sku must be {BUNDLE.sku} at one of "
                             f"{STOREFRONT_IDS}, not {injection.sku!r} at {loc!r}")
        return
    if injection.sku not in skus:
        raise ValueError(f"injection {kind}: unknown SKU {injection.sku!r}")
    if kind == "duplicate_record" and loc != THREE_PL_ID:
        raise ValueError(f"duplicate_record is a ShipBob fault: location must be {THREE_PL_ID}")
    allowed = {"canceled_order": ("EAST-DC", "WEST-DC", THREE_PL_ID),
               "duplicate_order": ("EAST-DC", "WEST-DC", THREE_PL_ID),
               "return_delay": ("EAST-DC", "WEST-DC"),     # the WMS exports returns
               "lot_mismatch": LOT_LOCATIONS, "incoming_stuck": (THREE_PL_ID,)}.get(kind)
    if allowed is not None and loc not in allowed:
        raise ValueError(f"injection {kind}: location must be one of {allowed}, not {loc!r}")
    if kind == "lot_mismatch" and injection.sku not in LOT_SKUS:
        raise ValueError(f"lot_mismatch: {injection.sku!r} is not lot-tracked; one of {LOT_SKUS}")


def keys_of(inj: Injection) -> list[tuple[str, str]]:
    """The keys an injection freezes: a bundle's are its components at the location."""
    if inj.kind == "bundle_oversell":
        return [(inj.location, sku) for sku, _ in BUNDLE_COMPONENTS]
    return [(inj.location, inj.sku)]


def delayed_return(world: World, inj: Injection) -> Fault:
    """A return received and inspected (restockable) two weeks before the run and never put
    away. It predates the run, so it is ground truth from the start."""
    received = -DELAYED_RETURN_DAYS * 24 * 60
    world._new_return(inj.location, inj.sku, received, qty=2)
    ret = world._returns[-1]
    ret.inspected, ret.disposition = received + 90, "restock"
    return Fault(INJECTION_CAUSES[inj.kind], system_of(inj), inj.sku, inj.location,
                 world.start, {"return_id": ret.return_id, "received_days_before": 14})


def apply_due(world: World, m: int) -> None:
    """Freeze keys whose injection time came; apply the ones whose key has settled."""
    still: list[Injection] = []
    for inj in world._pending:
        if m < inj.at_minute:
            still.append(inj)
            continue
        keys = keys_of(inj)
        world._quiet.update(keys)
        lasts = [world._last_activity[k] for k in keys if k in world._last_activity]
        if lasts and m - max(lasts) < SETTLE_MINUTES:
            still.append(inj)
            continue
        detail = _apply(world, inj, m)
        # the relist itself (not the order before it) is the fault
        at = m + (RELIST_AFTER_MINUTES if inj.kind == "relist" else 0)
        world._faults.append(Fault(INJECTION_CAUSES[inj.kind], system_of(inj), inj.sku,
                                   inj.location, world.start + at * MINUTE, detail))
    world._pending = still


def _apply(world: World, inj: Injection, m: int) -> dict[str, object]:
    if inj.kind in SEMANTIC:
        return SEMANTIC[inj.kind](world, inj, m)
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
        _holder_allocates(world, key, HELD_ORDER_UNITS)   # the order waits at the warehouse
        world.adjust_physical(inj.location, inj.sku, delta=10)   # the WMS counts it too
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
        ordered = erp.on_hand + 4 - erp.committed   # an order entered beyond stock
        erp.committed += ordered
        _holder_allocates(world, key, ordered)    # released to the warehouse as entered
        world._erp_changed(inj.location, inj.sku, m)
        return {"master_available": erp.available}
    # low_stock_oversell: a cycle count finds 3 left; the listing is no longer updated
    world.adjust_physical(inj.location, inj.sku, count=LOW_STOCK_COUNT)  # ERP and warehouse
    world._stuck.add(key)
    return {"shopify_available": shop.available, "master_available": erp.available}


def _holder_allocates(world: World, key: tuple[str, str], units: int) -> None:
    """The physical holder allocates an order the ERP committed, so the order explains the
    ERP's committed units (only the semantic injections leave a reservation unexplained)."""
    if key in world._hold:
        world._hold[key].committed += units
        world._hold[key].changed = world._minute


# ---- semantic injections (docs/SEMANTICS.md) ------------------------------------------------
def _bundle_oversell(world: World, inj: Injection, m: int) -> dict[str, object]:
    """The kit listing stops following; a wholesale order then takes BUNDLE_SOLD kits' worth
    of every component (fulfilled normally), so the listing shows more than can be built."""
    kit = (inj.location, BUNDLE.sku)
    world._stuck.add(kit)
    listed = world._shop[kit].available
    sold = min(BUNDLE_SOLD, world._buildable(inj.location))   # never beyond stock
    for sku, qty in BUNDLE_COMPONENTS:
        world._erp_order(inj.location, sku, sold * qty, m)
    return {"listed": listed, "buildable": world._buildable(inj.location)}


def _unreleased_order(world: World, inj: Injection, m: int) -> dict[str, object]:
    """canceled_order: an ERP order the holder allocated, then canceled at the holder only.
    duplicate_order: a real order, imported into the ERP a second time. Either way the ERP
    keeps UNRELEASED_UNITS committed that no holder allocation backs."""
    if inj.kind == "duplicate_order":
        world._erp_order(inj.location, inj.sku, UNRELEASED_UNITS, m)    # the real one
    erp = world._erp[(inj.location, inj.sku)]
    erp.committed += UNRELEASED_UNITS
    world._erp_changed(inj.location, inj.sku, m)
    return {"master_committed": erp.committed, "unreleased": UNRELEASED_UNITS}


def _lot_mismatch(world: World, inj: Injection, m: int) -> dict[str, object]:
    world._lot_skew[(inj.location, inj.sku)] = LOT_SKEW_UNITS
    return {"units": LOT_SKEW_UNITS}


def _incoming_stuck(world: World, inj: Injection, m: int) -> dict[str, object]:
    """The ERP closes the purchase order while ShipBob still awaits its WRO (one is created
    first when the SKU had none)."""
    key = (inj.location, inj.sku)
    hold = world._hold[key]
    if hold.awaiting == 0:
        hold.awaiting = STUCK_INBOUND_UNITS
        hold.changed = m
    world._erp[key].on_order = None
    return {"awaiting": hold.awaiting}


SEMANTIC = {"bundle_oversell": _bundle_oversell, "canceled_order": _unreleased_order,
            "duplicate_order": _unreleased_order, "lot_mismatch": _lot_mismatch,
            "incoming_stuck": _incoming_stuck}
