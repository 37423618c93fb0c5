"""A person's decision is a valid lifecycle move or a stated no-op: never a silent move back
from resolved, never a logged self-transition (issue 16, item 13)."""

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
FINDING = Finding("oversell_risk", "shopify", "SD-1007", "EAST-DC", None, "high", 10.0,
                  "shopify shows more", "edited on channel", "check listing", {})


@pytest.fixture
def cfg() -> StockdriftConfig:
    return load_config(EXAMPLE)


@pytest.fixture
def con(tmp_path: Path, cfg: StockdriftConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(c)
    scope = Scope(causes=frozenset({"oversell_risk"}))
    queue.apply_outcomes(c, [SuiteOutcome("variance", False, 1, 1, [FINDING], scope)], T0, cfg)
    yield c
    c.close()


def decide(con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, to: str,
           minutes: int = 1, **kw: datetime) -> queue.Decision:
    return queue.transition(con, FINDING.fingerprint, to, "ecommerce", f"-> {to}",
                            T0 + timedelta(minutes=minutes), cfg, **kw)


def events(con: duckdb.DuckDBPyConnection) -> list[tuple[str | None, str]]:
    return con.execute("select from_status, to_status from ops.exception_events "
                       "order by occurred_at").fetchall()


def test_every_status_has_its_allowed_moves() -> None:
    assert set(queue.TRANSITIONS) == set(queue.STATUSES)
    assert queue.TRANSITIONS["resolved"] == ("open",)
    assert all(s not in moves for s, moves in queue.TRANSITIONS.items())


def test_ack_of_a_resolved_exception_is_refused_naming_its_status_and_the_allowed_moves(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    decide(con, cfg, "resolved")
    with pytest.raises(queue.InvalidTransition, match="is resolved") as info:
        decide(con, cfg, "acknowledged", minutes=2)
    assert "reopen" in str(info.value) and isinstance(info.value, ValueError)
    with pytest.raises(queue.InvalidTransition, match="is resolved"):
        decide(con, cfg, "snoozed", minutes=2, snoozed_until=T0 + timedelta(hours=1))
    assert con.execute("select status from ops.exceptions").fetchone() == ("resolved",)
    assert events(con) == [(None, "open"), ("open", "resolved")]


def test_a_repeated_decision_is_a_no_op_and_never_logs_a_self_transition(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    first = decide(con, cfg, "acknowledged")
    assert first.changed and (first.from_status, first.to_status) == ("open", "acknowledged")
    again = decide(con, cfg, "acknowledged", minutes=2)
    assert not again.changed and again.from_status == again.to_status == "acknowledged"
    decide(con, cfg, "resolved", minutes=3)
    assert not decide(con, cfg, "resolved", minutes=4).changed
    assert events(con) == [(None, "open"), ("open", "acknowledged"),
                           ("acknowledged", "resolved")]
    resolved_at = con.execute("select resolved_at from ops.exceptions").fetchone()
    assert resolved_at == ((T0 + timedelta(minutes=3)).replace(tzinfo=None),)


def test_the_data_never_logs_a_self_transition_either(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig
) -> None:
    scope = Scope(causes=frozenset({"oversell_risk"}))
    for minutes in (5, 10):  # gone twice: resolved once
        queue.apply_outcomes(con, [SuiteOutcome("variance", True, 1, 0, [], scope)],
                             T0 + timedelta(minutes=minutes), cfg)
    assert all(old != new for old, new in events(con))
