"""What the semantics suites resolve by the data: only systems whose data was read, and
nothing while a master cannot be read (not looking is not the same as fixed)."""

from __future__ import annotations

import duckdb
import pytest

from expectations import semantics


def _freshness(rows: list[tuple[str, bool, str, bool]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.fct_system_freshness (system_id varchar, is_master boolean, "
                "last_status varchar, is_stale boolean)")
    con.executemany("insert into marts.fct_system_freshness values (?,?,?,?)", rows)
    return con


def test_scope_is_the_systems_read_this_cycle() -> None:
    con = _freshness([("erp", True, "succeeded", False), ("shipbob", False, "succeeded", False),
                      ("wms", False, "failed", True), ("amazon", False, "succeeded", True)])
    scope = semantics.RESERVATIONS.scope(con)
    assert scope.causes == {"canceled_order_not_released", "incoming_stuck"}
    assert scope.covers("incoming_stuck", "shipbob", "CICERO-3PL")
    assert not scope.covers("incoming_stuck", "wms", "EAST-DC")      # failed: keep its state
    assert not scope.covers("incoming_stuck", "amazon", "FBA")       # stale: keep its state
    assert not scope.covers("bundle_overstated", "shipbob", "CICERO-3PL")


@pytest.mark.parametrize("status, stale", [("failed", False), ("succeeded", True)])
def test_nothing_resolves_while_a_master_cannot_be_read(status: str, stale: bool) -> None:
    con = _freshness([("erp", True, status, stale), ("shopify", False, "succeeded", False)])
    for suite in semantics.SUITES:
        scope = suite.scope(con)
        assert not any(scope.covers(c, "shopify", "EAST-DC") for c in scope.causes), suite.name


def test_every_suite_has_a_dagster_check_and_a_mart() -> None:
    assert set(semantics.CHECK_NAMES) == {s.name for s in semantics.SUITES}
    assert semantics.MARTS == ("fct_bundle_availability", "fct_holder_bucket_drift",
                               "fct_return_restocks", "fct_lot_serial_mismatches")
