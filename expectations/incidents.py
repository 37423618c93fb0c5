"""Suite over marts.fct_system_drift: a system-location whose keys drift at once is one
`sync_stopped` incident, not a flood of per-key alerts (dbt suppresses those keys)."""

from __future__ import annotations

from typing import Any

import duckdb
import great_expectations as gx

from expectations.findings import Finding, Scope
from expectations.suite import Suite, iso

SQL = "select * from marts.fct_system_drift"


def _expectations() -> list[Any]:
    return [gx.expectations.ExpectColumnValuesToBeInSet(column="sync_stopped", value_set=[False])]


def _title(row: dict[str, Any], share: float) -> str:
    where = f"Sync to {row['system_id']} at {row['canonical_location']} looks stopped"
    if row.get("sync_stopped_by") == "channel_silent":
        return (
            f"{where}: the channel has taken no write there since "
            f"{iso(row['channel_last_write_at'])}; behind the master: "
            f"{row['keys_settled_drift']} SKU(s) past the target, "
            f"{row['keys_in_flight_drift']} more changed since and not followed"
        )
    return (
        f"{where}: {row['keys_settled_drift']} of {row['keys_compared']} SKUs are behind the "
        f"master and only {row['keys_recently_synced']} recently changed SKUs followed it "
        f"({share:.0%} of active SKUs lagging)"
    )


def to_finding(row: dict[str, Any]) -> Finding:
    share = float(row["drift_share"] or 0)
    return Finding(
        cause="sync_stopped",
        system_id=row["system_id"],
        canonical_sku=None,
        canonical_location=row["canonical_location"],
        external_id=None,
        severity="critical",
        severity_score=10_000.0 + float(row["keys_settled_drift"] or 0),
        title=_title(row, share),
        probable_cause=(
            "Many keys drifted at once while the master kept changing: the integration "
            "pushing inventory to this channel location is not running."
        ),
        suggested_check=(
            "Check the connector/app that pushes inventory to this location (paused, "
            "disconnected, expired credential) and its last successful push."
        ),
        evidence={
            "keys_compared": row["keys_compared"],
            "keys_settled_drift": row["keys_settled_drift"],
            "keys_in_flight_drift": row.get("keys_in_flight_drift"),
            "keys_recently_synced": row["keys_recently_synced"],
            "channel_last_write_at": iso(row.get("channel_last_write_at")),
            "stopped_by": row.get("sync_stopped_by"),
            "drift_share": share,
            "drift_since": iso(row["drift_since"]),
            "example_skus": row["example_skus"],
        },
    )


def _scope(_: duckdb.DuckDBPyConnection) -> Scope:
    return Scope(causes=frozenset({"sync_stopped"}))


SUITE = Suite("sync_incidents", "fct_system_drift", SQL, _expectations, to_finding, _scope)
