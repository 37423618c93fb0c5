"""Suites over marts.fct_system_freshness: the last extraction succeeded, and the last good
snapshot is within the system's freshness target."""

from __future__ import annotations

from typing import Any

import duckdb
import great_expectations as gx

from expectations.findings import Finding, Scope
from expectations.suite import Suite, iso

SQL_EXTRACTION = "select * from marts.fct_system_freshness"
# Stale only when the vendor answered with old data; a failed extraction is its own cause.
SQL_FRESHNESS = """
select *, coalesce(age_minutes, 1e9) as age_or_never
from marts.fct_system_freshness where last_status = 'succeeded'
"""


def _extraction_expectations() -> list[Any]:
    return [
        gx.expectations.ExpectColumnValuesToBeInSet(column="last_status", value_set=["succeeded"])
    ]


def _freshness_expectations() -> list[Any]:
    return [
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="freshness_target_minutes", column_B="age_or_never", or_equal=True
        )
    ]


def _evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "last_status": row["last_status"],
        "last_error_cause": row["last_error_cause"],
        "last_attempt_at": iso(row["last_attempt_at"]),
        "last_success_at": iso(row["last_success_at"]),
        "last_success_as_of": iso(row["last_success_as_of"]),
        "age_minutes": row["age_minutes"],
        "freshness_target_minutes": row["freshness_target_minutes"],
        "last_snapshot_id": row["last_snapshot_id"],
    }


def extraction_finding(row: dict[str, Any]) -> Finding:
    last_good = iso(row["last_success_at"]) or "never"
    return Finding(
        cause="extract_failed",
        system_id=row["system_id"],
        canonical_sku=None,
        canonical_location=None,
        external_id=None,
        severity="high",
        severity_score=1000.0,
        title=f"Extraction from {row['system_id']} failed; last good snapshot {last_good}",
        probable_cause=f"The {row['connector']} API call failed: {row['last_error_cause']}",
        suggested_check=(
            "Read the vendor error above: renew the credential on 401/403, wait out a 429, "
            "check the vendor status page on 5xx. Drift for this system is suppressed until a "
            "good snapshot lands; its last good snapshot is kept, never read as zero stock."
        ),
        evidence=_evidence(row),
    )


def stale_finding(row: dict[str, Any]) -> Finding:
    return Finding(
        cause="stale_system",
        system_id=row["system_id"],
        canonical_sku=None,
        canonical_location=None,
        external_id=None,
        severity="high",
        severity_score=900.0,
        title=(
            f"{row['system_id']} data is {row['age_minutes']:.0f} min old "
            f"(target {row['freshness_target_minutes']} min)"
        ),
        probable_cause="The system answers, but its data has not been refreshed within target.",
        suggested_check="Check the system's own sync/export job and its last run time.",
        evidence=_evidence(row),
    )


def _scope_extraction(_: duckdb.DuckDBPyConnection) -> Scope:
    return Scope(causes=frozenset({"extract_failed"}))


def _scope_freshness(_: duckdb.DuckDBPyConnection) -> Scope:
    return Scope(causes=frozenset({"stale_system"}))


EXTRACTION = Suite(
    "extraction",
    "fct_system_freshness",
    SQL_EXTRACTION,
    _extraction_expectations,
    extraction_finding,
    _scope_extraction,
)
FRESHNESS = Suite(
    "freshness",
    "fct_system_freshness",
    SQL_FRESHNESS,
    _freshness_expectations,
    stale_finding,
    _scope_freshness,
)
