"""Findings from fct_variance rows: each cause gets its own title, reason and evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from expectations.variance import DRIFT_CAUSES, to_finding

AT = datetime(2026, 11, 2, 15, 0)


def row(cause: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "probable_cause": cause, "system_id": "shopify", "canonical_sku": "SD 3003 XL",
        "canonical_location": "EAST-DC", "severity": "medium", "severity_score": 60.0,
        "suggested_check": "check it", "observed_qty": 30, "observed_at": AT,
        "expected_qty": 24, "variance_units": 6, "variance_pct": 25.0,
        "direction": "overstated", "is_listing": True, "last_master_change_at": AT,
        "drift_since": AT, "freshness_target_minutes": 5, "value_at_risk": 60.0,
        "external_sku": "SD 3003 XL", "external_location": "1", "snapshot_id": "s1",
        "master_on_hand": 30, "master_available": 24, "master_committed": 6,
        "master_observed_at": AT, "master_snapshot_id": "m1", "source_records": 1,
        "last_observed_change_at": AT, "last_observed_change_units": 10,
    }
    return {**base, **over}


def test_every_cause_has_its_own_reason_and_keeps_the_evidence() -> None:
    reasons = set()
    for cause in DRIFT_CAUSES:
        finding = to_finding(row(cause))
        assert finding.cause == cause and "SD 3003 XL" in finding.title
        reasons.add(finding.probable_cause)
        assert finding.evidence["master"]["committed"] == 6
        assert finding.evidence["last_observed_change_units"] == 10
    assert len(reasons) == len(DRIFT_CAUSES)


def test_on_hand_push_and_negative_available_say_why() -> None:
    pushed = to_finding(row("on_hand_pushed_as_available"))
    assert "on-hand" in pushed.probable_cause and "6 committed" in pushed.probable_cause
    negative = to_finding(row("negative_available", system_id="erp", observed_qty=-4,
                              master_on_hand=3, master_committed=7, source_records=None))
    assert negative.title == "erp available is -4 for SD 3003 XL at EAST-DC"
    assert "not sold on backorder" in negative.probable_cause
