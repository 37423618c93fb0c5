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
    receipts_per_hour: float = 4.0          # purchase-order receipts at EAST-DC
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

    @classmethod
    def default(cls) -> Scenario:
        return cls()

    @classmethod
    def clean(cls, **overrides: Any) -> Scenario:
        """No faults: every difference between systems is an in-flight sync."""
        base = cls(sync_stopped=False, oversell_risk=False, unmapped_sku=False)
        return replace(base, **overrides)
