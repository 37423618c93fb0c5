"""Suite over marts.fct_unmapped_keys: every SKU and location a system shows is mapped.
The table-level expectation "no unmapped keys" fails as a whole; each row is one finding
routed to the mapping owner."""

from __future__ import annotations

from typing import Any

import duckdb
import great_expectations as gx

from expectations.findings import Finding, Scope
from expectations.suite import Suite, iso

SQL = """
select u.*, coalesce(s.source_as_of, s.finished_at) as observed_at
from marts.fct_unmapped_keys u
left join raw.snapshots s on s.snapshot_id = u.snapshot_id
"""


def _expectations() -> list[Any]:
    return [gx.expectations.ExpectTableRowCountToEqual(value=0)]


def to_finding(row: dict[str, Any]) -> Finding:
    kind = row["kind"]
    external = row["external_sku"] if kind == "sku" else row["external_location"]
    seed = "dbt/seeds/sku_map.csv" if kind == "sku" else "dbt/seeds/location_map.csv"
    qty = row["observed_qty"]
    return Finding(
        cause=f"unmapped_{kind}",
        system_id=row["system_id"],
        canonical_sku=None,
        canonical_location=None,
        external_id=str(external),
        severity="medium" if (qty or 0) > 0 else "low",
        severity_score=float(abs(qty or 0)),
        title=f"{row['system_id']} shows {kind} '{external}' that no mapping knows ({qty} units)",
        probable_cause=(
            f"A {kind} was created in {row['system_id']} without a row in {seed}; its stock "
            "is invisible to every drift check."
        ),
        suggested_check=f"Add the {kind} to {seed} (or retire it in {row['system_id']}).",
        evidence={
            "system": row["system_id"],
            "external_sku": row["external_sku"],
            "external_location": row["external_location"],
            "observed_qty": qty,
            "observed_at": iso(row["observed_at"]),
            "first_seen_at": iso(row["first_seen_at"]),
            "snapshot_id": row["snapshot_id"],
        },
    )


def _scope(con: duckdb.DuckDBPyConnection) -> Scope:
    # Only systems whose latest snapshot was read this cycle were checked for mappings.
    rows = con.execute(
        "select system_id from marts.fct_system_freshness where last_status = 'succeeded'"
    ).fetchall()
    return Scope(
        causes=frozenset({"unmapped_sku", "unmapped_location"}),
        system_ids=frozenset(r[0] for r in rows),
    )


SUITE = Suite(
    "mapping", "fct_unmapped_keys", SQL, _expectations, to_finding, _scope, table_level=True
)
