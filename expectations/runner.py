"""Run every suite for the current cycle and collect findings and scopes."""

from __future__ import annotations

import duckdb

from expectations import freshness, incidents, mapping, semantics, variance
from expectations.findings import SuiteOutcome
from expectations.suite import Suite

SUITES: tuple[Suite, ...] = (
    freshness.EXTRACTION,
    freshness.FRESHNESS,
    incidents.SUITE,
    variance.SUITE,
    mapping.SUITE,
    *semantics.SUITES,
)


def run_suites(
    con: duckdb.DuckDBPyConnection, suites: tuple[Suite, ...] = SUITES
) -> list[SuiteOutcome]:
    return [suite.run(con) for suite in suites]
