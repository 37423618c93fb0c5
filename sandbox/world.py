"""A deterministic simulated business: NetSuite (inventory master), Shopify and ShipBob.

Time moves in whole minutes from `start`; each minute first applies the events that fall due
(order imports, shipments, postings, ERP->Shopify pushes), then draws new activity from one
seeded `random.Random`. The draws never depend on how `advance_to` calls are split, so the
same seed always yields the same state at the same time. No wall clock is read here.

Flows (all delays shorter than the 5-minute freshness target):
- Shopify order: Shopify `available -= q` now; ERP imports it 1-2 min later (committed += q);
  at the 3PL ShipBob commits it 1-2 min later too.
- ERP-entered order (wholesale / other channels): ERP committed += q now; ShipBob as above.
- Shipment 5-20 min after commit: EAST-DC posts in ERP directly; at CICERO-3PL ShipBob ships
  first and the ERP posts it 2-4 min later (posting delay).
- Receipts at EAST-DC against open purchase orders (on_order -> on_hand).
- Every change of ERP available is pushed to Shopify 1-3 min later (value read at push time).
"""

from __future__ import annotations

import heapq
import math
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox import injections, shopify_catalog
from sandbox.catalog import LOCATIONS, ODD_SKUS, SHIPBOB_FC_NAME, SKUS, UNMAPPED_SKU, Location, Sku
from sandbox.scenario import Fault, Injection, Scenario

__all__ = ["Fault", "Scenario", "World"]

MINUTE = timedelta(minutes=1)
CHANNEL_BUFFER = 0
MIN_AVAILABLE_TO_SELL = 10    # keys below this stop selling, so stock never runs out
EAST_DC = "EAST-DC"
THREE_PL: Location = next(loc for loc in LOCATIONS if loc.shipbob_fc_id is not None)

Key = tuple[str, str]                 # (canonical location, canonical sku)
Event = tuple[str, str, str, int]     # (kind, location, sku, quantity)


@dataclass
class ErpBalance:
    on_hand: int
    committed: int = 0
    on_order: int | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.committed


@dataclass
class ShopifyLevel:
    available: int
    updated_at: datetime


@dataclass
class ShipbobBalance:
    onhand: int
    committed: int = 0
    awaiting: int = 0
    internal_transfer: int = 0

    @property
    def fulfillable(self) -> int:
        return self.onhand - self.committed


class World:
    """The simulated business. Thread-safe: the sandbox servers call it concurrently."""

    def __init__(self, seed: int, start: datetime, scenario: Scenario | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("World needs a timezone-aware start time")
        self.scenario = scenario if scenario is not None else Scenario()
        self.seed = self.scenario.seed if self.scenario.seed is not None else seed
        self.start = start.astimezone(UTC)
        self._rng = random.Random(self.seed)
        self._lock = threading.RLock()
        self._minute = 0
        self.skus: tuple[Sku, ...] = (*SKUS, *(ODD_SKUS if self.scenario.odd_ids else ()),
                                      *((UNMAPPED_SKU,) if self.scenario.unmapped_sku else ()))
        self._sku = {s.sku: s for s in self.skus}
        self._loc = {loc.location_id: loc for loc in LOCATIONS}
        self._erp: dict[Key, ErpBalance] = {}
        self._shop: dict[Key, ShopifyLevel] = {}
        self._sb: dict[str, ShipbobBalance] = {}
        self._queue: list[tuple[int, int, Event]] = []
        self._seq = 0
        self._last_activity: dict[Key, int] = {}
        self._stuck: set[Key] = set()         # Shopify levels that ignore pushes
        self._faults: list[Fault] = []
        # scenario library state (sandbox/injections.py)
        self._pending: list[Injection] = list(self.scenario.injections)
        self._quiet: set[Key] = set()         # keys taking no new orders or receipts
        self._unlisted: set[Key] = set()      # keys with no Shopify inventory level
        self._push_on_hand: set[Key] = set()  # keys whose push sends on-hand, not available
        self._dup_shipbob: set[str] = set()   # SKUs ShipBob lists twice
        for inj in self._pending:
            injections.validate(inj, set(self._sku))
        self._init_state()
        self._inject_faults()

    # ---- time -------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        with self._lock:
            return self.start + self._minute * MINUTE

    def advance_to(self, t: datetime) -> None:
        """Simulate every whole minute up to `t`; a no-op when `t` is not in the future."""
        with self._lock:
            while self.start + (self._minute + 1) * MINUTE <= t:
                self._step()

    # ---- setup --------------------------------------------------------------------------
    def _init_state(self) -> None:
        rng = self._rng
        for sku in self.skus:
            for loc in LOCATIONS:
                key = (loc.location_id, sku.sku)
                on_hand = rng.randint(20, 200)
                on_order: int | None = None
                awaiting = 0
                if loc.location_id == EAST_DC and rng.random() < 0.3:
                    on_order = rng.randint(40, 150)
                if loc is THREE_PL and rng.random() < 0.2:
                    awaiting = rng.randint(10, 60)    # an inbound WRO the ERP knows as a PO
                    on_order = awaiting
                self._erp[key] = ErpBalance(on_hand, 0, on_order)
                changed = self.start - timedelta(minutes=rng.randint(30, 3000))
                self._shop[key] = ShopifyLevel(max(0, on_hand - CHANNEL_BUFFER), changed)
                if loc is THREE_PL:
                    self._sb[sku.sku] = ShipbobBalance(on_hand, 0, awaiting)

    def _inject_faults(self) -> None:
        sc = self.scenario
        if sc.sync_stopped:
            self._faults.append(Fault(
                "sync_stopped", "shopify", None, sc.sync_stopped_location,
                self.start + sc.sync_stopped_after_minutes * MINUTE,
                {"shopify_location_id": self._loc[sc.sync_stopped_location].shopify_location_id},
            ))
        if sc.oversell_risk:
            key = (sc.oversell_location, sc.oversell_sku)
            self._erp[key] = ErpBalance(sc.oversell_on_hand, 0, None)
            shown = self._erp[key].available + sc.oversell_extra
            self._shop[key] = ShopifyLevel(shown, self.start)
            self._stuck.add(key)
            self._faults.append(Fault(
                "oversell_risk", "shopify", sc.oversell_sku, sc.oversell_location, self.start,
                {"shopify_available": shown, "master_available": self._erp[key].available},
            ))
        if sc.unmapped_sku:
            externals = {"erp": UNMAPPED_SKU.sku, "shopify": UNMAPPED_SKU.sku,
                         "shipbob": str(UNMAPPED_SKU.shipbob_inventory_id)}
            for system_id, external in externals.items():
                self._faults.append(Fault("unmapped_sku", system_id, None, None, self.start,
                                          {"external_sku": external}))
        for outage in sc.outages:
            cause = "extract_failed" if outage.kind == "failed" else "stale_system"
            self._faults.append(Fault(cause, outage.system_id, None, None,
                                      self.start + outage.from_minute * MINUTE,
                                      {"until": self.start + outage.to_minute * MINUTE}))

    # ---- dynamics -----------------------------------------------------------------------
    def _schedule(self, minute: int, event: Event) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (minute, self._seq, event))

    def _poisson(self, lam: float) -> int:
        limit, k, p = math.exp(-lam), 0, self._rng.random()
        while p > limit:
            k += 1
            p *= self._rng.random()
        return k

    def _quantity(self) -> int:
        r = self._rng.random()
        return 1 if r < 0.6 else 2 if r < 0.9 else 3

    def _step(self) -> None:
        self._minute += 1
        m = self._minute
        while self._queue and self._queue[0][0] <= m:
            _, _, event = heapq.heappop(self._queue)
            self._apply(event, m)
        if self._pending:
            injections.apply_due(self, m)
        sc, n_skus = self.scenario, len(self.skus)
        for loc in LOCATIONS:
            for _ in range(self._poisson(sc.shopify_orders_per_sku_hour * n_skus / 60)):
                sku, q = self._rng.choice(self.skus).sku, self._quantity()
                if self._can_sell((loc.location_id, sku), q, m, on_shopify=True):
                    self._shopify_order(loc.location_id, sku, q, m)
            for _ in range(self._poisson(sc.erp_orders_per_sku_hour * n_skus / 60)):
                sku, q = self._rng.choice(self.skus).sku, self._quantity()
                if self._can_sell((loc.location_id, sku), q, m, on_shopify=False):
                    self._erp_order(loc.location_id, sku, q, m)
        for _ in range(self._poisson(sc.receipts_per_hour / 60)):
            self._receipt(m)

    def _idle(self, key: Key, m: int) -> bool:
        last = self._last_activity.get(key)
        return key not in self._stuck and key not in self._quiet and (
            last is None or m - last >= self.scenario.key_cooldown_minutes)

    def _can_sell(self, key: Key, q: int, m: int, on_shopify: bool) -> bool:
        if not self._idle(key, m) or self._erp[key].available - q < MIN_AVAILABLE_TO_SELL:
            return False
        return not on_shopify or (key not in self._unlisted and self._shop[key].available >= q)

    def _fulfil(self, loc: str, sku: str, q: int, m: int, erp_commit_at: int) -> None:
        """Schedule the warehouse side of an order committed in the ERP at `erp_commit_at`."""
        rng = self._rng
        if loc == THREE_PL.location_id:
            sb_commit = m + rng.randint(1, 2)
            self._schedule(sb_commit, ("sb_commit", loc, sku, q))
            parts = [q]
            share = self.scenario.partial_shipment_share   # drawn only when on: same stream
            if share > 0 and q > 1 and rng.random() < share:
                parts = [1, q - 1]                          # partial shipment, rest later
            sb_ship = sb_commit
            for part in parts:
                sb_ship += rng.randint(5, 20)
                self._schedule(sb_ship, ("sb_ship", loc, sku, part))
                self._schedule(sb_ship + rng.randint(2, 4), ("erp_ship", loc, sku, part))
        else:
            self._schedule(erp_commit_at + rng.randint(5, 20), ("erp_ship", loc, sku, q))

    def _shopify_order(self, loc: str, sku: str, q: int, m: int) -> None:
        level = self._shop[(loc, sku)]
        level.available -= q
        level.updated_at = self.start + m * MINUTE
        self._last_activity[(loc, sku)] = m
        commit_at = m + self._rng.randint(1, 2)    # the ERP imports the order
        self._schedule(commit_at, ("erp_commit", loc, sku, q))
        self._fulfil(loc, sku, q, m, commit_at)

    def _erp_order(self, loc: str, sku: str, q: int, m: int) -> None:
        self._erp[(loc, sku)].committed += q
        self._last_activity[(loc, sku)] = m
        self._erp_changed(loc, sku, m)
        self._fulfil(loc, sku, q, m, m)

    def _receipt(self, m: int) -> None:
        open_pos = [s.sku for s in self.skus
                    if self._erp[(EAST_DC, s.sku)].on_order and self._idle((EAST_DC, s.sku), m)]
        if not open_pos:
            return
        sku = self._rng.choice(open_pos)
        bal = self._erp[(EAST_DC, sku)]
        q = min(bal.on_order or 0, self._rng.randint(10, 40))
        bal.on_hand += q
        bal.on_order = (bal.on_order or 0) - q or None   # a fully received PO drops to NULL
        self._last_activity[(EAST_DC, sku)] = m
        self._erp_changed(EAST_DC, sku, m)

    def _erp_changed(self, loc: str, sku: str, m: int) -> None:
        self._schedule(m + self._rng.randint(1, 3), ("push", loc, sku, 0))

    def _apply(self, event: Event, m: int) -> None:
        kind, loc, sku, q = event
        if kind == "erp_commit":
            self._erp[(loc, sku)].committed += q
            self._erp_changed(loc, sku, m)
        elif kind == "erp_ship":            # on_hand and committed drop together
            bal = self._erp[(loc, sku)]
            bal.on_hand -= q
            bal.committed -= q
        elif kind == "sb_commit":
            self._sb[sku].committed += q
        elif kind == "sb_ship":
            self._sb[sku].onhand -= q
            self._sb[sku].committed -= q
        elif kind == "push":
            self._push(loc, sku, m)
        elif kind == "relist":              # units put back on the channel by hand
            self._shop[(loc, sku)].available += q
            self._shop[(loc, sku)].updated_at = self.start + m * MINUTE

    def _push_blocked(self, loc: str, key: Key, m: int) -> bool:
        sc = self.scenario
        stopped = (sc.sync_stopped and loc == sc.sync_stopped_location
                   and m >= sc.sync_stopped_after_minutes)
        return stopped or key in self._stuck

    def _push(self, loc: str, sku: str, m: int) -> None:
        key = (loc, sku)
        if self._push_blocked(loc, key, m):
            return
        bal = self._erp[key]
        value = max(0, (bal.on_hand if key in self._push_on_hand else bal.available)
                    - CHANNEL_BUFFER)
        level = self._shop[key]
        if level.available != value:        # an unchanged push leaves updated_at alone
            level.available = value
            level.updated_at = self.start + m * MINUTE

    # ---- accessors (what each system shows now) -------------------------------------------
    def erp_rows(self) -> list[dict[str, Any]]:
        """NetSuite `inventoryitemlocations` rows: lowercase keys, string numbers, NULLs omitted
        (vendor_api_facts.md 4.1), ordered by item, location."""
        rows: list[dict[str, Any]] = []
        with self._lock:
            for sku in sorted(self.skus, key=lambda s: int(s.netsuite_item)):
                for loc in sorted(LOCATIONS, key=lambda x: int(x.netsuite_location)):
                    bal = self._erp[(loc.location_id, sku.sku)]
                    row: dict[str, Any] = {
                        "item": sku.netsuite_item, "itemid": sku.sku,
                        "location": loc.netsuite_location, "location_name": loc.name,
                        "quantityonhand": str(bal.on_hand),
                        "quantityavailable": str(bal.available),
                        "quantitycommitted": str(bal.committed),
                    }
                    if bal.on_order is not None:
                        row["quantityonorder"] = str(bal.on_order)
                    row["averagecost"] = str(round(sku.unit_cost, 2))
                    rows.append(row)
        return rows

    def shopify_locations(self) -> list[dict[str, Any]]:
        """Shopify Location resources (doc 1.3 shape); datetimes are rendered by the server."""
        return shopify_catalog.shopify_locations(self.start)

    def shopify_items(self) -> list[dict[str, Any]]:
        """Shopify InventoryItem resources including `sku` (doc 1.3)."""
        return shopify_catalog.shopify_items(self.start, self.skus)

    def shopify_levels(self) -> list[dict[str, Any]]:
        """Inventory levels ordered by location then item; `updated_at` is an aware datetime."""
        with self._lock:
            rows = [
                {"inventory_item_id": self._sku[sku].shopify_item_id,
                 "location_id": self._loc[loc].shopify_location_id,
                 "available": level.available, "updated_at": level.updated_at}
                for (loc, sku), level in self._shop.items() if (loc, sku) not in self._unlisted
            ]
        return sorted(rows, key=lambda r: (r["location_id"], r["inventory_item_id"]))

    def shipbob_items(self) -> list[dict[str, Any]]:
        """ShipBob v1.0 inventory items (doc 3.2): quantities per fulfillment center + totals."""
        out = []
        with self._lock:
            for sku in sorted(self.skus, key=lambda s: s.shipbob_inventory_id):
                b = self._sb[sku.sku]
                fc = {"awaiting_quantity": b.awaiting, "committed_quantity": b.committed,
                      "fulfillable_quantity": b.fulfillable, "id": THREE_PL.shipbob_fc_id,
                      "internal_transfer_quantity": b.internal_transfer,
                      "name": SHIPBOB_FC_NAME, "onhand_quantity": b.onhand}
                out.append({
                    "dimensions": {"depth": 4.0, "length": 12.0, "weight": 16.0, "width": 9.0},
                    "fulfillable_quantity_by_fulfillment_center": [fc],
                    "fulfillable_quantity_by_lot": [],
                    "id": sku.shipbob_inventory_id, "is_active": True, "is_case_pick": False,
                    "is_digital": False, "is_lot": False, "name": sku.name,
                    "packaging_attribute": "None",
                    "total_awaiting_quantity": b.awaiting, "total_backordered_quantity": 0,
                    "total_committed_quantity": b.committed, "total_exception_quantity": 0,
                    "total_fulfillable_quantity": b.fulfillable,
                    "total_internal_transfer_quantity": b.internal_transfer,
                    "total_onhand_quantity": b.onhand,
                    # doc 3.2: sellable = on hand - committed - exception orders
                    "total_sellable_quantity": b.fulfillable,
                })
                if sku.sku in self._dup_shipbob:
                    out.append(out[-1])         # the same item twice in one listing
        return out

    def outage(self, system_id: str) -> str | None:
        """The extraction outage (failed | stale) the scenario puts on a system now."""
        m = self._minute
        return next((o.kind for o in self.scenario.outages
                     if o.system_id == system_id and o.from_minute <= m < o.to_minute), None)

    def ground_truth(self) -> list[Fault]:
        """Faults injected so far (injected_at <= now)."""
        now = self.now
        return [f for f in self._faults if f.injected_at <= now]

    def expected_truth(self) -> dict[Key, dict[str, int | None]]:
        """The master's true values per (canonical location, canonical sku), for tests."""
        with self._lock:
            return {key: {"on_hand": b.on_hand, "committed": b.committed,
                          "available": b.available, "on_order": b.on_order}
                    for key, b in self._erp.items()}

    def last_activity_at(self, location: str, sku: str) -> datetime | None:
        """When the key last saw an order or receipt (None if never), for tests."""
        with self._lock:
            m = self._last_activity.get((location, sku))
        return None if m is None else self.start + m * MINUTE
