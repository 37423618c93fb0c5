"""`mappings check`: the seeds against the latest snapshots of the dbt-built scenario, where
SD-2001 is in every system and Shopify reports a location no mapping knows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import SeedRepo
from scenario_warehouse import ReportWarehouse

from sandbox.catalog import UNMAPPED_SKU, external_skus
from stockdrift.audit_check import CheckResult, check_mappings, seed_name_for
from stockdrift.config import load_config

UNMAPPED_LOCATION = "777000111"  # dbt_scenario.UNMAPPED_SHOPIFY_LOCATION
SHIPPED_SEEDS = Path(__file__).resolve().parents[2] / "dbt" / "seeds"


def _check(wh: ReportWarehouse, seeds: Path, proposed: dict[str, Path] | None = None
           ) -> CheckResult:
    con = duckdb.connect(str(wh.path), read_only=False)
    try:
        return check_mappings(con, load_config(wh.config_path), seeds, proposed)
    finally:
        con.close()


def _found(result: CheckResult) -> set[tuple[str, str, str]]:
    return {(p.kind, p.system_id, p.key) for p in result.problems}


def test_unmapped_skus_and_locations_with_their_stock(
    report_warehouse: ReportWarehouse, seed_repo: SeedRepo
) -> None:
    result = _check(report_warehouse, seed_repo.seeds)
    assert set(result.snapshots) == {"erp", "shopify", "shipbob"}
    assert {("unmapped_sku", s, k) for s, k in
            [("erp", "SD-2001"), ("shopify", "SD-2001")]} <= _found(result)
    assert ("unmapped_location", "shopify", UNMAPPED_LOCATION) in _found(result)
    ((units,),) = report_warehouse.query(
        "select sum(available) from intermediate.int_positions_unioned where system_id = "
        "'shopify' and external_sku = 'SD-2001' and snapshot_id = (select max(snapshot_id) "
        "from intermediate.int_positions_unioned where system_id = 'shopify')"
    )
    shopify = next(p for p in result.problems if p.kind == "unmapped_sku" and
                   p.system_id == "shopify")
    assert shopify.units == units and shopify.severity == "error"
    assert {p.kind for p in result.problems} == {"unmapped_sku", "unmapped_location"}


def test_proposed_seeds_are_checked_before_they_land(
    report_warehouse: ReportWarehouse, seed_repo: SeedRepo, tmp_path: Path
) -> None:
    current = (seed_repo.seeds / "sku_map.csv").read_text(encoding="utf-8")
    sku = tmp_path / "sku.csv"
    sku.write_text(
        current.replace("shopify,SD-1003,SD-1003\n", "")  # stock on Shopify loses its mapping
        + "shopify,SD-1001,SD-1009\n"  # one external SKU, two canonical SKUs
        + "erp,SD-1004,SD-1004\n"  # duplicate of an existing row
        + "walmart,B00X,SD-1001\n",  # a system config does not define
        encoding="utf-8",
    )
    loc = tmp_path / "loc.csv"
    loc.write_text((seed_repo.seeds / "location_map.csv").read_text(encoding="utf-8")
                   + f"shopify,{UNMAPPED_LOCATION},NORTH-DC\n", encoding="utf-8")
    assert seed_name_for(sku) == "sku_map" and seed_name_for(loc) == "location_map"
    result = _check(report_warehouse, seed_repo.seeds, {"sku_map": sku, "location_map": loc})
    found = _found(result)
    assert ("would_orphan_stock", "shopify", "SD-1003") in found
    assert ("ambiguous_sku", "shopify", "SD-1001") in found
    assert ("duplicate_row", "erp", "erp,SD-1004,SD-1004") in found
    assert ("unknown_system", "walmart", "walmart") in found
    assert ("location_without_timezone", "", "NORTH-DC") in found
    # The newly mapped location is no longer reported as unmapped.
    assert ("unmapped_location", "shopify", UNMAPPED_LOCATION) not in found
    orphan = next(p for p in result.problems if p.kind == "would_orphan_stock")
    assert orphan.units > 0 and "SD-1003" in orphan.detail
    # Nothing on disk changed: a check never lands anything.
    assert (seed_repo.seeds / "sku_map.csv").read_text(encoding="utf-8") == current


def test_bundle_components_must_be_mapped(
    report_warehouse: ReportWarehouse, seed_repo: SeedRepo
) -> None:
    seed_repo.write("bundle_components.csv",
                    "bundle_sku,component_sku,component_qty\nSD-1001,SD-1002,2\n"
                    "SD-1001,SD-7777,1\n")
    result = _check(report_warehouse, seed_repo.seeds)
    bundles = [(p.kind, p.key) for p in result.problems if p.seed == "bundle_components"]
    assert bundles == [("bundle_component_unmapped", "SD-7777")]


def test_no_snapshot_yet_reports_only_the_seed_tables(
    seed_repo: SeedRepo, tmp_path: Path
) -> None:
    config = Path(__file__).resolve().parents[2] / "stockdrift.example.yml"
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    try:
        result = check_mappings(con, load_config(config), seed_repo.seeds)
    finally:
        con.close()
    assert result.snapshots == {} and result.problems == []


def test_unrecognised_proposed_file_is_refused(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot tell which mapping seed"):
        seed_name_for(odd)


def test_shipped_seeds_pass_their_own_check(report_warehouse: ReportWarehouse) -> None:
    """The committed seeds on a warehouse built from the sandbox's catalog: the only errors
    are the scenario's deliberate ones (SD-2001 launched everywhere before anyone mapped it,
    a Shopify location nobody mapped). The kit SD-KIT-01 is listed on Shopify only and built
    from its components, so the master has no row for it and needs none."""
    result = _check(report_warehouse, SHIPPED_SEEDS)
    deliberate = {("unmapped_sku", s, external_skus(UNMAPPED_SKU)[s]) for s in result.snapshots}
    assert {(p.kind, p.system_id, p.key) for p in result.errors} == {
        *deliberate, ("unmapped_location", "shopify", UNMAPPED_LOCATION)}
    assert [p for p in result.problems if p.seed == "bundle_components"] == []


def test_a_bundle_no_channel_lists_and_a_component_off_the_master(
    report_warehouse: ReportWarehouse, seed_repo: SeedRepo
) -> None:
    seed_repo.write("bundle_components.csv",
                    "bundle_sku,component_sku,component_qty\nSD-KIT-01,SD-1003,1\n"
                    "SD-KIT-09,SD-1004,2\nSD-KIT-01,SD-KIT-01,1\n")
    result = _check(report_warehouse, seed_repo.seeds)
    bundles = {(p.kind, p.severity, p.key) for p in result.problems
               if p.seed == "bundle_components"}
    # seed_repo's sku_map has the real rows: Shopify lists SD-KIT-01; SD-KIT-09 nobody lists.
    assert bundles == {("bundle_unlisted", "warning", "SD-KIT-09"),
                       ("bundle_component_unmapped", "error", "SD-KIT-01")}
