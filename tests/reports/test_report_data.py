"""The report's figures for a period, against the dbt-built warehouse of `conftest.py`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dbt_scenario as sc
import duckdb
import pytest
from scenario_warehouse import FINDING_A, ReportWarehouse

from reports.data import ReportData, collect, export
from reports.period import Period, resolve_period

END = datetime(2025, 1, 6, 9, 30)


def _collect(wh: ReportWarehouse, period: Period) -> ReportData:
    con = duckdb.connect(str(wh.path))
    try:
        return collect(con, period)
    finally:
        con.close()


@pytest.fixture(scope="module")
def day(report_warehouse: ReportWarehouse) -> ReportData:
    return _collect(report_warehouse, resolve_period(END, last="24h"))


def test_accuracy_is_the_share_within_tolerance_per_cycle(
    report_warehouse: ReportWarehouse, day: ReportData
) -> None:
    expected = report_warehouse.query(
        """select cycle_at, count(*), count(*) filter (where within_tolerance)
        from marts.fct_variance_history group by 1 order by 1"""
    )
    trend = day.tables["accuracy_trend"]
    assert [(r["cycle_at"], r["keys_compared"], r["keys_within"]) for r in trend] == expected
    last_at, keys, within = expected[-1]
    assert day.kpis["accuracy_pct"] == round(100.0 * int(within) / int(keys), 1)  # type: ignore[call-overload]
    assert day.kpis["last_cycle_at"] == str(last_at)
    assert day.kpis["accuracy_pct"] < 100.0  # the scenario has drift


def test_settled_oversell_counts_as_overstated_units_and_value(day: ReportData) -> None:
    # Shopify lists 7 of SD-1001 at EAST-DC where the master can promise 4, since cycle 1.
    last = day.tables["accuracy_trend"][-1]
    assert last["overstated_units"] >= 3
    assert day.kpis["overstated_units"] == last["overstated_units"]
    top = day.tables["top_drifting"][0]
    assert (top["canonical_sku"], top["canonical_location"], top["system_id"]) == (
        sc.OVERSOLD.sku, sc.EAST.location_id, "shopify")
    assert (top["observed_qty"], top["expected_qty"], top["direction"]) == (7, 4, "overstated")
    assert (top["cause"], top["owner_id"]) == ("oversell_risk", "ecommerce")
    # In-flight differences (IN_FLIGHT, NEW_DRIFT changed at cycle 3) are not "drifting".
    drifting = {r["canonical_sku"] for r in day.tables["top_drifting"]}
    assert sc.IN_FLIGHT.sku not in drifting and sc.NEW_DRIFT.sku not in drifting


def test_failed_extraction_is_listed_with_cause_and_makes_the_system_late(
    day: ReportData,
) -> None:
    failures = day.tables["extraction_failures"]
    assert [(r["system_id"], r["error_cause"]) for r in failures] == [
        ("shipbob", sc.SHIPBOB_ERROR)
    ]
    shipbob = next(r for r in day.tables["system_freshness"] if r["system_id"] == "shipbob")
    assert shipbob["last_status"] == "failed" and shipbob["failures_in_period"] == 1
    assert "shipbob" in day.kpis["failing_systems"]
    assert day.kpis["extraction_failures"] == 1


def test_queue_is_replayed_from_the_transition_log(day: ReportData) -> None:
    q = day.tables["queue_summary"][0]
    assert (q["open_at_start"], q["open_at_end"]) == (0, 1)
    assert (q["opened_in_period"], q["closed_in_period"]) == (3, 2)
    assert q["ack_p50_minutes"] == 7.0
    assert q["resolve_p50_minutes"] == 11.0  # 10 (by the data) and 12 (by a person)
    assert q["acknowledged_at_end"] == 1
    owners = [
        (r["cause"], r["owner_id"], r["open_exceptions"]) for r in day.tables["queue_by_owner"]
    ]
    assert owners == [("oversell_risk", "ecommerce", 1)]
    ages = {r["age_bucket"]: r["open_exceptions"] for r in day.tables["queue_age"]}
    assert ages["under 1h"] == 1 and sum(ages.values()) == 1
    assert day.kpis["queue_trend"] == "growing"


def test_a_later_period_sees_the_queue_as_it_stood(report_warehouse: ReportWarehouse) -> None:
    later = _collect(report_warehouse, Period(datetime(2025, 1, 6, 10), datetime(2025, 1, 7)))
    q = later.tables["queue_summary"][0]
    assert (q["open_at_start"], q["open_at_end"], q["opened_in_period"]) == (1, 1, 0)
    assert later.kpis["queue_trend"] == "flat"
    assert later.tables["accuracy_trend"] == [] and later.kpis["accuracy_pct"] is None
    ages = {r["age_bucket"]: r["open_exceptions"] for r in later.tables["queue_age"]}
    assert ages["4–24h"] == 1  # first seen 09:00, period ends next day 00:00


def test_period_before_cycle_2_stops_there(report_warehouse: ReportWarehouse) -> None:
    early = _collect(report_warehouse, Period(sc.CYCLES[0], sc.CYCLES[1]))
    assert [r["cycle_at"] for r in early.tables["accuracy_trend"]] == list(sc.CYCLES[:2])
    assert early.tables["extraction_failures"] == []


def test_export_writes_the_same_figures_as_csv_and_parquet(
    report_warehouse: ReportWarehouse, day: ReportData, tmp_path: Path
) -> None:
    con = duckdb.connect(str(report_warehouse.path))
    try:
        written = export(con, day.period, tmp_path, day.kpis)
        for name, rows in day.tables.items():
            parquet = con.execute(f"select * from '{tmp_path / name}.parquet'").fetchall()
            assert parquet == [tuple(r.values()) for r in rows], name
            csv_count = con.execute(f"select count(*) from read_csv('{tmp_path / name}.csv')")
            assert csv_count.fetchone() == (len(rows),), name
        kf = con.execute(f"select * from '{tmp_path}/key_figures.parquet'")
        names = [d[0] for d in kf.description]
        assert dict(zip(names, kf.fetchone() or (), strict=True)) == day.kpis
    finally:
        con.close()
    assert len(written) == 2 * (len(day.tables) + 1)


def test_the_acknowledged_exception_is_the_one_left_open(report_warehouse: ReportWarehouse) -> None:
    rows = report_warehouse.query("select fingerprint, status from ops.exceptions order by 1")
    assert (FINDING_A.fingerprint, "acknowledged") in rows


def test_period_arguments() -> None:
    now = datetime(2025, 1, 6, 12, 0)
    assert resolve_period(now, last="90m") == Period(datetime(2025, 1, 6, 10, 30), now)
    p = resolve_period(now, start="2025-01-01T00:00:00+01:00", end="2025-01-05T00:00:00Z")
    assert p == Period(datetime(2024, 12, 31, 23, 0), datetime(2025, 1, 5))
    assert p.bucket == "day" and resolve_period(now).bucket == "hour"
    with pytest.raises(ValueError, match="either --from or --last"):
        resolve_period(now, start="2025-01-01", last="2h")
    with pytest.raises(ValueError, match="not a window"):
        resolve_period(now, last="soon")
    with pytest.raises(ValueError, match="empty"):
        resolve_period(now, start="2025-01-07")
