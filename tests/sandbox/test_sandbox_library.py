"""The scenario library: each injection changes the world the way its fault does and is
recorded as ground truth; odd SKU ids travel through the real servers and connectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from sandbox.catalog import BUNDLE, LOCATIONS, ODD_SKUS, SKUS
from sandbox.injections import SETTLE_MINUTES
from sandbox.scenario import INJECTION_CAUSES, Injection, Outage, Scenario
from sandbox.serve import SANDBOX_TOKENS, SandboxServers
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
LOC_BY_SHOPIFY = {loc.shopify_location_id: loc.location_id for loc in LOCATIONS}
SKU_BY_SHOPIFY = {s.shopify_item_id: s.sku for s in (*SKUS, *ODD_SKUS, BUNDLE)}
# (sku, location) per kind where the default SD-1012 at EAST-DC does not apply
WHERE = {"duplicate_record": ("SD-1012", "CICERO-3PL"), "bundle_oversell": (BUNDLE.sku, "EAST-DC"),
         "canceled_order": ("SD-1012", "CICERO-3PL"), "lot_mismatch": ("SD-1012", "CICERO-3PL"),
         "incoming_stuck": ("SD-1012", "CICERO-3PL")}
PLACES_ORDER = {"relist", "bundle_oversell", "duplicate_order"}   # the order is the fault


def shopify(world: World) -> dict[tuple[str, str], int]:
    return {(LOC_BY_SHOPIFY[r["location_id"]], SKU_BY_SHOPIFY[r["inventory_item_id"]]):
            r["available"] for r in world.shopify_levels()}


def run(*injections: Injection, minutes: int = 120, **kw: Any) -> World:
    world = World(5, START, Scenario.clean(injections=injections, **kw))
    world.advance_to(START + timedelta(minutes=minutes))
    return world


def only_fault(world: World) -> Any:
    (fault,) = world.ground_truth()
    return fault


@pytest.mark.parametrize("kind", sorted(INJECTION_CAUSES))
def test_each_injection_is_ground_truth_once_settled(kind: str) -> None:
    sku, loc = WHERE.get(kind, ("SD-1012", "EAST-DC"))
    world = run(Injection(kind, sku, loc, at_minute=20))
    fault = only_fault(world)
    assert (fault.cause, fault.canonical_sku, fault.canonical_location) == (
        INJECTION_CAUSES[kind], sku, loc)
    if kind == "return_delay":      # received two weeks before the run: true from the start
        assert fault.injected_at == START
        return
    # applied once nothing is in flight for the key: never before its minute
    assert fault.injected_at >= START + timedelta(minutes=20)
    last = world.last_activity_at(loc, sku)
    assert last is None or last <= fault.injected_at - timedelta(
        minutes=0 if kind in PLACES_ORDER else SETTLE_MINUTES)


def test_injections_change_what_the_systems_show() -> None:
    world = run(
        Injection("on_hand_pushed", "SD-1004"), Injection("channel_edit", "SD-1005"),
        Injection("relist", "SD-1006"), Injection("missing_listing", "SD-1008"),
        Injection("negative_available", "SD-1009"),
        Injection("duplicate_record", "SD-1003", "CICERO-3PL"), minutes=180)
    truth, shown = world.expected_truth(), shopify(world)
    key = ("EAST-DC", "SD-1004")
    assert truth[key]["committed"] and shown[key] == truth[key]["on_hand"]
    key = ("EAST-DC", "SD-1005")
    assert shown[key] < int(truth[key]["available"] or 0)
    key = ("EAST-DC", "SD-1006")
    assert shown[key] == int(truth[key]["available"] or 0) + 1
    assert ("EAST-DC", "SD-1008") not in shown and ("CICERO-3PL", "SD-1008") in shown
    key = ("EAST-DC", "SD-1009")
    assert int(truth[key]["available"] or 0) < 0 and shown[key] == 0
    ids = [i["id"] for i in world.shipbob_items()]
    assert ids.count(SKUS[2].shipbob_inventory_id) == 2 and len(ids) == len(set(ids)) + 1


def test_unknown_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown injection kind"):
        World(1, START, Scenario.clean(injections=(Injection("gremlins", "SD-1001"),)))
    with pytest.raises(ValueError, match="must be CICERO-3PL"):
        World(1, START, Scenario.clean(injections=(Injection("duplicate_record", "SD-1001"),)))


def test_outages_are_ground_truth_and_scheduled() -> None:
    scenario = Scenario.clean(outages=(Outage("shopify", "failed", 10, 25),))
    world = World(1, START, scenario)
    world.advance_to(START + timedelta(minutes=9))
    assert world.outage("shopify") is None and world.ground_truth() == []
    world.advance_to(START + timedelta(minutes=10))
    assert world.outage("shopify") == "failed" and world.outage("erp") is None
    assert [f.cause for f in world.ground_truth()] == ["extract_failed"]
    world.advance_to(START + timedelta(minutes=25))
    assert world.outage("shopify") is None


def test_partial_shipments_keep_every_system_consistent() -> None:
    world = run(minutes=240, partial_shipment_share=1.0)
    # once nothing is in flight the 3PL and the master agree again, part shipments or not
    world.advance_to(world.now + timedelta(minutes=1))
    assert world.ground_truth() == []
    on_hand = {i["id"]: i["total_onhand_quantity"] for i in world.shipbob_items()}
    truth = world.expected_truth()
    drift = [s.sku for s in SKUS
             if on_hand[s.shipbob_inventory_id] != truth[("CICERO-3PL", s.sku)]["on_hand"]]
    assert len(drift) < len(SKUS) // 3     # only keys with a shipment in flight right now


def test_default_scenario_is_unchanged_by_the_library() -> None:
    a, b = World(7, START), World(7, START, Scenario.default())
    for w in (a, b):
        w.advance_to(START + timedelta(minutes=60))
    assert a.shopify_levels() == b.shopify_levels()
    assert {f.cause for f in a.ground_truth()} == {"sync_stopped", "oversell_risk", "unmapped_sku"}


def test_odd_sku_ids_travel_through_servers_and_connectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(3, START, Scenario.clean(odd_ids=True))
    clock = ManualClock(START + timedelta(minutes=10))
    monkeypatch.setenv("NETSUITE_TOKEN", SANDBOX_TOKENS["erp"])
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", SANDBOX_TOKENS["shopify"])
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    specs = {
        "erp": dict(role="erp", connector="netsuite_suiteql",
                    credentials={"token": "NETSUITE_TOKEN"}),
        "shopify": dict(role="storefront", connector="shopify_rest",
                        credentials={"access_token": "SHOPIFY_ACCESS_TOKEN"},
                        options={"api_version": "2024-04"}),
    }
    with SandboxServers(world, clock) as servers:
        for system_id, spec in specs.items():
            system = SystemConfig(id=system_id, base_url=servers.base_urls[system_id],
                                  freshness_target_minutes=5, **spec)  # type: ignore[arg-type]
            result = land_snapshot(con, system, build_connector(system), clock.now(), clock)
            assert result.status == "succeeded", result.error_cause
    odd = {s.sku for s in ODD_SKUS}
    erp = {r[0] for r in con.execute("select itemid from raw.netsuite_inventory").fetchall()}
    shop = {r[0] for r in con.execute("select sku from raw.shopify_inventory_levels").fetchall()}
    con.close()
    assert odd <= erp and odd <= shop
