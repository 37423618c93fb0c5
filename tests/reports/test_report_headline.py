"""The report's headline names open incidents (critical first) and late systems before
anything else, and says all is well only when it is.

The state is the demo's at its end (`make demo`, seed 7): a critical `sync_stopped` open for
Shopify at CICERO-3PL with 14 of 30 SKUs behind, whose master changes wait past Shopify's
5-minute target while its snapshots stay on time and its p95 lag (other locations sync at
once) stays within target. It is built on a copy of the dbt-built report warehouse:
the incident goes in through the real queue API, the waiting changes into `fct_sync_lag`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, timedelta
from html import unescape

import dbt_scenario as sc
import duckdb
import pytest
from scenario_warehouse import ReportWarehouse

from expectations.findings import Finding, Scope, SuiteOutcome
from reports.data import ReportData, Rows, collect, key_figures
from reports.headline import headline
from reports.html import build_report
from reports.period import Period
from sandbox.catalog import SKUS
from stockdrift import queue

LAST_CYCLE = sc.CYCLES[3]                       # 09:15
PERIOD = Period(LAST_CYCLE - timedelta(hours=24), LAST_CYCLE)
DEMO_TITLE = ("Sync to shopify at CICERO-3PL looks stopped: 14 of 30 SKUs are behind the "
              "master and only 0 recently changed SKUs followed it (100% of active SKUs "
              "lagging)")
STOPPED = Finding("sync_stopped", "shopify", None, sc.CICERO.location_id, None, "critical",
                  # below the high oversell's 50.0: severity orders the headline, not score
                  40.0, DEMO_TITLE, "the integration pushing inventory is not running",
                  "check the connector that pushes inventory to this location")
BEHIND = 14


def _stop_the_cicero_sync(con: duckdb.DuckDBPyConnection, wh: ReportWarehouse) -> None:
    # the scenario extracts three of the example config's systems; the others never ran
    con.execute("delete from config.systems where system_id not in ('erp', 'shopify', "
                "'shipbob')")
    scope = Scope(frozenset({"sync_stopped"}))
    queue.apply_outcomes(con, [SuiteOutcome("sync", False, 30, 1, [STOPPED], scope)],
                         LAST_CYCLE.replace(tzinfo=UTC), wh.cfg)
    # 14 master changes at 09:05 that Shopify never showed at CICERO-3PL (open, 10 min old)
    template = con.execute("""select * from marts.fct_sync_lag
        where system_id = 'shopify' and is_open limit 1""").fetchone()
    assert template is not None, "the scenario's IN_FLIGHT change is open at Shopify"
    names = [d[0] for d in con.execute("select * from marts.fct_sync_lag limit 0").description]
    for i, sku in enumerate(SKUS[:BEHIND]):
        row = dict(zip(names, template, strict=True)) | {
            "sync_lag_id": f"shopify|stopped-{i}",
            "canonical_sku": sku.sku, "canonical_location": sc.CICERO.location_id,
            "master_changed_at": sc.CYCLES[1], "next_master_change_at": None,
            "synced_at": None, "lag_minutes": None, "is_open": True, "is_superseded": False,
            "open_minutes": 10, "is_breach": True,
        }
        con.execute(f"insert into marts.fct_sync_lag ({', '.join(names)}) values "
                    f"({', '.join('?' * len(names))})", list(row.values()))


@pytest.fixture(scope="module")
def stopped(report_warehouse: ReportWarehouse,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    path = tmp_path_factory.mktemp("stopped") / "stockdrift.duckdb"
    shutil.copy(report_warehouse.path, path)
    con = duckdb.connect(str(path))
    _stop_the_cicero_sync(con, report_warehouse)
    yield con
    con.close()


def _glance(html: str) -> list[str]:
    block = re.search(r'<ul class="glance" id="glance">(.*?)</ul>', html, re.S)
    assert block is not None
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


@pytest.fixture(scope="module")
def lines(stopped: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory
          ) -> list[str]:
    page = tmp_path_factory.mktemp("page") / "report.html"
    build_report(stopped, PERIOD, LAST_CYCLE, page)
    return _glance(page.read_text(encoding="utf-8"))


def test_headline_opens_with_the_critical_incident(lines: list[str]) -> None:
    first = lines[0]
    assert first.startswith("2 exceptions open at the end of the period (1 critical, 1 high): "
                            "CRITICAL sync_stopped (shopify at CICERO-3PL, owner ecommerce): "
                            + DEMO_TITLE), first
    # the high oversell (first seen earlier, higher score) comes after the critical one
    assert first.index("CRITICAL sync_stopped") < first.index("HIGH oversell_risk")


def test_headline_names_the_late_channel_and_the_failing_system_next(lines: list[str]) -> None:
    behind = lines[1]
    assert behind.startswith("Behind: shipbob (its last extraction failed: "
                             f"{sc.SHIPBOB_ERROR}"), behind
    assert (f"shopify ({BEHIND} master changes not shown after more than its 5-minute "
            "target") in behind


def test_headline_never_claims_all_is_well_here(lines: list[str]) -> None:
    text = " ".join(lines)
    for claim in ("All is well", "Every system is within", "sync lag is within",
                  "No system is behind"):
        assert claim not in text


def test_sync_lag_table_and_key_figures_agree_with_the_headline(
    stopped: duckdb.DuckDBPyConnection,
) -> None:
    data = collect(stopped, PERIOD)
    shopify = next(r for r in data.tables["sync_lag_summary"] if r["system_id"] == "shopify")
    assert shopify["waiting_past_target"] == BEHIND and not shopify["p95_over_target"]
    assert data.kpis["sync_late_systems"] == "shopify"
    assert data.kpis["critical_open"] == 1
    assert data.kpis["systems_late"] == 2                   # shipbob failing, shopify syncing
    assert [r["cause"] for r in data.tables["open_exceptions"]] == [
        "sync_stopped", "oversell_risk"]


def _quiet(open_rows: Rows, waiting: int) -> ReportData:
    tables: dict[str, Rows] = {
        "accuracy_trend": [], "snapshot_age_trend": [], "sync_lag_trend": [],
        "queue_summary": [], "queue_age": [], "queue_flow": [], "queue_by_owner": [],
        "top_drifting": [], "extraction_failures": [], "open_exceptions": open_rows,
        "system_freshness": [{
            "system_id": "shopify", "role": "storefront", "freshness_target_minutes": 5,
            "last_status": "succeeded", "last_error_cause": None, "age_minutes": 1.0,
            "is_late": False, "failures_in_period": 0}],
        "sync_lag_summary": [{
            "system_id": "shopify", "freshness_target_minutes": 5, "p50_minutes": 0.0,
            "p95_minutes": 2.0, "changes_synced": 40, "waiting_past_target": waiting,
            "synced_late": 0, "p95_over_target": False}],
    }
    data = ReportData(PERIOD, tables)
    data.kpis = key_figures(data)
    return data


def test_all_is_well_only_when_nothing_is_open_and_nothing_is_behind() -> None:
    assert headline(_quiet([], 0))[0].startswith("All is well: no exception is open")
    waiting = headline(_quiet([], 3))
    assert waiting[0].startswith("Behind: shopify (3 master changes")
    assert not any("All is well" in line for line in waiting)
    incident = {"severity": "critical", "cause": "sync_stopped", "system_id": "shopify",
                "canonical_location": "CICERO-3PL", "canonical_sku": None,
                "owner_id": "ecommerce", "title": DEMO_TITLE}
    open_only = headline(_quiet([incident], 0))
    assert open_only[0].startswith("1 exception open at the end of the period (1 critical)")
    assert open_only[1] == "No system is behind its freshness or sync-lag target."

