from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from expectations.findings import Finding, Scope, SuiteOutcome
from stockdrift import queue
from stockdrift.config import StockdriftConfig, load_config
from stockdrift.warehouse import ensure_schema

EXAMPLE = Path(__file__).resolve().parents[2] / "stockdrift.example.yml"
T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
DRIFT = Scope(
    causes=frozenset({"oversell_risk", "sync_lag_breach"}),
    system_locations=frozenset({("shopify", "EAST-DC")}),
)


@pytest.fixture
def cfg() -> StockdriftConfig:
    return load_config(EXAMPLE)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(c)
    yield c
    c.close()


def oversell(sku: str = "SD-1007", severity: str = "critical") -> Finding:
    return Finding(
        "oversell_risk",
        "shopify",
        sku,
        "EAST-DC",
        None,
        severity,
        120.0,
        f"shopify shows more for {sku}",
        "edited on channel",
        "check listing",
        {"observed": 12, "expected": 3},
    )


def outcome(findings: list[Finding], scope: Scope = DRIFT) -> SuiteOutcome:
    return SuiteOutcome("variance", not findings, 10, len(findings), findings, scope)


def statuses(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select fingerprint, status from ops.exceptions").fetchall())


def test_open_routes_to_owner_and_logs(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    changes = queue.apply_outcomes(con, [outcome([oversell()])], T0, cfg)
    assert len(changes.opened) == 1
    row = queue.list_exceptions(con)[0]
    assert row["owner_id"] == "ecommerce" and row["status"] == "open"
    events = con.execute("select to_status, actor, reason from ops.exception_events").fetchall()
    assert events[0][0] == "open" and events[0][1] == "stockdrift"
    assert "storefront drift goes to e-commerce" in events[0][2]


def test_repeat_is_not_reopened_and_missing_is_resolved(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    queue.apply_outcomes(con, [outcome([oversell()])], T0, cfg)
    again = queue.apply_outcomes(con, [outcome([oversell()])], T0 + timedelta(minutes=5), cfg)
    assert again.opened == [] and len(again.still_open) == 1
    gone = queue.apply_outcomes(con, [outcome([])], T0 + timedelta(minutes=10), cfg)
    assert len(gone.resolved) == 1
    back = queue.apply_outcomes(con, [outcome([oversell()])], T0 + timedelta(minutes=15), cfg)
    assert len(back.reopened) == 1
    times = con.execute("select times_opened from ops.exceptions").fetchone()
    assert times == (2,)


def test_outside_scope_keeps_state(con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig) -> None:
    """A system that was not evaluated (e.g. extraction failed) is not 'fixed'."""
    queue.apply_outcomes(con, [outcome([oversell()])], T0, cfg)
    other = Scope(causes=frozenset({"oversell_risk"}), system_locations=frozenset())
    changes = queue.apply_outcomes(con, [outcome([], other)], T0 + timedelta(minutes=5), cfg)
    assert changes.resolved == []
    assert set(statuses(con).values()) == {"open"}


def test_people_decisions_need_permission_and_reason(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    queue.apply_outcomes(con, [outcome([oversell()])], T0, cfg)
    fp = oversell().fingerprint
    with pytest.raises(queue.PermissionDenied, match="owned by 'ecommerce'"):
        queue.transition(con, fp[:8], "acknowledged", "inventory-ops", "mine", T0, cfg)
    with pytest.raises(ValueError, match="reason is required"):
        queue.transition(con, fp, "acknowledged", "ecommerce", " ", T0, cfg)
    queue.transition(con, fp[:8], "acknowledged", "ecommerce", "looking", T0, cfg)
    queue.transition(
        con,
        fp,
        "snoozed",
        "data-team",
        "waiting on vendor",
        T0,
        cfg,
        snoozed_until=T0 + timedelta(minutes=30),
    )
    assert statuses(con)[fp] == "snoozed"
    # Still failing after the snooze ends: back to open.
    queue.apply_outcomes(con, [outcome([oversell()])], T0 + timedelta(minutes=35), cfg)
    assert statuses(con)[fp] == "open"
    log = con.execute(
        "select from_status, to_status, actor from ops.exception_events "
        "order by occurred_at, to_status"
    ).fetchall()
    assert ("open", "acknowledged", "ecommerce") in log
    assert ("acknowledged", "snoozed", "data-team") in log
    assert ("snoozed", "open", "stockdrift") in log


def test_worsened_severity_is_reported(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    queue.apply_outcomes(con, [outcome([oversell(severity="medium")])], T0, cfg)
    changes = queue.apply_outcomes(
        con, [outcome([oversell(severity="critical")])], T0 + timedelta(minutes=5), cfg
    )
    assert changes.worsened == [oversell().fingerprint]


def test_per_key_drift_folds_into_sync_stopped_incident(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    queue.apply_outcomes(con, [outcome([oversell("SD-1001"), oversell("SD-1002")])], T0, cfg)
    incident = Finding("sync_stopped", "shopify", None, "EAST-DC", None, "critical", 1e4,
                       "sync stopped", "integration down", "check the app", {})
    scope = Scope(causes=frozenset({"sync_stopped"}))
    changes = queue.apply_outcomes(con, [outcome([incident], scope)],
                                   T0 + timedelta(minutes=5), cfg)
    assert len(changes.opened) == 1 and len(changes.resolved) == 2
    open_rows = queue.list_exceptions(con, status="active")
    assert [r["cause"] for r in open_rows] == ["sync_stopped"]
    reasons = {r[0] for r in con.execute("select reason from ops.exception_events "
                                         "where to_status = 'resolved'").fetchall()}
    assert reasons == {f"grouped into sync_stopped incident {incident.fingerprint}"}


def test_list_filters_by_age(con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig) -> None:
    queue.apply_outcomes(con, [outcome([oversell("SD-1001")])], T0, cfg)
    queue.apply_outcomes(con, [outcome([oversell("SD-1001"), oversell("SD-1002")])],
                         T0 + timedelta(hours=2), cfg)
    old = queue.list_exceptions(con, first_seen_before=T0 + timedelta(hours=1))
    assert [r["canonical_sku"] for r in old] == ["SD-1001"]
    assert len(queue.list_exceptions(con, first_seen_before=T0 + timedelta(hours=2))) == 2
    assert queue.list_exceptions(con, owner="inventory-ops") == []
