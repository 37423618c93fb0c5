"""The report in a real headless Chromium: it loads offline with no console errors, shows the
figures the warehouse holds, and renders hostile data as text. Screenshots are kept in
test-artifacts/ (gitignored). Skips, saying why, where Chromium or Playwright is missing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import dbt_scenario as sc
import duckdb
import pytest
from report_browser import PageVisit, chromium_missing_reason, visit
from scenario_warehouse import REPO, ReportWarehouse

from reports.data import ReportData, key_figures
from reports.html import build_report, render
from reports.period import Period, resolve_period

missing = chromium_missing_reason()
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or "")
ARTIFACTS = REPO / "test-artifacts"
END = datetime(2025, 1, 6, 9, 30)
HOSTILE = "<script>window.__pwned=1;alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def page(report_warehouse: ReportWarehouse, tmp_path_factory: pytest.TempPathFactory) -> PageVisit:
    out = tmp_path_factory.mktemp("browser") / "report.html"
    con = duckdb.connect(str(report_warehouse.path))
    try:
        build_report(con, resolve_period(END, last="24h"), END, out)
    finally:
        con.close()
    return visit(out, ARTIFACTS / "report.png")


def test_page_loads_offline_without_errors(page: PageVisit) -> None:
    assert page.console_errors == []
    assert page.page_errors == []
    assert page.remote_requests == []  # everything inline: opens with no network
    assert page.plots_rendered >= 7  # every chart drew an SVG
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_key_figures_shown_equal_the_warehouse(
    page: PageVisit, report_warehouse: ReportWarehouse
) -> None:
    ((keys, within),) = report_warehouse.query(
        "select count(*), count(*) filter (where within_tolerance) from "
        "marts.fct_variance_history where cycle_at = (select max(cycle_at) from "
        "marts.fct_variance_history)"
    )
    assert float(page.kpis["accuracy_pct"]) == round(100.0 * within / keys, 1)  # type: ignore[operator]
    assert f"{float(page.kpis['accuracy_pct']):.1f}% accurate" in page.text
    ((open_now,),) = report_warehouse.query(
        "select count(*) from ops.exceptions where status <> 'resolved'"
    )
    assert int(page.kpis["open_exceptions"]) == open_now == 1
    ((failed,),) = report_warehouse.query(
        "select count(*) from raw.snapshots where status = 'failed'"
    )
    assert int(page.kpis["extraction_failures"]) == failed == 1
    # The oversold key's settled drift is in the overstated units shown.
    ((observed, expected),) = report_warehouse.query(
        "select observed_qty, expected_qty from marts.fct_variance_history where system_id = "
        "'shopify' and canonical_sku = ? and canonical_location = ? order by cycle_at desc "
        "limit 1", sc.OVERSOLD.sku, sc.EAST.location_id,
    )
    assert int(page.kpis["overstated_units"]) >= observed - expected  # type: ignore[operator]


def test_tables_show_the_warehouse_rows(page: PageVisit, report_warehouse: ReportWarehouse) -> None:
    failures = page.tables["extraction_failures"]
    ((cause,),) = report_warehouse.query(
        "select error_cause from raw.snapshots where status = 'failed'"
    )
    assert [(r["system_id"], r["error_cause"]) for r in failures] == [("shipbob", cause)]
    top = page.tables["top_drifting"][0]
    assert (top["canonical_sku"], top["system_id"], top["cause"], top["owner_id"]) == (
        sc.OVERSOLD.sku, "shopify", "oversell_risk", "ecommerce")
    states = {r["system_id"]: r["state"] for r in page.tables["system_freshness"]}
    assert states["shipbob"] == "FAILED"
    queue = page.tables["queue_summary"][0]
    assert (queue["opened_in_period"], queue["closed_in_period"]) == ("3", "2")
    assert "The exception queue is growing" in page.text


def _hostile_data() -> ReportData:
    period = Period(datetime(2025, 1, 6), datetime(2025, 1, 6, 1))
    at = datetime(2025, 1, 6, 0, 30)
    tables: dict[str, list[dict[str, object]]] = {
        "accuracy_trend": [{"cycle_at": at, "keys_compared": 2, "keys_within": 1,
                            "accuracy_pct": 50.0, "keys_settled_drift": 1,
                            "overstated_units": 3, "understated_units": 0,
                            "overstated_value": 30.0, "understated_value": 0.0}],
        "system_freshness": [{"system_id": HOSTILE_IMG, "role": "storefront",
                              "freshness_target_minutes": 5, "last_status": "failed",
                              "last_error_cause": HOSTILE, "last_success_as_of": at,
                              "age_minutes": 30.0, "is_late": True, "failures_in_period": 1}],
        "snapshot_age_trend": [], "sync_lag_summary": [], "sync_lag_trend": [],
        "queue_summary": [], "queue_age": [], "queue_flow": [],
        "queue_by_owner": [{"cause": HOSTILE, "owner_id": HOSTILE_IMG, "open_exceptions": 1,
                            "oldest_first_seen_at": at}],
        "top_drifting": [{"canonical_sku": HOSTILE, "canonical_location": "EAST-DC",
                          "system_id": "shopify", "observed_qty": 5, "expected_qty": 2,
                          "variance_units": 3, "direction": "overstated", "value_at_risk": 30.0,
                          "cause": "oversell_risk", "owner_id": "ecommerce",
                          "last_seen_at": at}],
        "extraction_failures": [{"cycle_at": at, "system_id": HOSTILE_IMG, "connector": "x",
                                 "attempts": 3, "pages": 0, "error_cause": HOSTILE}],
        "open_exceptions": [{"severity": "critical", "cause": "sync_stopped",
                             "system_id": HOSTILE_IMG, "canonical_location": "EAST-DC",
                             "canonical_sku": None, "external_id": None,
                             "owner_id": "ecommerce", "status": "open", "first_seen_at": at,
                             "title": HOSTILE}],
    }
    data = ReportData(period, tables)  # type: ignore[arg-type]
    data.kpis = key_figures(data)
    return data


def test_data_text_renders_as_text_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "hostile.html"
    html = render(_hostile_data(), datetime(2025, 1, 6, 1))
    assert HOSTILE not in html and HOSTILE_IMG not in html
    path.write_text(html, encoding="utf-8")
    seen = visit(path, ARTIFACTS / "report-hostile.png")
    assert seen.dialogs == [] and seen.page_errors == [] and seen.console_errors == []
    assert seen.tables["top_drifting"][0]["canonical_sku"] == HOSTILE
    assert seen.tables["extraction_failures"][0]["error_cause"] == HOSTILE
    assert HOSTILE_IMG in seen.text
    assert f"Behind: {HOSTILE_IMG} (its last extraction failed: {HOSTILE})" in seen.text
    assert f"CRITICAL sync_stopped ({HOSTILE_IMG} at EAST-DC, owner ecommerce): {HOSTILE}" in (
        seen.text)
