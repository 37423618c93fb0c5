"""Suite over marts.fct_system_drift: a system-location whose keys drift at once is one
`sync_stopped` incident, not a flood of per-key alerts (dbt suppresses those keys).

The incident carries a few of the keys behind it (from marts.fct_variance, the rows dbt
suppressed as `sync_stopped`: settled ones first, then the largest differences), so the
alert can show which SKUs are behind and by how much, not just a count."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import great_expectations as gx

from expectations.findings import Finding, Scope
from expectations.suite import Suite, iso

EXAMPLE_KEYS = 5
# Keys whose drift says "the push did not follow the master" (dbt's is_sync_evidence_cause).
_SYNC_EVIDENCE = "('oversell_risk', 'sync_lag_breach')"
SQL = f"""
with behind as (
    select
        system_id, canonical_location, canonical_sku, observed_qty, expected_qty,
        variance_units, is_settled,
        strftime(observed_at, '%Y-%m-%dT%H:%M:%SZ') as observed_at,
        strftime(last_master_change_at, '%Y-%m-%dT%H:%M:%SZ') as last_master_change_at,
        row_number() over (
            partition by system_id, canonical_location
            order by is_settled desc, abs_variance_units desc, canonical_sku
        ) as n
    from marts.fct_variance
    where suppression_reason = 'sync_stopped'
        and within_tolerance = false
        and probable_cause in {_SYNC_EVIDENCE}
),
examples as (
    select
        system_id, canonical_location,
        to_json(list({{
            'canonical_sku': canonical_sku, 'observed_qty': observed_qty,
            'expected_qty': expected_qty, 'variance_units': variance_units,
            'observed_at': observed_at, 'last_master_change_at': last_master_change_at,
            'settled': is_settled
        }} order by n)) as behind_examples
    from behind
    where n <= {EXAMPLE_KEYS}
    group by system_id, canonical_location
)
select d.*, e.behind_examples
from marts.fct_system_drift d
left join examples e
    on d.system_id = e.system_id and d.canonical_location = e.canonical_location
"""


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


def keys_behind(row: dict[str, Any]) -> int:
    """Keys behind the master at the location: settled ones and those still in flight."""
    return int(row["keys_settled_drift"] or 0) + int(row.get("keys_in_flight_drift") or 0)


def _examples(row: dict[str, Any]) -> list[dict[str, Any]]:
    raw = row.get("behind_examples")
    if not raw:
        return []
    values = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return [dict(v) for v in values]


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
            "keys_behind": keys_behind(row),
            # a few keys behind, worst first: what the alert lists (observed vs expected)
            "examples": _examples(row),
        },
    )


def _scope(_: duckdb.DuckDBPyConnection) -> Scope:
    return Scope(causes=frozenset({"sync_stopped"}))


SUITE = Suite("sync_incidents", "fct_system_drift", SQL, _expectations, to_finding, _scope)
