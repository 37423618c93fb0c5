"""The semantic flows of the world (sandbox/operations.py): bundles, returns, lots, the
store's nightly batch, FBA transfers, a warehouse opening; deterministic per seed, and
replayed cycle by cycle against the marts' rules (docs/SEMANTICS.md) on a clean world, so
normal traffic never stays unexplained long enough to settle into an exception."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from sandbox import operations
from sandbox.catalog import BUNDLE, BUNDLE_COMPONENTS, LOT_LOCATIONS, LOT_SKUS
from sandbox.channels import FBA, HOLDERS, STORE
from sandbox.files.wms_db import OPTIONS, world_side_rows, world_wms_rows, write_wms_db
from sandbox.scenario import Injection, Scenario
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
CYCLE = timedelta(minutes=5)


def semantic_state(w: World) -> tuple[Any, ...]:
    return (w.shopify_levels(), w.shipbob_lots(), w.erp_lots(), w.wms_lots(),
            w.wms_returns(), w.amazon_summaries(), w.erp_rows())


def kit_listed(w: World) -> dict[str, int]:
    by_id = {655441491: "EAST-DC", 487838322: "CICERO-3PL"}
    return {by_id[r["location_id"]]: r["available"] for r in w.shopify_levels()
            if r["inventory_item_id"] == BUNDLE.shopify_item_id}


def buildable(w: World, loc: str) -> int:
    truth = w.expected_truth()
    return operations.buildable({sku: int(truth[(loc, sku)]["available"] or 0)
                                 for sku, _ in BUNDLE_COMPONENTS})


def test_same_seed_same_semantic_state_however_time_is_advanced() -> None:
    scenario = Scenario.clean(warehouse_opens_minute=40, pos_posting="nightly")
    a, b = World(3, START, scenario), World(3, START, scenario)
    a.advance_to(START + timedelta(hours=3))
    for minutes in range(0, 181, 7):
        b.advance_to(START + timedelta(minutes=minutes))
    b.advance_to(START + timedelta(hours=3))
    assert semantic_state(a) == semantic_state(b)
    assert semantic_state(a) != semantic_state(World(4, START, scenario))


def test_clean_world_never_leaves_a_semantic_difference_for_two_cycles() -> None:
    """The marts' rules on the world's own state every 5 minutes for 6 hours: a bundle
    listed above buildable, unreleased or unexplained incoming units at a holder, and lots
    split differently at equal totals are each seen in flight but never in two cycles in a
    row (the marts settle after one full freshness target, 5-15 minutes)."""
    for seed in (1, 2):
        w = World(seed, START, Scenario.clean(partial_shipment_share=0.3))
        previous: set[tuple[str, ...]] = set()
        seen = 0
        for _ in range(6 * 12):
            w.advance_to(w.now + CYCLE)
            current = semantic_differences(w)
            assert not previous & current, f"seed {seed} at {w.now}: {previous & current}"
            seen += len(current)
            previous = current
        assert seen > 0     # not vacuous: syncs were caught in flight


def semantic_differences(w: World) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for loc, listed in kit_listed(w).items():
        if listed > buildable(w, loc):
            out.add(("bundle", loc))
    truth = w.expected_truth()
    for (loc, sku), hold in w._hold.items():
        erp = truth[(loc, sku)]
        gap = max(0, int(erp["on_hand"] or 0) - hold.onhand)
        if int(erp["committed"] or 0) - hold.committed - gap > 0:
            out.add(("unreleased", loc, sku))
        if HOLDERS[loc] == "shipbob" and hold.awaiting - int(erp["on_order"] or 0) - gap > 0:
            out.add(("incoming", loc, sku))
    for sku, fba in w._fba.items():
        erp = truth[(FBA, sku)]
        gap = max(0, int(erp["on_hand"] or 0) - fba.fulfillable - fba.pending)
        if fba.inbound - int(erp["on_order"] or 0) - gap > 0:
            out.add(("incoming", FBA, sku))
    out |= {("lots", *key) for key in lot_mismatches(w)}
    return out


def lot_mismatches(w: World) -> set[tuple[str, str]]:
    """Keys whose holder and ERP lot splits differ while their totals agree."""
    erp: dict[tuple[str, str], dict[str, int]] = {}
    for row in w.erp_lots():
        loc = {"1": "EAST-DC", "2": "CICERO-3PL"}[row["location"]]
        erp.setdefault((loc, row["itemid"]), {})[row["inventorynumber"]] = row["quantityonhand"]
    holder: dict[tuple[str, str], dict[str, int]] = {}
    for sku_id, lots in w.shipbob_lots().items():
        sku = next(s.sku for s in w.skus if s.shipbob_inventory_id == sku_id)
        holder[("CICERO-3PL", sku)] = {
            lot["lot_number"]: lot["fulfillment_centers"][0]["onhand_quantity"] for lot in lots}
    for sku, _site, number, _serial, _expiry, qty in w.wms_lots():
        holder.setdefault(("EAST-DC", sku), {})[number] = qty
    return {key for key, split in holder.items()
            if sum(split.values()) == sum(erp[key].values()) and split != erp[key]}


def test_kit_listing_follows_buildable_within_minutes() -> None:
    w = World(5, START, Scenario.clean())
    assert kit_listed(w) == {loc: buildable(w, loc) for loc in ("EAST-DC", "CICERO-3PL")}
    moved = 0
    for _ in range(24):
        before = kit_listed(w)
        w.advance_to(w.now + CYCLE)
        moved += before != kit_listed(w)
        w.advance_to(w.now + timedelta(minutes=3))   # pushes take 1-3 minutes
    assert moved > 0


def test_returns_are_inspected_and_restocked_inside_the_window() -> None:
    w = World(6, START, Scenario.clean(returns_per_hour=3.0))
    w.advance_to(START + timedelta(hours=24))
    rows = w.wms_returns()
    fresh = [r for r in rows if datetime.fromisoformat(r[4]) >= START]
    assert len(fresh) > 60
    restocked = [r for r in fresh if r[6] is not None]
    assert restocked and {r[7] for r in fresh if r[5]} == {"restock", "scrap"}
    for r in restocked:    # well inside even a 3-business-day window
        assert datetime.fromisoformat(r[6]) - datetime.fromisoformat(r[4]) < timedelta(hours=14)
    assert all(r[5] is None for r in fresh if r[7] is None)
    # a restock puts stock on the WMS shelf and the ERP posts it: nothing drifts after
    w.advance_to(w.now + timedelta(minutes=1))
    truth = w.expected_truth()
    drift = [k for k, h in w._hold.items() if HOLDERS[k[0]] == "wms"
             and h.onhand != truth[k]["on_hand"] and w.now - (w.last_activity_at(*k) or START)
             > timedelta(minutes=30)]
    assert drift == []


def test_lot_mismatch_splits_lots_differently_at_equal_totals() -> None:
    w = World(5, START, Scenario.clean(injections=(
        Injection("lot_mismatch", "SD-1011", "CICERO-3PL", at_minute=20),)))
    w.advance_to(START + timedelta(minutes=15))
    assert lot_mismatches(w) == set()
    w.advance_to(START + timedelta(minutes=120))
    assert lot_mismatches(w) == {("CICERO-3PL", "SD-1011")}
    dated = [r for r in w.erp_lots() if r["itemid"] == "SD-1012"]
    assert dated and all(r["expirationdate"] > (START + timedelta(days=45)).date()
                         for r in dated)                    # sellable: normal flow
    assert {r["itemid"] for r in w.erp_lots()} == set(LOT_SKUS)
    assert len(w.erp_lots()) == 2 * len(LOT_SKUS) * len(LOT_LOCATIONS)


def test_store_sales_post_in_the_nightly_batch() -> None:
    w = World(2, START, Scenario.clean(pos_posting="nightly"))   # 09:00 in New York

    def unexplained() -> dict[str, int]:
        """ERP book - Square count - sales awaiting the batch, for keys not touched in the
        last 3 minutes (deliveries still post within 1-3 minutes)."""
        book = {r["itemid"]: int(r["quantityonhand"]) for r in w.erp_rows()
                if r["location"] == "5"}
        quiet = [s.sku for s in w.skus if w.now - (w.last_activity_at(STORE, s.sku) or START)
                 > timedelta(minutes=3)]
        return {sku: book[sku] - w._pos[sku].in_stock - w._pos_unposted.get(sku, 0)
                for sku in quiet}

    w.advance_to(START + timedelta(hours=16, minutes=59))       # 01:59 EST
    waiting = sum(w._pos_unposted.values())
    assert waiting > 50 and set(unexplained().values()) == {0}
    w.advance_to(START + timedelta(hours=17))                   # 02:00 EST = 07:00 UTC
    assert w._pos_unposted == {} and set(unexplained().values()) == {0}
    w.advance_to(START + timedelta(hours=20))                   # 05:00: the store is closed
    assert w._pos_unposted == {}
    w.advance_to(START + timedelta(hours=26))                   # 11:00: open, sales wait
    assert 0 < sum(w._pos_unposted.values()) < waiting


def test_batch_time_is_local_wall_clock_across_dst() -> None:
    ny = "America/New_York"
    spring = operations.next_batch(datetime(2026, 3, 7, 12, 0, tzinfo=UTC), ny)
    assert spring == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)     # skipped 02:00 -> 03:00 EDT
    summer = operations.next_batch(datetime(2026, 3, 8, 12, 0, tzinfo=UTC), ny)
    assert summer == datetime(2026, 3, 9, 6, 0, tzinfo=UTC)     # 02:00 EDT
    fall = operations.next_batch(datetime(2026, 11, 1, 4, 0, tzinfo=UTC), ny)
    assert fall == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)      # after the repeated hour: EST


def test_fba_transfer_moves_stock_from_east_dc_to_amazon_inbound() -> None:
    w = World(4, START, Scenario.clean(fba_transfers_per_hour=6.0))
    before = w.expected_truth()
    inbound = {s["sellerSku"]: s["inventoryDetails"]["inboundWorkingQuantity"]
               for s in w.amazon_summaries()}
    w.advance_to(START + timedelta(hours=2))
    grew = [sku for sku, fba in w._fba.items() if fba.inbound > inbound[sku]]
    assert grew
    w.advance_to(w.now + timedelta(minutes=5))
    after = w.expected_truth()
    for sku in grew:
        assert (after[(FBA, sku)]["on_order"] or 0) >= w._fba[sku].inbound > 0
        assert after[("EAST-DC", sku)]["on_hand"] != before[("EAST-DC", sku)]["on_hand"]


def test_new_warehouse_appears_in_wms_and_erp_in_the_same_minute() -> None:
    w = World(8, START, Scenario.clean(warehouse_opens_minute=33))

    def west() -> tuple[int, int]:
        return (sum(r["location"] == "3" for r in w.erp_rows()),
                sum(h["location"] == "DC02" for h in w.holdings("wms")))

    for minute in range(0, 33):
        w.advance_to(START + timedelta(minutes=minute))
        assert west() == (0, 0)
        assert all(r[2] != "DC02" for r in w.wms_returns())
    w.advance_to(START + timedelta(minutes=33))
    assert west() == (len(w.skus), len(w.skus))
    truth = w.expected_truth()
    assert all(h["on_hand"] == truth[("WEST-DC", h["sku"])]["on_hand"]
               for h in w.holdings("wms") if h["location"] == "DC02")


def test_wms_export_side_tables_land_through_the_sql_connector(tmp_path: Path) -> None:
    w = World(5, START, Scenario.clean(injections=(
        Injection("return_delay", "SD-1016", "EAST-DC"),)))
    w.advance_to(START + timedelta(hours=2))
    path = write_wms_db(w, tmp_path / "wms.db", rows=world_wms_rows(w),
                        side_tables=world_side_rows(w))
    lite = sqlite3.connect(path)
    assert lite.execute("select count(*) from returns").fetchone() == (len(w.wms_returns()),)
    lite.close()
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    system = SystemConfig(id="wms", role="wms", connector="sql_wms",
                          base_url=f"sqlite://{path}", freshness_target_minutes=5,
                          timezone="UTC", options={**OPTIONS, "returns_table": "returns",
                                                   "lots_table": "lots"})
    clock = ManualClock(w.now)
    result = land_snapshot(con, system, build_connector(system), clock.now(), clock)
    assert result.status == "succeeded", result.error_cause
    returns = con.execute("select return_id, received_at, restocked_at, disposition "
                          "from raw.wms_returns").fetchall()
    assert len(returns) == len(w.wms_returns())
    delayed = [r for r in returns if r[1].startswith("2026-02-16")]
    assert len(delayed) == 1 and delayed[0][2:] == (None, "restock")
    lots = con.execute("select sku, location, lot_number, on_hand from raw.wms_lots "
                       "order by 1, 3").fetchall()
    assert [r[:3] for r in lots] == [(sku, "DC01", f"L{sku[-4:]}-DC01-{x}")
                                     for sku in LOT_SKUS for x in "AB"]


@pytest.mark.parametrize("kind", ["canceled_order", "duplicate_order"])
def test_unreleased_reservation_stays_at_the_holder(kind: str) -> None:
    loc = "CICERO-3PL" if kind == "canceled_order" else "EAST-DC"
    w = World(5, START, Scenario.clean(injections=(Injection(kind, "SD-1014", loc, 20),)))
    w.advance_to(START + timedelta(hours=2))
    assert ("unreleased", loc, "SD-1014") in semantic_differences(w)
    w.advance_to(w.now + CYCLE)
    assert ("unreleased", loc, "SD-1014") in semantic_differences(w)   # it never settles


def test_bundle_oversell_leaves_the_kit_listed_above_buildable() -> None:
    w = World(5, START, Scenario.clean(injections=(
        Injection("bundle_oversell", BUNDLE.sku, "EAST-DC", 20),)))
    w.advance_to(START + timedelta(hours=2))
    assert kit_listed(w)["EAST-DC"] > buildable(w, "EAST-DC")


def test_library_leaves_lasting_semantic_differences_only_where_injected() -> None:
    """The other library faults (a held order, an order beyond stock, ...) keep the holder's
    allocation in step with the ERP, so only the semantic injections persist."""
    from sandbox.library import library_scenario

    w = World(7, START, library_scenario(2))
    lasting: set[tuple[str, ...]] = set()
    previous: set[tuple[str, ...]] = set()
    for _ in range(24):
        w.advance_to(w.now + CYCLE)
        current = semantic_differences(w)
        lasting |= previous & current
        previous = current
    assert lasting == {("bundle", "EAST-DC"), ("incoming", "CICERO-3PL", "SD-1017"),
                       ("lots", "CICERO-3PL", "SD-1011"),
                       ("unreleased", "CICERO-3PL", "SD-1014"),
                       ("unreleased", "EAST-DC", "SD-1015")}
