"""Suites over the inventory-semantics marts (docs/SEMANTICS.md): bundles, reservations and
incoming, returns, lots. dbt computes the evidence and whether a difference is settled; GX
decides which candidate rows fail, as for variance: a settled amount must be within
tolerance (0 while a difference is still in flight). Suppressed rows (the system's or the
master's data cannot be judged) are never candidates: missing data is not drift.
"""

from __future__ import annotations

from typing import Any

import duckdb
import great_expectations as gx

from expectations.findings import Finding, Scope
from expectations.suite import Suite, iso

BUNDLE_SQL = """
select *, case when is_settled then variance_units else 0 end as settled_excess
from marts.fct_bundle_availability
where not is_suppressed and probable_cause is not null
"""
BUCKET_SQL = """
select *, case when is_settled then unexplained_units else 0 end as settled_excess
from marts.fct_holder_bucket_drift
where not is_suppressed and probable_cause is not null
"""
# every return still to be restocked is a candidate; GX fails those past their due time
RETURN_SQL = """
select *, datediff('minute', restock_due_at, cycle_at) as minutes_past_due
from marts.fct_return_restocks
where not is_suppressed and is_mapped and restock_due_at is not null
    and restocked_at is null and coalesce(disposition, 'restock') = 'restock'
"""
LOT_SQL = """
select *, case when is_settled
    then lots_only_in_system + lots_only_in_master + lots_quantity_differs else 0 end
    as settled_ids_differing
from marts.fct_lot_serial_mismatches
where not is_suppressed and probable_cause is not null
"""


def _within_tolerance() -> list[Any]:
    return [
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="tolerance_units", column_B="settled_excess", or_equal=True
        )
    ]


def _not_past_due() -> list[Any]:
    return [gx.expectations.ExpectColumnValuesToBeBetween(column="minutes_past_due", max_value=0)]


def _no_settled_lot_differences() -> list[Any]:
    return [gx.expectations.ExpectColumnValuesToBeBetween(
        column="settled_ids_differing", max_value=0
    )]


def bundle_finding(row: dict[str, Any]) -> Finding:
    where = f"{row['canonical_sku']} at {row['canonical_location']}"
    return Finding(
        cause="bundle_overstated",
        system_id=row["system_id"],
        canonical_sku=row["canonical_sku"],
        canonical_location=row["canonical_location"],
        external_id=None,
        severity=str(row["severity"]),
        severity_score=float(row["severity_score"] or 0),
        title=(
            f"{row['system_id']} lists {row['observed_qty']} of bundle {where} but the "
            f"components build {row['buildable_qty']}"
        ),
        probable_cause=(
            f"{row['system_id']} lists {row['observed_qty']} bundles while the master's "
            f"components allow {row['expected_qty']} after the channel buffer "
            f"({row['components_evidence']}), since {iso(row['drift_since'])}."
        ),
        suggested_check=str(row["suggested_check"]),
        evidence={
            "observed_qty": row["observed_qty"],
            "observed_at": iso(row["observed_at"]),
            "expected_qty": row["expected_qty"],
            "variance_units": row["variance_units"],
            "buildable_qty": row["buildable_qty"],
            "components": row["components_evidence"],
            "last_master_change_at": iso(row["last_master_change_at"]),
            "drift_since": iso(row["drift_since"]),
            "freshness_target_minutes": row["freshness_target_minutes"],
            "observed": {
                "system": row["system_id"],
                "external_sku": row["external_sku"],
                "external_location": row["external_location"],
                "snapshot_id": row["snapshot_id"],
            },
            "master": {
                "system": row["master_system_id"],
                "snapshot_id": row["master_snapshot_id"],
                "at": iso(row["master_observed_at"]),
            },
        },
    )


def bucket_finding(row: dict[str, Any]) -> Finding:
    cause = str(row["probable_cause"])
    system, units = row["system_id"], row["unexplained_units"]
    where = f"{row['canonical_sku']} at {row['canonical_location']}"
    if cause == "canceled_order_not_released":
        title = f"The master holds {units} committed units of {where} that {system} released"
        observed, expected = row["holder_committed"], row["master_committed"]
        reason = (
            f"the master has {row['master_committed']} committed but {system} only "
            f"{row['holder_committed']}, and only {row['master_on_hand_ahead_units']} of the "
            f"difference shipped without being posted (a partial shipment): a canceled order's "
            f"reservation is still held in the master since {iso(row['drift_since'])}."
        )
    else:
        title = f"{system} expects {units} incoming units of {where} with no open purchase order"
        observed, expected = row["holder_incoming"], row["master_incoming"] or 0
        reason = (
            f"{system} shows {row['holder_incoming']} incoming while the master has "
            f"{row['master_incoming'] or 0} on order: {units} units no open purchase order "
            f"explains since {iso(row['drift_since'])}."
        )
    return Finding(
        cause=cause,
        system_id=system,
        canonical_sku=row["canonical_sku"],
        canonical_location=row["canonical_location"],
        external_id=None,
        severity=str(row["severity"]),
        severity_score=float(row["severity_score"] or 0),
        title=title,
        probable_cause=reason,
        suggested_check=str(row["suggested_check"]),
        evidence={
            "observed_qty": observed,
            "observed_at": iso(row["observed_at"]),
            "expected_qty": expected,
            "variance_units": units,
            "bucket": row["bucket"],
            "last_master_change_at": iso(row["last_master_change_at"]),
            "drift_since": iso(row["drift_since"]),
            "expected_posting_at": iso(row["expected_posting_at"]),
            "value_at_risk": row["value_at_risk"],
            "observed": {
                "system": system,
                "on_hand": row["holder_on_hand"],
                "committed": row["holder_committed"],
                "incoming": row["holder_incoming"],
                "snapshot_id": row["snapshot_id"],
            },
            "master": {
                "system": row["master_system_id"],
                "on_hand": row["master_on_hand"],
                "committed": row["master_committed"],
                "incoming": row["master_incoming"],
                "at": iso(row["master_observed_at"]),
                "snapshot_id": row["master_snapshot_id"],
            },
        },
    )


def return_finding(row: dict[str, Any]) -> Finding:
    return Finding(
        cause="return_restock_delayed",
        system_id=row["system_id"],
        canonical_sku=row["canonical_sku"],
        canonical_location=row["canonical_location"],
        external_id=str(row["return_id"]),
        severity=str(row["severity"]),
        severity_score=float(row["severity_score"] or 0),
        title=(
            f"Return {row['return_id']} ({row['return_qty']} x {row['canonical_sku']}) at "
            f"{row['canonical_location']} is not restocked, due {iso(row['restock_due_at'])}"
        ),
        probable_cause=(
            f"received {iso(row['received_at'])}, "
            + (f"inspected {iso(row['inspected_at'])}" if row["inspected_at"] else
               "not inspected")
            + f", and still not restocked {row['restock_window_business_days']} business days "
            f"later ({row['timezone']} calendar, {row['holidays_in_window']} holiday(s))."
        ),
        suggested_check=str(row["suggested_check"]),
        evidence={
            "observed_qty": row["return_qty"],
            "observed_at": iso(row["observed_at"]),
            "return_id": row["return_id"],
            "received_at": iso(row["received_at"]),
            "inspected_at": iso(row["inspected_at"]),
            "restocked_at": iso(row["restocked_at"]),
            "restock_due_at": iso(row["restock_due_at"]),
            "restock_window_business_days": row["restock_window_business_days"],
            "holidays_in_window": row["holidays_in_window"],
            "minutes_past_due": row["minutes_past_due"],
            "observed": {
                "system": row["system_id"],
                "external_sku": row["external_sku"],
                "external_location": row["external_location"],
                "snapshot_id": row["snapshot_id"],
            },
        },
    )


def lot_finding(row: dict[str, Any]) -> Finding:
    where = f"{row['canonical_sku']} at {row['canonical_location']}"
    return Finding(
        cause="lot_serial_mismatch",
        system_id=row["system_id"],
        canonical_sku=row["canonical_sku"],
        canonical_location=row["canonical_location"],
        external_id=None,
        severity=str(row["severity"]),
        severity_score=float(row["severity_score"] or 0),
        title=f"{row['system_id']} lot/serial ids differ from the master for {where}",
        probable_cause=(
            f"{row['lots_only_in_system']} id(s) only in {row['system_id']}, "
            f"{row['lots_only_in_master']} only in the master, "
            f"{row['lots_quantity_differs']} with different quantities, since "
            f"{iso(row['drift_since'])}: {row['lots_evidence']}."
        ),
        suggested_check=str(row["suggested_check"]),
        evidence={
            "observed_qty": row["system_on_hand"],
            "observed_at": iso(row["observed_at"]),
            "expected_qty": row["master_on_hand"],
            "lots": row["lots_evidence"],
            "drift_since": iso(row["drift_since"]),
            "last_master_change_at": iso(row["last_master_change_at"]),
            "observed": {"system": row["system_id"], "snapshot_id": row["snapshot_id"]},
            "master": {
                "system": row["master_system_id"],
                "snapshot_id": row["master_snapshot_id"],
                "at": iso(row["master_observed_at"]),
            },
        },
    )


def _judged_systems(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Systems whose latest data was read this cycle; none while a master cannot be read
    (its keys were not judged, so their open exceptions must keep their state)."""
    rows = con.execute(
        "select system_id, is_master, last_status = 'succeeded' and not is_stale "
        "from marts.fct_system_freshness"
    ).fetchall()
    if any(is_master and not fresh for _, is_master, fresh in rows):
        return frozenset()
    return frozenset(system_id for system_id, _, fresh in rows if fresh)


def _scope_for(*causes: str) -> Any:
    def scope(con: duckdb.DuckDBPyConnection) -> Scope:
        return Scope(causes=frozenset(causes), system_ids=_judged_systems(con))
    return scope


BUNDLES = Suite("bundles", "fct_bundle_availability", BUNDLE_SQL, _within_tolerance,
                bundle_finding, _scope_for("bundle_overstated"))
RESERVATIONS = Suite("reservations", "fct_holder_bucket_drift", BUCKET_SQL, _within_tolerance,
                     bucket_finding, _scope_for("canceled_order_not_released", "incoming_stuck"))
RETURNS = Suite("returns", "fct_return_restocks", RETURN_SQL, _not_past_due, return_finding,
                _scope_for("return_restock_delayed"))
LOTS = Suite("lots", "fct_lot_serial_mismatches", LOT_SQL, _no_settled_lot_differences,
             lot_finding, _scope_for("lot_serial_mismatch"))

SUITES: tuple[Suite, ...] = (BUNDLES, RESERVATIONS, RETURNS, LOTS)
# Dagster asset-check names (dagster_project/defs/evaluate.py CHECK_NAMES) and the marts the
# exception queue depends on (its MARTS), for wiring these suites into the Dagster asset.
CHECK_NAMES: dict[str, str] = {
    "bundles": "bundles_within_buildable",
    "reservations": "reservations_and_incoming_explained",
    "returns": "returns_restocked_in_window",
    "lots": "lot_serial_ids_match",
}
MARTS: tuple[str, ...] = tuple(s.mart for s in SUITES)
