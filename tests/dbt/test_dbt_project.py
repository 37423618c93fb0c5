"""Builds the dbt project against a throwaway DuckDB file and checks the rules end to end.

The project is parsed once per module and the manifest reused (`dbtRunner(manifest=...)`),
the way a long-lived orchestrator process keeps each cycle's `dbt build` cheap: a new
`cycle_at` var would otherwise force dbt into a full re-parse.

Story (see `dbt_scenario.py`): cycles 0-1 are landed and built at cycle 1, then cycles 2-3 are
landed and built at cycle 3 (the incremental variance history appends).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dbt_scenario as sc
import duckdb
import pytest

from stockdrift.config import load_config
from stockdrift.warehouse import ensure_schema, write_config

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt"
CONFIG = REPO / "stockdrift.example.yml"


@dataclass
class Built:
    warehouse: Path
    timings: dict[str, float] = field(default_factory=dict)
    after_cycle_1: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    full_refresh: Path | None = None   # a copy rebuilt with --full-refresh at the last cycle

    def query(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        # Same process as dbt-duckdb: connect with the default config so DuckDB shares the
        # already-open database instance instead of refusing a second configuration.
        con = duckdb.connect(str(self.warehouse))
        try:
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()


def _land(warehouse: Path, cycles: range) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        ensure_schema(con)
        write_config(con, load_config(CONFIG))
        for cycle in cycles:
            sc.land_cycle(con, cycle)
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    from dbt.cli.main import dbtRunner

    tmp = tmp_path_factory.mktemp("dbt")
    result = Built(warehouse=tmp / "stockdrift.duckdb")
    common = [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
        "--quiet",
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STOCKDRIFT_WAREHOUSE", str(result.warehouse))
        started = time.perf_counter()
        parsed = dbtRunner().invoke(["parse", *common])
        assert parsed.success, parsed.exception
        result.timings["parse"] = time.perf_counter() - started
        runner = dbtRunner(manifest=parsed.result)

        def build(cycle: int, label: str) -> None:
            cycle_at = sc.CYCLES[cycle].strftime("%Y-%m-%d %H:%M:%S")
            started = time.perf_counter()
            res = runner.invoke(["build", *common, "--vars", f"{{cycle_at: '{cycle_at}'}}"])
            result.timings[label] = time.perf_counter() - started
            failed = [
                f"{r.node.unique_id}: {r.status} {r.message}"
                for r in (res.result or [])
                if str(r.status) not in {"success", "pass"}
            ]
            assert res.success and not failed, failed or res.exception

        _land(result.warehouse, range(0, 2))
        build(1, "build_cycle_1")
        result.after_cycle_1 = {
            "oversold": result.query(
                "select * from marts.fct_variance where system_id = 'shopify' "
                "and canonical_sku = ? and canonical_location = ?",
                sc.OVERSOLD.sku,
                sc.EAST.location_id,
            ),
            "history": result.query(
                "select count(*) as n, count(distinct snapshot_id) as snapshots "
                "from intermediate.int_variances_computed"
            ),
        }
        _land(result.warehouse, range(2, 4))
        build(3, "build_cycle_3")
        # the same history built in one go, to check the incremental models against
        result.full_refresh = tmp / "full-refresh.duckdb"
        result.query("force checkpoint")    # the file alone then holds every landed row
        shutil.copyfile(result.warehouse, result.full_refresh)
        mp.setenv("STOCKDRIFT_WAREHOUSE", str(result.full_refresh))
        full = dbtRunner().invoke(["build", *common, "--full-refresh", "--exclude-resource-type",
                                   "unit_test", "--vars", f"{{cycle_at: '{sc.CYCLES[3]}'}}"])
        assert full.success, full.exception
        print("dbt timings (s):", {k: round(v, 2) for k, v in result.timings.items()})
        yield result


INCREMENTAL_MODELS = ("int_positions_landed", "int_positions_mapped",
                      "int_master_positions_selected", "int_master_changes_detected",
                      "int_variances_computed", "int_variance_states")


@pytest.mark.parametrize("model", INCREMENTAL_MODELS)
def test_incremental_builds_equal_one_full_refresh(built: Built, model: str) -> None:
    """Cycles 0-1 built at cycle 1 and 2-3 appended at cycle 3 hold exactly the rows that
    one --full-refresh build of all four cycles computes."""
    assert built.full_refresh is not None
    sql = f"select * from intermediate.{model}"
    incremental = built.query(sql)
    full = Built(warehouse=built.full_refresh).query(sql)
    assert incremental
    assert sorted(map(repr, incremental)) == sorted(map(repr, full))


def _variance(built: Built, system_id: str, sku: str, location: str) -> dict[str, Any]:
    rows = built.query(
        "select * from marts.fct_variance "
        "where system_id = ? and canonical_sku = ? and canonical_location = ?",
        system_id,
        sku,
        location,
    )
    assert len(rows) == 1, rows
    return rows[0]


def test_every_mart_is_for_the_current_cycle(built: Built) -> None:
    for mart in (
        "fct_variance",
        "fct_system_freshness",
        "fct_system_drift",
        "fct_unmapped_keys",
        "fct_sync_lag",
        "fct_system_sync_lag",
    ):
        rows = built.query(f"select distinct cycle_at from marts.{mart}")
        assert rows == [{"cycle_at": sc.CYCLES[3]}], mart


def test_drift_is_in_flight_first_then_settled_as_unexplained_increase(built: Built) -> None:
    (first,) = built.after_cycle_1["oversold"]
    assert first["within_tolerance"] is False
    assert first["is_settled"] is False  # 0 minutes old at cycle 1: in flight

    row = _variance(built, "shopify", sc.OVERSOLD.sku, sc.EAST.location_id)
    assert (row["observed_qty"], row["expected_qty"]) == (7, 4)
    assert row["direction"] == "overstated"
    assert row["drift_since"] == sc.CYCLES[1]
    assert row["is_settled"] is True
    assert row["is_suppressed"] is False
    # it rose at cycle 1 while the master last changed (first seen) at cycle 0
    assert (row["last_observed_change_at"], row["last_observed_change_units"]) == (
        sc.CYCLES[1],
        3,
    )
    assert row["last_master_change_at"] == sc.CYCLES[0]
    assert row["probable_cause"] == "unexplained_increase"
    assert row["severity"] == "critical"  # listing above a master of <= 5 units
    assert "relist" in row["suggested_check"]


def test_change_inside_the_freshness_window_is_not_settled(built: Built) -> None:
    master_moved = _variance(built, "shopify", sc.IN_FLIGHT.sku, sc.EAST.location_id)
    assert master_moved["within_tolerance"] is False
    assert master_moved["last_master_change_at"] == sc.CYCLES[3]
    assert master_moved["is_settled"] is False

    channel_moved = _variance(built, "shopify", sc.NEW_DRIFT.sku, sc.EAST.location_id)
    assert channel_moved["drift_since"] == sc.CYCLES[3]
    assert channel_moved["is_settled"] is False


def test_failed_snapshot_suppresses_the_system_and_is_not_zero_stock(built: Built) -> None:
    (freshness,) = built.query(
        "select * from marts.fct_system_freshness where system_id = 'shipbob'"
    )
    assert freshness["last_status"] == "failed"
    assert freshness["last_error_cause"] == sc.SHIPBOB_ERROR
    assert freshness["last_success_snapshot_id"] == "shipbob-202501060910"

    rows = built.query("select * from marts.fct_variance where system_id = 'shipbob'")
    assert len(rows) == 6  # the mapped keys of the last good snapshot, not an empty system
    assert {r["suppression_reason"] for r in rows} == {"extract_failed"}
    assert all(r["is_suppressed"] for r in rows)
    assert all(r["snapshot_cycle_at"] == sc.CYCLES[2] for r in rows)
    drifting = next(r for r in rows if r["canonical_sku"] == sc.SHIPBOB_DRIFT.sku)
    assert drifting["observed_qty"] == sc.shipbob_on_hand(sc.SHIPBOB_DRIFT, 2) > 0

    (drift,) = built.query("select * from marts.fct_system_drift where system_id = 'shipbob'")
    assert (drift["keys_compared"], drift["sync_stopped"]) == (0, False)


def test_unmapped_keys_are_reported(built: Built) -> None:
    rows = {
        (r["system_id"], r["kind"], r["external_sku"] or r["external_location"]): r
        for r in built.query("select * from marts.fct_unmapped_keys")
    }
    sku = rows[("shopify", "sku", sc.UNMAPPED_SKU.sku)]
    assert sku["first_seen_at"] == sc.CYCLES[0]
    assert sku["observed_qty"] > 0
    location = rows[("shopify", "location", str(sc.UNMAPPED_SHOPIFY_LOCATION))]
    assert (location["first_seen_at"], location["observed_qty"]) == (sc.CYCLES[2], 9)
    # ShipBob failed this cycle: reported from its latest successful snapshot
    shipbob = rows[("shipbob", "sku", str(sc.UNMAPPED_SKU.shipbob_inventory_id))]
    assert shipbob["snapshot_id"] == "shipbob-202501060910"


def test_sync_lag_is_measured_per_master_change(built: Built) -> None:
    lags = {
        r["canonical_sku"]: r
        for r in built.query("select * from marts.fct_sync_lag where system_id = 'shopify'")
    }
    synced = lags[sc.SYNCED.sku]
    assert (synced["master_changed_at"], synced["synced_at"]) == (sc.CYCLES[1], sc.CYCLES[2])
    assert synced["lag_minutes"] == 5
    assert synced["is_open"] is False
    pending = lags[sc.IN_FLIGHT.sku]
    assert pending["is_open"] is True and pending["lag_minutes"] is None

    (system,) = built.query("select * from marts.fct_system_sync_lag where system_id = 'shopify'")
    assert (system["changes"], system["open_changes"]) == (1, 1)
    assert system["p50_minutes"] == system["max_minutes"] == 5


def test_variance_history_appends_each_snapshot_once(built: Built) -> None:
    (before,) = built.after_cycle_1["history"]
    assert before["snapshots"] == 4  # shopify + shipbob at cycles 0 and 1
    (after,) = built.query(
        "select count(*) as n, count(distinct variance_id) as ids, "
        "count(distinct snapshot_id) as snapshots from intermediate.int_variances_computed"
    )
    assert after["snapshots"] == 7  # + shopify 2, 3 and shipbob 2 (cycle 3 failed)
    assert after["n"] == after["ids"]
