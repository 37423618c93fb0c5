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

# fct_negative_available (the master's own book) rides along: same finding shape, its
# missing columns are null (`union all by name`), tolerance 0 units below zero.
SQL = """
select *, case when is_settled then abs_variance_units else 0 end as settled_abs_variance
from marts.fct_variance
-- only differences reach pandas: at 5M keys per cycle, loading matches cost a minute
where not is_suppressed and within_tolerance = false
union all by name
select *, 0 as tolerance_units, false as is_listing, 'understated' as direction,
    master_available as observed_qty, 0 as expected_qty, master_available as variance_units,
    -master_available as abs_variance_units, negative_since as drift_since,
    case when is_settled then -master_available else 0 end as settled_abs_variance
from marts.fct_negative_available
where probable_cause is not null
"""

DRIFT_CAUSES = frozenset({
    "sync_lag_breach", "oversell_risk", "duplicate_record", "missing_listing",
    "on_hand_pushed_as_available", "unexplained_increase", "channel_edited_directly",
    "negative_available",
})


def _expectations() -> list[Any]:
    return [
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="tolerance_units", column_B="settled_abs_variance", or_equal=True
        )
    ]


def _title(row: dict[str, Any]) -> str:
    where = f"{row['canonical_sku']} at {row['canonical_location']}"
    cause = row["probable_cause"]
    if cause == "negative_available":
        return f"{row['system_id']} available is {row['observed_qty']} for {where}"
    if cause == "missing_listing":
        return f"{row['system_id']} has no listing for {where}: master available " \
               f"{row['master_available']}"
    if cause == "duplicate_record":
        return f"{row['system_id']} returned {row['source_records']} records for {where}"
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
            "source_records": row.get("source_records"),
            "last_observed_change_at": iso(row.get("last_observed_change_at")),
            "last_observed_change_units": row.get("last_observed_change_units"),
            "observed": {
                "system": row["system_id"],
                "external_sku": row["external_sku"],
                "external_location": row["external_location"],
                "snapshot_id": row["snapshot_id"],
            },
            "master": {
                "on_hand": row["master_on_hand"],
                "available": row["master_available"],
                "committed": row.get("master_committed"),
                "at": iso(row["master_observed_at"]),
                "snapshot_id": row["master_snapshot_id"],
            },
        },
    )


def _probable(row: dict[str, Any]) -> str:
    system, observed, expected = row["system_id"], row["observed_qty"], row["expected_qty"]
    reasons = {
        "oversell_risk": f"{system} lists {observed} but the master can promise only "
        f"{expected}: customers can buy stock that does not exist.",
        "duplicate_record": f"{system} returned {row.get('source_records')} records for one "
        f"SKU and location, so its total ({observed}) counts stock twice.",
        "missing_listing": f"the master has {expected} sellable at a location that feeds "
        f"{system}, but {system} has no record for the SKU there.",
        "on_hand_pushed_as_available": f"{system} shows {observed}, the master's on-hand, "
        f"instead of its available {expected} ({row.get('master_committed')} committed).",
        "unexplained_increase": f"{system} rose by {row.get('last_observed_change_units')} "
        f"at {iso(row.get('last_observed_change_at'))} with no master increase since "
        f"{iso(row['last_master_change_at'])}.",
        "channel_edited_directly": f"{system} changed by {row.get('last_observed_change_units')}"
        f" at {iso(row.get('last_observed_change_at'))} while the master has not changed since "
        f"{iso(row['last_master_change_at'])}: it did not follow the master.",
        "negative_available": f"the master has {row.get('master_committed')} units committed "
        f"against {row.get('master_on_hand')} on hand since {iso(row['drift_since'])}, and "
        "the SKU is not sold on backorder.",
    }
    if row["probable_cause"] in reasons:
        return reasons[str(row["probable_cause"])]
    return (
        f"{row['system_id']} has not caught up with the master for longer than its "
        f"{row['freshness_target_minutes']}-minute freshness target ({row['direction']})."
    )


def _scope(con: duckdb.DuckDBPyConnection) -> Scope:
    rows = con.execute(
        "select distinct system_id, canonical_location from marts.fct_variance "
        "where not is_suppressed "
        "union select distinct master_system_id, canonical_location from marts.fct_variance"
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
