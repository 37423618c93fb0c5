"""A `sync_stopped` incident as its owner sees it: the keys behind it with their numbers and
the channel's last write (not "(no SKU)"), and a thread update when it grows."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from alert_fixtures import CYCLE_AT, make_row
from alert_harness import Harness, clock, slack
from test_alert_blockkit import check_golden

from alerts.blockkit import limit_problems, render, when
from alerts.grouping import build_messages
from expectations import incidents
from expectations.findings import Finding
from sandbox.slack_api import FakeSlack
from stockdrift.clock import ManualClock
from stockdrift.config import StockdriftConfig

__all__ = ["clock", "slack"]  # fixtures

LAST_WRITE = datetime(2024, 5, 1, 8, 40)


def drift_row(settled: int = 3, in_flight: int = 2, examples: int = 3) -> dict[str, Any]:
    """A marts.fct_system_drift row as the incidents suite selects it (with its examples)."""
    behind = [
        {"canonical_sku": f"SD-10{i:02}", "observed_qty": 20 - i, "expected_qty": 12 - 2 * i,
         "variance_units": 8 + i, "observed_at": "2024-05-01T11:58:00Z",
         "last_master_change_at": "2024-05-01T09:25:00Z", "settled": i < settled}
        for i in range(examples)
    ]
    return {
        "system_id": "shopify", "canonical_location": "CICERO-3PL", "keys_compared": 30,
        "keys_settled_drift": settled, "keys_in_flight_drift": in_flight,
        "keys_recently_synced": 0, "channel_last_write_at": LAST_WRITE, "drift_share": 1.0,
        "sync_stopped": True, "sync_stopped_by": "channel_silent",
        "drift_since": datetime(2024, 5, 1, 9, 30),
        "example_skus": ", ".join(e["canonical_sku"] for e in behind),
        "behind_examples": json.dumps(behind),
    }


def exception_row(finding: Finding) -> dict[str, Any]:
    return make_row(
        finding.fingerprint, cause=finding.cause, sku=None, location=finding.canonical_location,
        severity=finding.severity, score=finding.severity_score, external_id=None,
        title=finding.title, probable_cause=finding.probable_cause,
        suggested_check=finding.suggested_check, evidence=json.dumps(finding.evidence),
    )


def test_sync_stopped_alert_shows_keys_behind_and_last_write(cfg: StockdriftConfig) -> None:
    finding = incidents.to_finding(drift_row())
    [msg] = build_messages([exception_row(finding)], cfg, CYCLE_AT)
    payload = render(msg)
    check_golden("opened_sync_stopped.json", payload)
    assert limit_problems(payload) == []
    text = json.dumps(payload, ensure_ascii=False)
    assert "(no SKU)" not in text
    assert msg.title == (
        "Shopify stopped following the master for 5 SKUs at ShipBob Cicero (sync stopped)"
    )
    fields = [f["text"] for f in payload["blocks"][2]["fields"]]
    assert [f.split("`")[1] for f in fields] == ["SD-1000", "SD-1001", "SD-1002"]
    assert "shopify: *20* at" in fields[0] and "Expected: 12 (+8)" in fields[0]
    assert "…and 2 more" in text   # 5 keys behind, 3 listed
    overview = payload["blocks"][1]["text"]["text"]
    assert f"*Channel last took a write:* {when(LAST_WRITE)}" in overview
    assert "2024-05-01 08:40 UTC" in overview


def incident(settled: int, in_flight: int) -> Finding:
    return incidents.to_finding(drift_row(settled, in_flight, examples=min(settled, 5)))


def test_a_growing_incident_is_one_thread_update_per_growth(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, routing={"reminder_every_minutes": 1000,
                                                 "escalate_after_minutes": 1000})
    h.cycle([incident(3, 0)])
    [parent] = h.posted("opened")
    assert "for 3 SKUs" in parent["text"]
    h.cycle([incident(3, 0)])                 # same size: nothing to say
    assert h.posted("worsened") == []
    h.cycle([incident(4, 3)])                 # 7 keys behind now
    [update] = h.posted("worsened")
    assert update["thread_ts"] == parent["ts"] and update["channel"] == parent["channel"]
    assert update["text"].startswith("Worse: ") and "for 7 SKUs" in update["text"]
    assert "7 SKUs behind the master now, 3 when last told" in update["text"]
    h.cycle([incident(4, 3)])                 # rerun or same size: no repeat
    h.cycle([incident(4, 2)])                 # shrank: no update
    assert len(h.posted("worsened")) == 1
    h.cycle([incident(6, 3)])
    assert len(h.posted("worsened")) == 2
    assert len(h.posted("opened")) == 1       # never a new top-level alert
