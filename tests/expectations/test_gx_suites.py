"""The GX suites over hand-built mart tables: which rows become findings, with what."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from expectations import freshness, incidents, mapping, variance
from stockdrift.warehouse import ensure_schema

VARIANCE_COLUMNS = """
    cycle_at timestamp, system_id varchar, system_role varchar, is_listing boolean,
    canonical_sku varchar, canonical_location varchar, external_sku varchar,
    external_location varchar, snapshot_id varchar, observed_at timestamp, observed_qty int,
    expected_qty int, master_on_hand int, master_available int, master_snapshot_id varchar,
    master_observed_at timestamp, last_master_change_at timestamp, variance_units int,
    abs_variance_units int, variance_pct double, direction varchar, tolerance_units int,
    within_tolerance boolean, drift_since timestamp, freshness_target_minutes int,
    is_settled boolean, is_suppressed boolean, suppression_reason varchar,
    probable_cause varchar, suggested_check varchar, unit_cost double, value_at_risk double,
    severity varchar, severity_score double
"""


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(c)
    c.execute("create schema marts")
    c.execute(f"create table marts.fct_variance ({VARIANCE_COLUMNS})")
    for column in ("master_system_id varchar", "source_records int", "is_listed boolean",
                   "master_committed int", "last_observed_change_at timestamp",
                   "last_observed_change_units int"):
        c.execute(f"alter table marts.fct_variance add column {column}")
    c.execute("""create table marts.fct_negative_available (
        cycle_at timestamp, system_id varchar, canonical_sku varchar,
        canonical_location varchar, snapshot_id varchar, observed_at timestamp,
        master_on_hand int, master_available int, master_committed int,
        backorder_allowed boolean, negative_since timestamp, freshness_target_minutes int,
        is_settled boolean, probable_cause varchar, suggested_check varchar, unit_cost double,
        value_at_risk double, severity varchar, severity_score double)""")
    yield c
    c.close()


def add_variance(con: duckdb.DuckDBPyConnection, sku: str, observed: int, expected: int, *,
                 settled: bool, suppressed: bool = False, location: str = "EAST-DC",
                 reason: str | None = None) -> None:
    diff = observed - expected
    direction = "overstated" if diff > 0 else "understated" if diff < 0 else "match"
    cause = None if diff == 0 else "oversell_risk" if diff > 0 else "sync_lag_breach"
    con.execute(
        "insert into marts.fct_variance values ('2026-11-02 14:30', 'shopify', 'storefront',"
        " true, ?, ?, ?, '655441491', 'shopify-1', '2026-11-02 14:30', ?, ?, ?, ?, 'erp-1',"
        " '2026-11-02 14:30', '2026-11-02 14:00', ?, ?, null, ?, 0, ?, '2026-11-02 14:10', 5,"
        " ?, ?, ?, ?, 'check it', 10.0, ?, 'high', ?, 'erp', 1, true, 0, null, null)",
        [sku, location, sku, observed, expected, expected, expected, diff, abs(diff), direction,
         diff == 0, settled, suppressed or reason is not None,
         reason or ("extract_failed" if suppressed else None), cause,
         abs(diff) * 10.0, abs(diff) * 10.0],
    )


def test_only_settled_unsuppressed_drift_becomes_a_finding(con: duckdb.DuckDBPyConnection) -> None:
    add_variance(con, "SD-1", 12, 3, settled=True)            # oversell, settled
    add_variance(con, "SD-2", 9, 10, settled=False)           # in flight
    add_variance(con, "SD-3", 5, 5, settled=False)            # matches
    add_variance(con, "SD-4", 50, 10, settled=True, suppressed=True)  # system failed
    outcome = variance.SUITE.run(con)
    # only differences are candidates: the in-flight one passes, the settled one fails
    assert outcome.evaluated_rows == 2 and outcome.failed_rows == 1 and not outcome.success
    (finding,) = outcome.findings
    assert (finding.cause, finding.canonical_sku) == ("oversell_risk", "SD-1")
    assert finding.evidence["observed_qty"] == 12 and finding.evidence["expected_qty"] == 3
    assert finding.evidence["last_master_change_at"] == "2026-11-02T14:00:00Z"
    assert "12 vs 3" in finding.title
    assert outcome.scope.covers("oversell_risk", "shopify", "EAST-DC")
    assert not outcome.scope.covers("extract_failed", "shopify", "EAST-DC")


def test_all_in_flight_passes(con: duckdb.DuckDBPyConnection) -> None:
    add_variance(con, "SD-2", 9, 10, settled=False)
    outcome = variance.SUITE.run(con)
    assert outcome.success and outcome.findings == []


def freshness_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""create table marts.fct_system_freshness as select * from (values
        ('erp', 'erp', 'netsuite_suiteql', 5, 'erp-9', 'succeeded', null,
         timestamp '2026-11-02 14:30', timestamp '2026-11-02 14:30', timestamp '2026-11-02 14:30',
         0.5, false),
        ('shopify', 'storefront', 'shopify_rest', 5, 'shopify-9', 'failed',
         'shopify: HTTP 401 ... Invalid API key', timestamp '2026-11-02 14:30',
         timestamp '2026-11-02 14:20', timestamp '2026-11-02 14:20', 10.0, true),
        ('shipbob', '3pl', 'shipbob', 15, 'shipbob-9', 'succeeded', null,
         timestamp '2026-11-02 14:30', timestamp '2026-11-02 14:30', timestamp '2026-11-02 13:50',
         40.0, true)
        ) t(system_id, role, connector, freshness_target_minutes, last_snapshot_id, last_status,
            last_error_cause, last_attempt_at, last_success_at, last_success_as_of, age_minutes,
            is_stale)""")


def test_failed_extraction_and_stale_system_are_separate_causes(
    con: duckdb.DuckDBPyConnection,
) -> None:
    freshness_table(con)
    failed = freshness.EXTRACTION.run(con)
    stale = freshness.FRESHNESS.run(con)
    assert [f.system_id for f in failed.findings] == ["shopify"]
    assert "Invalid API key" in failed.findings[0].probable_cause
    # shopify failed: it is extract_failed, not also stale_system
    assert [f.system_id for f in stale.findings] == ["shipbob"]
    assert stale.findings[0].cause == "stale_system" and "40 min old" in stale.findings[0].title


def test_sync_stopped_and_unmapped(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""create table marts.fct_system_drift as select * from (values
        ('shopify', 'CICERO-3PL', 30, 9, 1, 0.9, true, timestamp '2026-11-02 14:10', 'SD-1, SD-2'),
        ('shopify', 'EAST-DC', 30, 1, 8, 0.11, false, timestamp '2026-11-02 14:10', 'SD-7')
        ) t(system_id, canonical_location, keys_compared, keys_settled_drift,
            keys_recently_synced, drift_share, sync_stopped, drift_since, example_skus)""")
    stopped = incidents.SUITE.run(con)
    (incident,) = stopped.findings
    assert (incident.cause, incident.canonical_location) == ("sync_stopped", "CICERO-3PL")
    assert incident.severity == "critical"
    freshness_table(con)
    con.execute("""create table marts.fct_unmapped_keys as select * from (values
        ('erp', 'sku', 'SD-2001', '1', 195, 'shopify-1', timestamp '2026-11-02 14:05'),
        ('shipbob', 'location', '889999', '77', 3, 'shipbob-1', timestamp '2026-11-02 14:05')
        ) t(system_id, kind, external_sku, external_location, observed_qty, snapshot_id,
            first_seen_at)""")
    unmapped = mapping.SUITE.run(con)
    causes = sorted((f.cause, f.external_id) for f in unmapped.findings)
    assert causes == [("unmapped_location", "77"), ("unmapped_sku", "SD-2001")]
    # only systems read successfully this cycle were checked
    assert unmapped.scope.covers("unmapped_sku", "erp", None)
    assert not unmapped.scope.covers("unmapped_sku", "shopify", None)


def test_a_silent_channel_incident_names_its_last_write(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""create table marts.fct_system_drift as select * from (values
        ('shopify', 'CICERO-3PL', 30, 1, 3, 0, 1.0, true, 'channel_silent',
         timestamp '2026-11-01 01:40', timestamp '2026-11-01 03:05', 'SD-1018')
        ) t(system_id, canonical_location, keys_compared, keys_settled_drift,
            keys_in_flight_drift, keys_recently_synced, drift_share, sync_stopped,
            sync_stopped_by, channel_last_write_at, drift_since, example_skus)""")
    (incident,) = incidents.SUITE.run(con).findings
    assert incident.cause == "sync_stopped"
    assert "no write there since 2026-11-01T01:40:00Z" in incident.title
    assert "1 SKU(s) past the target, 3 more changed since" in incident.title
    assert incident.evidence["stopped_by"] == "channel_silent"
    assert incident.evidence["keys_in_flight_drift"] == 3


def test_gx_sees_only_the_columns_its_expectations_read() -> None:
    import great_expectations as gx
    import pandas as pd

    from expectations.gx_engine import columns_read, validate

    pair = gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="tolerance_units", column_B="settled_excess", or_equal=True)
    in_set = gx.expectations.ExpectColumnValuesToBeInSet(column="status", value_set=["ok"])
    assert columns_read([pair, in_set]) == ["tolerance_units", "settled_excess", "status"]
    assert columns_read([gx.expectations.ExpectTableRowCountToEqual(value=0)]) == []
    conditional = gx.expectations.ExpectColumnValuesToBeBetween(
        column="qty", max_value=0, row_condition='other == "x"', condition_parser="pandas")
    assert columns_read([conditional]) is None  # a row condition may read any column

    frame = pd.DataFrame({"row_id": [1, 2, 3], "tolerance_units": [2, 2, 2],
                          "settled_excess": [1, 5, 2], "status": ["ok", "ok", "bad"],
                          "unread": [object(), None, "x"]})
    outcomes = validate("width_test", frame, [pair, in_set])
    assert [o.unexpected_row_ids for o in outcomes] == [frozenset({2}), frozenset({3})]


def test_unchanged_input_reuses_gx_verdict_and_any_change_revalidates(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import great_expectations as gx
    import pandas as pd

    from expectations import gx_engine

    calls: list[int] = []
    real = gx_engine._validate

    def counting(*args: object) -> list[gx_engine.ExpectationOutcome]:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(gx_engine, "_validate", counting)
    between = [gx.expectations.ExpectColumnValuesToBeBetween(column="late", max_value=0)]
    frame = pd.DataFrame({"row_id": [1, 2], "late": [0, 3], "title": ["a", "b"]})
    first = gx_engine.validate("memo_test", frame, between)
    assert [o.unexpected_row_ids for o in first] == [frozenset({2})]
    # same rows the expectation reads (an unread column changed): GX's verdict is reused
    again = gx_engine.validate("memo_test", frame.assign(title=["x", "y"]), between)
    assert again == first and len(calls) == 1
    # a changed value, a changed row id and a changed expectation each revalidate
    assert [o.unexpected_row_ids for o in gx_engine.validate(
        "memo_test", frame.assign(late=[4, 0]), between)] == [frozenset({1})]
    assert [o.unexpected_row_ids for o in gx_engine.validate(
        "memo_test", frame.assign(row_id=[7, 8], late=[4, 0]), between)] == [frozenset({7})]
    looser = [gx.expectations.ExpectColumnValuesToBeBetween(column="late", max_value=5)]
    assert [o.success for o in gx_engine.validate(
        "memo_test", frame.assign(row_id=[7, 8], late=[4, 0]), looser)] == [True]
    assert len(calls) == 4


def test_sync_stopped_incident_carries_the_keys_behind(con: duckdb.DuckDBPyConnection) -> None:
    """The incident names a few keys behind it with their numbers (settled first, then the
    largest), and the channel's last write: what the alert shows instead of "(no SKU)"."""
    con.execute("""create table marts.fct_system_drift as select * from (values
        ('shopify', 'CICERO-3PL', 30, 3, 4, 0, 1.0, true, 'channel_silent',
         timestamp '2026-11-02 13:40', timestamp '2026-11-02 14:10', 'SD-1, SD-2, SD-3')
        ) t(system_id, canonical_location, keys_compared, keys_settled_drift,
            keys_in_flight_drift, keys_recently_synced, drift_share, sync_stopped,
            sync_stopped_by, channel_last_write_at, drift_since, example_skus)""")
    stopped = {"location": "CICERO-3PL", "reason": "sync_stopped"}
    add_variance(con, "SD-1", 12, 3, settled=True, **stopped)
    add_variance(con, "SD-2", 2, 9, settled=True, **stopped)
    add_variance(con, "SD-9", 40, 10, settled=False, **stopped)       # in flight, largest
    add_variance(con, "SD-5", 5, 5, settled=True, **stopped)          # matches: not behind
    add_variance(con, "SD-7", 50, 10, settled=True, location="CICERO-3PL",
                 reason="extract_failed")                              # not this incident
    add_variance(con, "SD-8", 20, 10, settled=True, reason="sync_stopped")  # other location
    (incident,) = incidents.SUITE.run(con).findings
    examples = incident.evidence["examples"]
    assert [(e["canonical_sku"], e["observed_qty"], e["expected_qty"], e["settled"])
            for e in examples] == [("SD-1", 12, 3, True), ("SD-2", 2, 9, True),
                                   ("SD-9", 40, 10, False)]
    assert examples[0]["variance_units"] == 9
    assert examples[0]["observed_at"] == "2026-11-02T14:30:00Z"
    assert incident.evidence["keys_behind"] == 7   # 3 settled + 4 in flight
    assert incident.evidence["channel_last_write_at"] == "2026-11-02T13:40:00Z"
