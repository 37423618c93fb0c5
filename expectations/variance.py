"""Suite over marts.fct_variance: settled variance must be within tolerance.

dbt computes `settled_abs_variance` (0 while a difference is still in flight); GX decides
which rows fail `tolerance_units >= settled_abs_variance`. Suppressed rows (system failed,
stale, sync stopped, master unavailable) are not candidates: missing data is not drift.
"""

from __future__ import annotations

from typing import Any

import duckdb
import great_expectations as gx

from expectations.findings import Finding, Scope
from expectations.suite import Suite, iso

SQL = """
select *, case when is_settled then abs_variance_units else 0 end as settled_abs_variance
from marts.fct_variance
where not is_suppressed
"""

DRIFT_CAUSES = frozenset({"sync_lag_breach", "oversell_risk"})


def _expectations() -> list[Any]:
    return [
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="tolerance_units", column_B="settled_abs_variance", or_equal=True
        )
    ]


def _title(row: dict[str, Any]) -> str:
    what = "more" if row["direction"] == "overstated" else "less"
    basis = "master available" if row["is_listing"] else "master on-hand"
    return (
        f"{row['system_id']} shows {what} than {basis} for {row['canonical_sku']} at "
        f"{row['canonical_location']}: {row['observed_qty']} vs {row['expected_qty']}"
    )


def to_finding(row: dict[str, Any]) -> Finding:
    cause = str(row["probable_cause"])
    return Finding(
        cause=cause,
        system_id=row["system_id"],
        canonical_sku=row["canonical_sku"],
        canonical_location=row["canonical_location"],
        external_id=None,
        severity=str(row["severity"]),
        severity_score=float(row["severity_score"] or 0),
        title=_title(row),
        probable_cause=_probable(row),
        suggested_check=str(row["suggested_check"]),
        evidence={
            # flat keys are what alert rendering reads; all values as each system showed them
            "observed_qty": row["observed_qty"],
            "observed_at": iso(row["observed_at"]),
            "expected_qty": row["expected_qty"],
            "variance_units": row["variance_units"],
            "variance_pct": row["variance_pct"],
            "direction": row["direction"],
            "last_master_change_at": iso(row["last_master_change_at"]),
            "drift_since": iso(row["drift_since"]),
            "freshness_target_minutes": row["freshness_target_minutes"],
            "value_at_risk": row["value_at_risk"],
            "observed": {
                "system": row["system_id"],
                "external_sku": row["external_sku"],
                "external_location": row["external_location"],
                "snapshot_id": row["snapshot_id"],
            },
            "master": {
                "on_hand": row["master_on_hand"],
                "available": row["master_available"],
                "at": iso(row["master_observed_at"]),
                "snapshot_id": row["master_snapshot_id"],
            },
        },
    )


def _probable(row: dict[str, Any]) -> str:
    if row["probable_cause"] == "oversell_risk":
        return (
            f"{row['system_id']} lists {row['observed_qty']} but the master can promise only "
            f"{row['expected_qty']}: customers can buy stock that does not exist."
        )
    return (
        f"{row['system_id']} has not caught up with the master for longer than its "
        f"{row['freshness_target_minutes']}-minute freshness target ({row['direction']})."
    )


def _scope(con: duckdb.DuckDBPyConnection) -> Scope:
    rows = con.execute(
        "select distinct system_id, canonical_location from marts.fct_variance "
        "where not is_suppressed"
    ).fetchall()
    return Scope(causes=DRIFT_CAUSES, system_locations=frozenset((r[0], r[1]) for r in rows))


SUITE = Suite(
    name="variance",
    mart="fct_variance",
    sql=SQL,
    expectations=_expectations,
    to_finding=to_finding,
    scope=_scope,
)
