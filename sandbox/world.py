"""A deterministic simulated business: NetSuite (inventory master) and every system around it.

Time moves in whole minutes from `start`; each minute first applies the events that fall due
(order imports, shipments, postings, ERP->Shopify pushes), then draws new activity from one
seeded `random.Random`. The draws never depend on how `advance_to` calls are split, so the
same seed always yields the same state at the same time. No wall clock is read here.

Flows (every system follows the master; differences are syncs in flight that settle):
- Shopify order (EAST-DC, CICERO-3PL): Shopify `available -= q` now; the ERP imports it
  1-2 min later (committed += q).
- ERP-entered order (wholesale / other channels) at EAST-DC, WEST-DC, CICERO-3PL, DALLAS-3PL
  and DROPSHIP-ACME: ERP committed += q now.
- Physical holders (WMS buildings EAST-DC/WEST-DC, ShipBob at CICERO-3PL, the CSV partner at
  DALLAS-3PL) allocate an order 1-2 min after it, ship 5-20 min later, and the ERP posts the
  shipment 2-4 min after that (the holder ships before the ERP knows).
- Purchase-order receipts at the WMS buildings: the WMS counts them in now, the ERP posts
  them 1-2 min later (on_order -> on_hand).
- Every change of ERP available at a storefront location is pushed to Shopify 1-3 min later.
- Amazon FBA order: Amazon reserves it now (fulfillable -= q); the ERP imports it 1-3 min
  later (committed += q); Amazon ships 10-30 min later, the ERP posts it 1-3 min after.
  Inbound shipments (ERP purchase orders at AMAZON-FBA-US) are received by Amazon first.
- Square POS sale at SOHO-STORE: Square IN_STOCK -= q now; it posts to the ERP 1-3 min later.
  Deliveries to the store are counted in on Square first, posted 1-3 min later too.
- Drop-ship supplier (DROPSHIP-ACME): the supplier's stock moves with its own business and
  our drop-ship orders; it reports every SKU hourly (X12 846) and the ERP imports each
  report 1-3 min later (on_hand := reported).
- Bundles, returns, lots, the store's nightly posting batch, FBA transfers and a warehouse
  opening: sandbox/operations.py.
"""

from __future__ import annotations

import heapq
import math
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import channels, injections, operations, shopify_catalog
from sandbox.catalog import (
    ALL_LOCATIONS,
    BUNDLE,
    BUNDLE_COMPONENTS,
    LOCATIONS,
    LOT_LOCATIONS,
    LOT_SKUS,
    ODD_SKUS,
    SHIPBOB_FC_NAME,
    SKUS,
    UNMAPPED_SKU,
    Location,
    Sku,
    external_skus,
)
from sandbox.channels import DROPSHIP, FBA, HOLDERS, STORE, FbaStock, Holding, PosCount
from sandbox.operations import FBA_SOURCE, OPENING_LOCATION, LotPlan, ReturnLine
from sandbox.scenario import Fault, Injection, Scenario

__all__ = ["Fault", "Scenario", "World"]

MINUTE = timedelta(minutes=1)
CHANNEL_BUFFER = 0
MIN_AVAILABLE_TO_SELL = 10    # keys below this stop selling, so stock never runs out
EAST_DC = "EAST-DC"
THREE_PL: Location = next(loc for loc in LOCATIONS if loc.shipbob_fc_id is not None)
STOREFRONT = frozenset(loc.location_id for loc in LOCATIONS)
# where orders are entered in the ERP directly (wholesale, B2B, drop-ship)
ERP_ORDER_LOCATIONS = (*(loc.location_id for loc in LOCATIONS), "WEST-DC", "DALLAS-3PL",
                       DROPSHIP)
RECEIVING = ("EAST-DC", "WEST-DC")     # buildings receiving purchase orders (WMS)
SUPPLIER_REPORT_MINUTES = 60           # the supplier's 846 cadence

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
        self._loc = {loc.location_id: loc for loc in ALL_LOCATIONS}
        self._erp: dict[Key, ErpBalance] = {}
        self._shop: dict[Key, ShopifyLevel] = {}
        self._hold: dict[Key, Holding] = {}   # physical stock at WMS / 3PL locations
        self._fba: dict[str, FbaStock] = {}
        self._pos: dict[str, PosCount] = {}
        self._acme: dict[str, int] = {}       # the supplier's real stock
        self._acme_reports: list[tuple[int, dict[str, int]]] = []  # (minute, on hand)
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
        # semantic flows (sandbox/operations.py)
        self._returns: list[ReturnLine] = []
        self._lot_plans: dict[Key, LotPlan] = {}
        self._lot_skew: dict[Key, int] = {}   # units the ERP booked against the wrong lot
        self._pos_unposted: dict[str, int] = {}   # store sales awaiting the nightly batch
        self._next_pos_batch = 0
        self._store_tz = ZoneInfo(self._loc[STORE].timezone)
        if self.scenario.pos_posting not in ("immediate", "nightly"):
            raise ValueError(f"Scenario.pos_posting: {self.scenario.pos_posting!r}; "
                             "use 'immediate' or 'nightly'")
        opens = self.scenario.warehouse_opens_minute
        self._closed: set[str] = {OPENING_LOCATION} if opens is not None and opens > 0 else set()
        for inj in self._pending:
            injections.validate(inj, set(self._sku))
        self._init_state()
        self._init_operations()
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

    def _at(self, minute: int) -> datetime:
        return self.start + minute * MINUTE

    # ---- setup --------------------------------------------------------------------------
    def _init_state(self) -> None:
        rng = self._rng
        for sku in self.skus:
            for loc in ALL_LOCATIONS:
                key = (loc.location_id, sku.sku)
                on_hand = rng.randint(20, 200)
                on_order: int | None = None
                awaiting = 0
                if loc.location_id in RECEIVING and rng.random() < 0.3:
                    on_order = rng.randint(40, 150)
                if loc is THREE_PL and rng.random() < 0.2:
                    awaiting = rng.randint(10, 60)    # an inbound WRO the ERP knows as a PO
                    on_order = awaiting
                if loc.location_id == FBA and rng.random() < 0.2:
                    on_order = rng.randint(20, 80)    # an FBA shipment plan, not yet shipped
                self._erp[key] = ErpBalance(on_hand, 0, on_order)
                if loc.location_id in STOREFRONT:
                    changed = self.start - timedelta(minutes=rng.randint(30, 3000))
                    self._shop[key] = ShopifyLevel(max(0, on_hand - CHANNEL_BUFFER), changed)
                if loc.location_id in HOLDERS:
                    self._hold[key] = Holding(on_hand, 0, awaiting,
                                              changed=-rng.randint(30, 3000))
                elif loc.location_id == FBA:
                    self._fba[sku.sku] = FbaStock(on_hand, 0, on_order or 0,
                                                  -rng.randint(30, 3000))
                elif loc.location_id == STORE:
                    self._pos[sku.sku] = PosCount(on_hand, 0, -rng.randint(30, 3000))
                elif loc.location_id == DROPSHIP:
                    self._acme[sku.sku] = on_hand
        self._acme_reports.append((0, dict(self._acme)))  # the ERP booked this report

    def _init_operations(self) -> None:
        """State of the semantic flows, drawn after the base state (same base per seed)."""
        sc = self.scenario
        if sc.bundles:
            for loc in sorted(STOREFRONT):    # sorted: set order varies between processes
                changed = self.start - timedelta(minutes=self._rng.randint(30, 3000))
                self._shop[(loc, BUNDLE.sku)] = ShopifyLevel(self._buildable(loc), changed)
        if sc.lots:
            for sku in LOT_SKUS:
                for loc_id in LOT_LOCATIONS:
                    key = (loc_id, sku)
                    self._lot_plans[key] = operations.lot_plan(
                        sku, self._loc[loc_id], self._hold[key].onhand, self.start)
        # the last days' returns, all restocked or scrapped already
        for loc in RECEIVING:
            for _ in range(3):
                received = -self._rng.randint(1500, 4000)
                self._new_return(loc, self._rng.choice(self.skus).sku, received)
                ret = self._returns[-1]
                ret.inspected = received + self._rng.randint(30, 180)
                restock = self._rng.random() < 0.85
                ret.disposition = "restock" if restock else "scrap"
                ret.restocked = ret.inspected + self._rng.randint(30, 600) if restock else None
        self._next_pos_batch = self._batch_minute(0)

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
            if key in self._hold:     # the count that found 3 was made in the warehouse
                self._hold[key].onhand = sc.oversell_on_hand
            shown = self._erp[key].available + sc.oversell_extra
            self._shop[key] = ShopifyLevel(shown, self.start)
            self._stuck.add(key)
            self._faults.append(Fault(
                "oversell_risk", "shopify", sc.oversell_sku, sc.oversell_location, self.start,
                {"shopify_available": shown, "master_available": self._erp[key].available},
            ))
        if sc.unmapped_sku:
            for system_id, external in external_skus(UNMAPPED_SKU).items():
                self._faults.append(Fault("unmapped_sku", system_id, None, None, self.start,
                                          {"external_sku": external}))
        for inj in [i for i in self._pending if i.kind == "return_delay"]:
            # a return received and inspected two weeks before the run, never put away: a
            # run of hours cannot outlive a 5-10 business-day window (documented in README)
            self._pending.remove(inj)
            self._faults.append(injections.delayed_return(self, inj))
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

    def _draw(self, per_sku_hour: float) -> list[tuple[str, int]]:
        """This minute's orders at one location: (sku, quantity) pairs."""
        n = self._poisson(per_sku_hour * len(self.skus) / 60)
        return [(self._rng.choice(self.skus).sku, self._quantity()) for _ in range(n)]

    def _step(self) -> None:
        self._minute += 1
        m = self._minute
        while self._queue and self._queue[0][0] <= m:
            _, _, event = heapq.heappop(self._queue)
            self._apply(event, m)
        if self._pending:
            injections.apply_due(self, m)
        sc = self.scenario
        for loc in LOCATIONS:
            for sku, q in self._draw(sc.shopify_orders_per_sku_hour):
                if self._can_sell((loc.location_id, sku), q, m, channel="shopify"):
                    self._shopify_order(loc.location_id, sku, q, m)
        for loc_id in ERP_ORDER_LOCATIONS:
            for sku, q in self._draw(sc.erp_orders_per_sku_hour):
                if self._can_sell((loc_id, sku), q, m):
                    self._erp_order(loc_id, sku, q, m)
        for sku, q in self._draw(sc.amazon_orders_per_sku_hour):
            if self._can_sell((FBA, sku), q, m, channel="amazon"):
                self._amazon_order(sku, q, m)
        for sku, q in self._draw(sc.pos_sales_per_sku_hour):
            if self._can_sell((STORE, sku), q, m, channel="square") and self._store_open(m):
                self._pos_sale(sku, q, m)
        for _ in range(self._poisson(sc.receipts_per_hour / 60)):
            self._receipt(m)
        for _ in range(self._poisson(sc.store_receipts_per_hour / 60)):
            self._store_receipt(m)
        for _ in range(self._poisson(sc.fba_receipts_per_hour / 60)):
            self._fba_receipt(m)
        for _ in range(self._poisson(sc.supplier_moves_per_hour / 60)):
            self._supplier_move()
        if m % SUPPLIER_REPORT_MINUTES == 0:
            self._supplier_report(m)
        self._step_operations(m)

    # ---- semantic flows (sandbox/operations.py) ------------------------------------------
    def _step_operations(self, m: int) -> None:
        sc = self.scenario
        if OPENING_LOCATION in self._closed and m >= (sc.warehouse_opens_minute or 0):
            self._closed.discard(OPENING_LOCATION)     # opening stock in WMS and ERP at once
            for sku in self.skus:
                self._hold[(OPENING_LOCATION, sku.sku)].changed = m
        for loc in RECEIVING:
            if loc in self._closed:
                continue
            for _ in range(self._poisson(sc.returns_per_hour / 60)):
                # not for keys an injection froze: their returns would wait past the window
                frozen = self._quiet | self._stuck
                open_keys = [s.sku for s in self.skus if (loc, s.sku) not in frozen]
                self._new_return(loc, self._rng.choice(open_keys), m)
                self._schedule(m + self._rng.randint(30, 180),
                               ("return_inspect", loc, self._returns[-1].return_id, 0))
        for _ in range(self._poisson(sc.fba_transfers_per_hour / 60)):
            self._fba_transfer(m)
        if sc.pos_posting == "nightly" and m >= self._next_pos_batch:
            for sold, q in sorted(self._pos_unposted.items()):
                self._erp[(STORE, sold)].on_hand -= q
            self._pos_unposted.clear()
            self._next_pos_batch = self._batch_minute(m)

    def _store_open(self, m: int) -> bool:
        """A store posting nightly sells in its opening hours only (none near the batch);
        with immediate posting the store sells around the clock, as before."""
        if self.scenario.pos_posting != "nightly":
            return True
        return self._at(m).astimezone(self._store_tz).hour in operations.STORE_HOURS

    def _batch_minute(self, m: int) -> int:
        batch = operations.next_batch(self._at(m), self._loc[STORE].timezone)
        return int((batch - self.start) / MINUTE)

    def _buildable(self, loc: str) -> int:
        return operations.buildable(
            {sku: self._erp[(loc, sku)].available for sku, _ in BUNDLE_COMPONENTS},
            CHANNEL_BUFFER)

    def _new_return(self, loc: str, sku: str, received: int, qty: int | None = None) -> None:
        n = len(self._returns) + 1
        self._returns.append(ReturnLine(f"RMA-{self.seed}-{n:05d}", sku, loc,
                                        qty or self._quantity(), received))

    def _return_event(self, kind: str, loc: str, return_id: str, m: int) -> None:
        ret = next(r for r in self._returns if r.return_id == return_id)
        key = (loc, ret.sku)
        if kind == "return_inspect":
            ret.inspected = m
            ret.disposition = "restock" if self._rng.random() < 0.85 else "scrap"
            if ret.disposition == "restock":
                self._schedule(m + self._rng.randint(30, 600),
                               ("return_restock", loc, return_id, 0))
        elif not self._idle(key, m):   # put away once nothing is in flight for the key
            if key not in self._quiet:
                self._schedule(m + 5, ("return_restock", loc, return_id, 0))
        else:
            ret.restocked = m
            hold = self._hold[key]
            hold.onhand += ret.qty       # on the shelf first; the ERP posts it after
            hold.changed = m
            self._last_activity[key] = m
            self._schedule(m + self._rng.randint(1, 2), ("erp_restock", loc, ret.sku, ret.qty))

    def _fba_transfer(self, m: int) -> None:
        """The WMS ships EAST-DC stock to Amazon; the ERP posts the transfer 2-4 min later."""
        q = self._rng.randint(10, 30)
        ready = [s.sku for s in self.skus
                 if self._idle((FBA_SOURCE, s.sku), m) and self._idle((FBA, s.sku), m)
                 and self._erp[(FBA_SOURCE, s.sku)].available - q >= MIN_AVAILABLE_TO_SELL
                 and self._hold[(FBA_SOURCE, s.sku)].fulfillable >= q]
        if not ready:
            return
        sku = self._rng.choice(ready)
        hold = self._hold[(FBA_SOURCE, sku)]
        hold.onhand -= q
        hold.changed = m
        self._fba[sku].inbound += q
        self._fba[sku].changed = m
        self._last_activity[(FBA_SOURCE, sku)] = m
        self._last_activity[(FBA, sku)] = m
        self._schedule(m + self._rng.randint(2, 4), ("erp_transfer", FBA_SOURCE, sku, q))

    def _kit_push(self, loc: str, m: int) -> None:
        # The storefront's bundle app keeps the kit listing from the master's component
        # availability; it is not the location's stock sync, so a stopped sync (scenario a)
        # leaves it following. Only an injected freeze (`_stuck`) stops it.
        key = (loc, BUNDLE.sku)
        if key not in self._shop or key in self._stuck:
            return
        level, value = self._shop[key], self._buildable(loc)
        if level.available != value:
            level.available = value
            level.updated_at = self._at(m)

    def _idle(self, key: Key, m: int) -> bool:
        last = self._last_activity.get(key)
        return (key[0] not in self._closed and key not in self._stuck
                and key not in self._quiet
                and (last is None or m - last >= self.scenario.key_cooldown_minutes))

    def _can_sell(self, key: Key, q: int, m: int, channel: str = "erp") -> bool:
        if not self._idle(key, m) or self._erp[key].available - q < MIN_AVAILABLE_TO_SELL:
            return False
        if channel == "shopify":
            return key not in self._unlisted and self._shop[key].available >= q
        if channel == "amazon":
            return self._fba[key[1]].fulfillable >= q
        if channel == "square":
            return self._pos[key[1]].in_stock >= q
        return True

    def _fulfil(self, loc: str, sku: str, q: int, m: int) -> None:
        """Schedule the warehouse side of an order placed at minute `m`."""
        rng = self._rng
        if loc == DROPSHIP:   # the supplier ships; its confirmation clears the commitment
            ship = m + rng.randint(20, 60)
            self._schedule(ship, ("acme_ship", loc, sku, q))
            self._schedule(ship + rng.randint(1, 3), ("erp_dropship_posted", loc, sku, q))
            return
        hold_commit = m + rng.randint(1, 2)
        self._schedule(hold_commit, ("hold_commit", loc, sku, q))
        parts = [q]
        share = self.scenario.partial_shipment_share   # drawn only when on: same stream
        if share > 0 and q > 1 and rng.random() < share:
            parts = [1, q - 1]                          # partial shipment, rest later
        ship = hold_commit
        for part in parts:
            ship += rng.randint(5, 20)
            self._schedule(ship, ("hold_ship", loc, sku, part))
            self._schedule(ship + rng.randint(2, 4), ("erp_ship", loc, sku, part))

    def _shopify_order(self, loc: str, sku: str, q: int, m: int) -> None:
        level = self._shop[(loc, sku)]
        level.available -= q
        level.updated_at = self._at(m)
        self._last_activity[(loc, sku)] = m
        self._schedule(m + self._rng.randint(1, 2), ("erp_commit", loc, sku, q))
        self._fulfil(loc, sku, q, m)

    def _erp_order(self, loc: str, sku: str, q: int, m: int) -> None:
        self._erp[(loc, sku)].committed += q
        self._last_activity[(loc, sku)] = m
        self._erp_changed(loc, sku, m)
        self._fulfil(loc, sku, q, m)

    def _amazon_order(self, sku: str, q: int, m: int) -> None:
        fba = self._fba[sku]
        fba.fulfillable -= q
        fba.pending += q
        fba.changed = m
        self._last_activity[(FBA, sku)] = m
        rng = self._rng
        self._schedule(m + rng.randint(1, 3), ("erp_commit", FBA, sku, q))
        ship = m + rng.randint(10, 30)
        self._schedule(ship, ("fba_ship", FBA, sku, q))
        self._schedule(ship + rng.randint(1, 3), ("erp_ship", FBA, sku, q))

    def _pos_sale(self, sku: str, q: int, m: int) -> None:
        pos = self._pos[sku]
        pos.in_stock -= q
        pos.changed = m
        self._last_activity[(STORE, sku)] = m
        if self.scenario.pos_posting == "nightly":
            self._pos_unposted[sku] = self._pos_unposted.get(sku, 0) + q
            return
        self._schedule(m + self._rng.randint(1, 3), ("erp_on_hand", STORE, sku, -q))

    def _store_receipt(self, m: int) -> None:
        idle = [s.sku for s in self.skus if self._idle((STORE, s.sku), m)]
        if not idle:
            return
        sku = self._rng.choice(idle)
        q = self._rng.randint(6, 24)
        pos = self._pos[sku]
        pos.in_stock += q
        pos.changed = m
        self._last_activity[(STORE, sku)] = m
        self._schedule(m + self._rng.randint(1, 3), ("erp_on_hand", STORE, sku, q))

    def _fba_receipt(self, m: int) -> None:
        """Amazon receives part of an inbound shipment; the ERP posts it 1-3 min later."""
        inbound = [s.sku for s in self.skus
                   if self._erp[(FBA, s.sku)].on_order and self._idle((FBA, s.sku), m)]
        if not inbound:
            return
        sku = self._rng.choice(inbound)
        q = min(self._erp[(FBA, sku)].on_order or 0, self._rng.randint(10, 30))
        fba = self._fba[sku]
        fba.fulfillable += q
        fba.inbound -= q
        fba.changed = m
        self._last_activity[(FBA, sku)] = m
        self._schedule(m + self._rng.randint(1, 3), ("erp_receipt", FBA, sku, q))

    def _receipt(self, m: int) -> None:
        open_pos = [(loc, s.sku) for loc in RECEIVING for s in self.skus
                    if self._erp[(loc, s.sku)].on_order and self._idle((loc, s.sku), m)]
        if not open_pos:
            return
        loc, sku = self._rng.choice(open_pos)
        bal = self._erp[(loc, sku)]
        q = min(bal.on_order or 0, self._rng.randint(10, 40))
        hold = self._hold[(loc, sku)]
        hold.onhand += q                 # counted in at the dock first
        hold.changed = m
        self._last_activity[(loc, sku)] = m
        self._schedule(m + self._rng.randint(1, 2), ("erp_receipt", loc, sku, q))

    def _supplier_move(self) -> None:
        """The supplier's own business: other customers' orders, production receipts."""
        sku = self._rng.choice(self.skus).sku
        if self._rng.random() < 0.15:
            self._acme[sku] += self._rng.randint(20, 60)
        else:
            self._acme[sku] = max(0, self._acme[sku] - self._rng.randint(1, 4))

    def _supplier_report(self, m: int) -> None:
        report = dict(self._acme)
        self._acme_reports.append((m, report))
        del self._acme_reports[:-2]     # the feed only ever needs the newest one
        at = m + self._rng.randint(1, 3)  # the ERP's EDI import runs shortly after
        for sku, qty in report.items():
            self._schedule(at, ("erp_book", DROPSHIP, sku, qty))

    def _erp_changed(self, loc: str, sku: str, m: int) -> None:
        if loc in STOREFRONT:
            self._schedule(m + self._rng.randint(1, 3), ("push", loc, sku, 0))
            if self.scenario.bundles and sku in operations.COMPONENTS:
                self._schedule(m + self._rng.randint(1, 3), ("kit_push", loc, BUNDLE.sku, 0))

    def _apply(self, event: Event, m: int) -> None:
        kind, loc, sku, q = event
        key = (loc, sku)
        if kind == "erp_commit":
            self._erp[key].committed += q
            self._erp_changed(loc, sku, m)
        elif kind == "erp_ship":            # on_hand and committed drop together
            bal = self._erp[key]
            bal.on_hand -= q
            bal.committed -= q
            if key in self._push_on_hand:   # its push sends on-hand, which just moved
                self._schedule(m + 2, ("push", loc, sku, 0))   # fixed delay: same RNG stream
        elif kind == "erp_receipt":
            bal = self._erp[key]
            bal.on_hand += q
            bal.on_order = (bal.on_order or 0) - q or None   # a fully received PO is NULL
            self._erp_changed(loc, sku, m)
        elif kind == "erp_on_hand":         # a posted POS sale (q < 0) or store delivery
            self._erp[key].on_hand += q
        elif kind == "erp_book":            # the supplier's reported on hand, imported
            self._erp[key].on_hand = q
        elif kind == "erp_dropship_posted":
            self._erp[key].committed -= q
        elif kind == "acme_ship":
            self._acme[sku] = max(0, self._acme[sku] - q)
        elif kind == "hold_commit":
            self._hold[key].committed += q
            self._hold[key].changed = m
        elif kind == "hold_ship":
            hold = self._hold[key]
            hold.onhand -= q
            hold.committed -= q
            hold.changed = m
        elif kind == "fba_ship":
            self._fba[sku].pending -= q
            self._fba[sku].changed = m
        elif kind == "push":
            self._push(loc, sku, m)
        elif kind == "kit_push":
            self._kit_push(loc, m)
        elif kind in ("return_inspect", "return_restock"):
            self._return_event(kind, loc, sku, m)     # `sku` carries the return id
        elif kind == "erp_restock":
            self._erp[key].on_hand += q
            self._erp_changed(loc, sku, m)
        elif kind == "erp_transfer":        # EAST-DC ships; FBA on order rises
            self._erp[key].on_hand -= q
            self._erp_changed(loc, sku, m)
            fba = self._erp[(FBA, sku)]
            fba.on_order = (fba.on_order or 0) + q
        elif kind == "relist":              # units put back on the channel by hand
            self._shop[key].available += q
            self._shop[key].updated_at = self._at(m)

    def _push_blocked(self, loc: str, key: Key, m: int) -> bool:
        sc = self.scenario
        stopped = (sc.sync_stopped and loc == sc.sync_stopped_location
                   and m >= sc.sync_stopped_after_minutes)
        return stopped or key in self._stuck

    def _push(self, loc: str, sku: str, m: int) -> None:
        key = (loc, sku)
        bal = self._erp[key]
        value = max(0, (bal.on_hand if key in self._push_on_hand else bal.available)
                    - CHANNEL_BUFFER)
        level = self._shop[key]
        if self._push_blocked(loc, key, m):
            if level.available != value:
                self._note_evident("sync_stopped", loc, m)
            return
        if level.available != value:        # an unchanged push leaves updated_at alone
            level.available = value
            level.updated_at = self._at(m)

    def adjust_physical(self, loc: str, sku: str, *, delta: int = 0,
                        count: int | None = None) -> None:
        """A stock adjustment or cycle count: made on the floor (WMS / 3PL / store) and in
        the ERP together, so the holder and the master agree on the result."""
        bal = self._erp[(loc, sku)]
        bal.on_hand = count if count is not None else bal.on_hand + delta
        if (loc, sku) in self._hold:
            hold = self._hold[(loc, sku)]
            hold.onhand = count if count is not None else hold.onhand + delta
            hold.changed = self._minute

    # ---- accessors (what each system shows now) -------------------------------------------
    def erp_rows(self) -> list[dict[str, Any]]:
        """NetSuite `inventoryitemlocations` rows: lowercase keys, string numbers, NULLs omitted
        (vendor_api_facts.md 4.1), ordered by item, location."""
        rows: list[dict[str, Any]] = []
        with self._lock:
            for sku in sorted(self.skus, key=lambda s: int(s.netsuite_item)):
                for loc in sorted(ALL_LOCATIONS, key=lambda x: int(x.netsuite_location)):
                    if loc.location_id in self._closed:
                        continue
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
        kit = (BUNDLE,) if self.scenario.bundles else ()
        return shopify_catalog.shopify_items(self.start, (*self.skus, *kit))

    def shopify_levels(self) -> list[dict[str, Any]]:
        """Inventory levels ordered by location then item; `updated_at` is an aware datetime."""
        with self._lock:
            rows = [
                {"inventory_item_id": (BUNDLE if sku == BUNDLE.sku else self._sku[sku])
                 .shopify_item_id,
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
                b = self._hold[(THREE_PL.location_id, sku.sku)]
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

    def amazon_summaries(self) -> list[dict[str, Any]]:
        """SP-API FBA inventory summaries (details=true) for the US marketplace, by seller SKU
        (read by sandbox/servers/amazon.py)."""
        with self._lock:
            return [channels.amazon_summary(s, self._fba[s.sku], self._at(self._fba[s.sku].changed))
                    for s in sorted(self.skus, key=lambda s: s.sku)]

    def square_counts(self) -> list[dict[str, Any]]:
        """Square InventoryCounts of the store, newest `calculated_at` first (§5; read by
        sandbox/servers/square.py)."""
        store = self._loc[STORE].external("square") or ""
        with self._lock:
            out = [c for s in self.skus for c in channels.square_counts(
                s, self._pos[s.sku], store, self._at(self._pos[s.sku].changed))]
        return sorted(out, key=lambda c: (c["calculated_at"], c["catalog_object_id"]),
                      reverse=True)

    def holdings(self, system_id: str) -> list[dict[str, Any]]:
        """A physical holder's own counts (`wms`, `partner_csv`) per its location id and SKU:
        sku, location, on_hand, allocated, available, changed_at."""
        with self._lock:
            return [{"sku": sku, "location": self._loc[loc].external(system_id),
                     "on_hand": h.onhand, "allocated": h.committed,
                     "available": h.fulfillable, "changed_at": self._at(h.changed)}
                    for (loc, sku), h in sorted(self._hold.items())
                    if HOLDERS[loc] == system_id and loc not in self._closed]

    def shipbob_lots(self) -> dict[int, list[dict[str, Any]]]:
        """ShipBob lots per inventory id (contract: sandbox/servers/shipbob.py with_lots);
        committed units sit on the oldest lot first."""
        out: dict[int, list[dict[str, Any]]] = {}
        with self._lock:
            for (loc, sku), plan in sorted(self._lot_plans.items()):
                if HOLDERS[loc] != "shipbob":
                    continue
                hold, committed = self._hold[(loc, sku)], self._hold[(loc, sku)].committed
                lots = []
                for number, expiry, qty in plan.split(hold.onhand):
                    held = min(qty, committed)
                    committed -= held
                    lots.append({"lot_number": number, "expiration_date": expiry,
                                 "fulfillment_centers": [{
                                     "id": THREE_PL.shipbob_fc_id, "name": SHIPBOB_FC_NAME,
                                     "onhand_quantity": qty, "committed_quantity": held,
                                     "fulfillable_quantity": qty - held}]})
                out[self._sku[sku].shipbob_inventory_id] = lots
        return out

    def erp_lots(self) -> list[dict[str, Any]]:
        """NetSuite lot balances (contract: sandbox/servers/netsuite.py erp_lot_rows)."""
        rows = []
        with self._lock:
            for (loc, sku), plan in sorted(self._lot_plans.items()):
                bal, item = self._erp[(loc, sku)], self._sku[sku]
                split = plan.split(bal.on_hand, self._lot_skew.get((loc, sku), 0))
                for i, (number, expiry, qty) in enumerate(split):
                    rows.append({
                        "inventorynumber_id": operations.lot_id(
                            LOT_SKUS.index(sku), LOT_LOCATIONS.index(loc), i),
                        "item": item.netsuite_item, "itemid": sku,
                        "location": self._loc[loc].netsuite_location,
                        "inventorynumber": number, "expirationdate": expiry,
                        "quantityonhand": qty, "quantityavailable": None})
        return rows

    def wms_lots(self) -> list[tuple[Any, ...]]:
        """The WMS export's `lots` rows: sku, location, lot_number, serial_number,
        expiration_date (ISO date), on_hand."""
        with self._lock:
            return [(sku, self._loc[loc].external("wms"), number, None,
                     None if expiry is None else expiry.isoformat(), qty)
                    for (loc, sku), plan in sorted(self._lot_plans.items())
                    if HOLDERS[loc] == "wms"
                    for number, expiry, qty in plan.split(self._hold[(loc, sku)].onhand)]

    def wms_returns(self) -> list[tuple[Any, ...]]:
        """The WMS export's `returns` rows (operations.RETURN_COLUMNS), received so far."""
        with self._lock:
            m = self._minute
            return [r.row(self._loc[r.location], self.start) for r in self._returns
                    if r.received <= m and r.location not in self._closed]

    def supplier_report(self) -> tuple[datetime, list[tuple[str, str, list[int]]]]:
        """The supplier's newest hourly 846 report: its time and (part, name, [on hand])."""
        with self._lock:
            minute, report = self._acme_reports[-1]
            return self._at(minute), channels.supplier_items(self.skus, report)

    def outage(self, system_id: str) -> str | None:
        """The extraction outage (failed | stale) the scenario puts on a system now."""
        m = self._minute
        return next((o.kind for o in self.scenario.outages
                     if o.system_id == system_id and o.from_minute <= m < o.to_minute), None)

    def _note_evident(self, cause: str, loc: str, m: int) -> None:
        """The first moment a system-level fault shows in a number (a stopped sync is
        invisible until a change it should have carried): time to detect starts there."""
        for fault in self._faults:
            if (fault.cause == cause and fault.canonical_location == loc
                    and "evident_at" not in fault.detail and self._at(m) >= fault.injected_at):
                fault.detail["evident_at"] = self._at(m)

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
