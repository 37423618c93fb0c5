"""The scenario library: every injectable fault once, on distinct keys, spread over a run.

Used by `stockdrift demo --scenario library` and by `make bench-detect`.
"""

from __future__ import annotations

from sandbox.scenario import Injection, Outage, Scenario

CYCLE_MINUTES = 5


def library_scenario(hours: float) -> Scenario:
    """Every injectable fault once, on distinct keys, spread over the run; plus odd SKU ids,
    partial shipments, two extraction outages and the semantic normal flows (bundles,
    returns, lots, FBA transfers, WEST-DC opening at 15% of the run, the store's sales posting
    in its nightly 02:00 batch). No sync stop, so both
    Shopify locations are live for the two-location oversell."""
    span = int(hours * 60)

    def at(share: float) -> int:
        return max(20, int(span * share))

    injections = (
        Injection("duplicate_record", "SD-1003", "CICERO-3PL", at(0.05)),
        # SD-1003 and SD-1004 at EAST-DC are the kit's components (bundle_oversell below)
        Injection("on_hand_pushed", "SD-1013", "EAST-DC", at(0.10)),
        Injection("channel_edit", "SD-1005", "EAST-DC", at(0.15)),
        Injection("relist", "SD-1006", "EAST-DC", at(0.20)),
        Injection("missing_listing", "SD-1008", "EAST-DC", at(0.25)),
        Injection("negative_available", "SD-1009", "EAST-DC", at(0.30)),
        Injection("low_stock_oversell", "SD-1010", "EAST-DC", at(0.35)),
        Injection("low_stock_oversell", "SD-1010", "CICERO-3PL", at(0.35)),
        Injection("channel_edit", "SD/3001-BLK", "EAST-DC", at(0.40)),
        Injection("relist", "SD-3004-Größe-Ñ", "EAST-DC", at(0.45)),
        Injection("missing_listing", "SD 3003 XL", "CICERO-3PL", at(0.50)),
        # semantics (sandbox/operations.py); ShipBob's settle (15 min) before its outage
        Injection("bundle_oversell", "SD-KIT-01", "EAST-DC", at(0.08)),
        Injection("canceled_order", "SD-1014", "CICERO-3PL", at(0.12)),
        Injection("duplicate_order", "SD-1015", "EAST-DC", at(0.18)),
        # received two weeks before the run (truth from the start): see injections.py
        Injection("return_delay", "SD-1016", "EAST-DC", at(0.0)),
        Injection("lot_mismatch", "SD-1011", "CICERO-3PL", at(0.22)),
        Injection("incoming_stuck", "SD-1017", "CICERO-3PL", at(0.28)),
    )
    outages = (
        Outage("shopify", "failed", at(0.55), at(0.55) + 3 * CYCLE_MINUTES),
        Outage("shipbob", "stale", at(0.65), at(0.65) + 8 * CYCLE_MINUTES),
    )
    return Scenario.clean(injections=injections, outages=outages, odd_ids=True,
                          partial_shipment_share=0.3, warehouse_opens_minute=at(0.15),
                          pos_posting="nightly")
