"""What the sandbox world simulates: order rates and which faults it injects (ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Fault:
    """One injected fault, recorded so detection precision/recall/time-to-detect is measured."""

    cause: str
    system_id: str
    canonical_sku: str | None
    canonical_location: str | None
    injected_at: datetime
    detail: dict[str, Any] = field(default_factory=dict, compare=True, hash=False)


# What each injection does (sandbox/injections.py) and the cause it must be found as.
INJECTION_CAUSES: dict[str, str] = {
    "duplicate_record": "duplicate_record",            # ShipBob lists one item twice
    "on_hand_pushed": "on_hand_pushed_as_available",   # the push sends on-hand; a held order
    "channel_edit": "channel_edited_directly",         # someone lowers Shopify by hand
    "relist": "unexplained_increase",                  # relisted after an order in flight
    "missing_listing": "missing_listing",              # the Shopify level disappears
    "negative_available": "negative_available",        # an ERP order beyond stock
    "low_stock_oversell": "oversell_risk",             # count finds 3; listing not updated
    # semantics (sandbox/operations.py): the holder system is the ground-truth system
    "bundle_oversell": "bundle_overstated",            # kit listing frozen; parts sell down
    "canceled_order": "canceled_order_not_released",   # canceled at the 3PL, ERP keeps it
    # An order imported twice into the ERP: the holder allocates it once, so the master
    # holds a reservation no holder order backs: the same evidence and check (close the
    # extra reservation) as a canceled order, not duplicate_record (a system listing one
    # record twice) nor negative_available (stock still covers it).
    "duplicate_order": "canceled_order_not_released",
    "return_delay": "return_restock_delayed",          # received before the run, not restocked
    "lot_mismatch": "lot_serial_mismatch",             # 3PL picks lot B, the ERP books lot A
    "incoming_stuck": "incoming_stuck",                # ERP closes the PO; 3PL still awaits
}


@dataclass(frozen=True)
class Injection:
    """One fault from the scenario library, applied to one key at (or after) `at_minute`.

    The key stops taking new orders at `at_minute`; the fault is applied once every order
    already in flight for it has shipped and posted, so the fault alone explains the drift.
    """

    kind: str
    sku: str
    location: str = "EAST-DC"
    at_minute: int = 30


@dataclass(frozen=True)
class Outage:
    """An extraction outage the benchmark driver enacts: `failed` answers HTTP 500 (the
    vendor's error body), `stale` means the system is not extracted at all."""

    system_id: str
    kind: str                      # failed | stale
    from_minute: int
    to_minute: int


@dataclass(frozen=True)
class Scenario:
    """Knobs of the simulated business. The defaults are the demo scenario (three faults)."""

    # Overrides World(seed=...) when set, so a scenario can pin its own randomness.
    seed: int | None = None

    # a. the ShipBob-Shopify app dies: ERP->Shopify pushes for this location stop.
    sync_stopped: bool = True
    sync_stopped_location: str = "CICERO-3PL"
    sync_stopped_after_minutes: int = 0

    # b. someone edited a low-stock level directly on Shopify; pushes for it are ignored.
    oversell_risk: bool = True
    oversell_sku: str = "SD-1007"
    oversell_location: str = "EAST-DC"
    oversell_on_hand: int = 3
    oversell_extra: int = 9

    # c. a product launched on every system before anyone mapped it (catalog.UNMAPPED_SKU).
    unmapped_sku: bool = True

    # Rates per SKU x location per hour. Shopify orders alone never reveal a stopped push
    # (channel and ERP both drop by the ordered quantity), so orders entered directly in
    # the ERP (wholesale / other channels) are what make a stopped sync visible.
    shopify_orders_per_sku_hour: float = 0.6
    erp_orders_per_sku_hour: float = 0.8
    receipts_per_hour: float = 4.0          # purchase-order receipts at the WMS buildings
    amazon_orders_per_sku_hour: float = 0.5   # FBA orders (marketplace AMAZON-FBA-US)
    pos_sales_per_sku_hour: float = 0.4       # Square sales at SOHO-STORE
    store_receipts_per_hour: float = 3.0      # deliveries counted in at SOHO-STORE
    fba_receipts_per_hour: float = 1.0        # inbound shipments received by Amazon
    supplier_moves_per_hour: float = 30.0     # the drop-ship supplier's own stock moves
    # A key gets no new order/receipt for this long after the last one, so every in-flight
    # sync (at most 5 minutes) settles before the next change to the same key.
    key_cooldown_minutes: int = 10

    # The scenario library (all off by default, so the demo's three faults stay the truth).
    injections: tuple[Injection, ...] = ()
    outages: tuple[Outage, ...] = ()
    # SKUs whose ids contain `/`, `.`, spaces and non-ASCII letters (catalog.ODD_SKUS).
    odd_ids: bool = False
    # Share of 3PL orders of 2+ units that ship in two parts (normal flow: must not alert).
    partial_shipment_share: float = 0.0
    # Semantic flows (sandbox/operations.py), all normal traffic that must not alert.
    bundles: bool = True                     # the kit listing follows buildable
    lots: bool = True                        # lot balances of catalog.LOT_SKUS
    returns_per_hour: float = 1.0            # customer returns per WMS building
    fba_transfers_per_hour: float = 1.0      # EAST-DC -> Amazon FBA stock transfers
    # "immediate": Square sales post 1-3 min later; "nightly": in the store's 02:00 batch
    # (needs the posting-window hook in int_current_variances_evaluated, docs/SEMANTICS.md)
    pos_posting: str = "immediate"
    # WEST-DC opens at this minute (no stock anywhere before); None = open from the start
    warehouse_opens_minute: int | None = None

    @classmethod
    def default(cls) -> Scenario:
        return cls()

    @classmethod
    def clean(cls, **overrides: Any) -> Scenario:
        """No faults: every difference between systems is an in-flight sync."""
        base = cls(sync_stopped=False, oversell_risk=False, unmapped_sku=False)
        return replace(base, **overrides)
