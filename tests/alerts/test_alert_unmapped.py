"""One new SKU seen in many systems is one Slack message listing the systems; the queue
keeps one exception per system, which the mapping owner works one by one."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from alert_fixtures import CYCLE_AT, make_row
from alert_harness import Harness, clock, slack

from alerts.blockkit import limit_problems, render
from alerts.grouping import build_messages
from expectations import mapping
from expectations.findings import Finding
from sandbox.slack_api import FakeSlack
from stockdrift import queue
from stockdrift.clock import ManualClock
from stockdrift.config import StockdriftConfig

__all__ = ["clock", "slack"]  # fixtures


def unmapped(system: str, sku: str = "SD-2001", qty: int = 5) -> Finding:
    return mapping.to_finding({
        "system_id": system, "kind": "sku", "external_sku": sku, "external_location": "1",
        "observed_qty": qty, "snapshot_id": f"{system}-1",
        "observed_at": datetime(2024, 5, 1, 11, 55), "first_seen_at": datetime(2024, 5, 1, 11, 55),
    })


def exception_row(f: Finding) -> dict[str, Any]:
    return make_row(f.fingerprint, cause=f.cause, system_id=f.system_id, sku=None,
                    location=None, external_id=f.external_id, owner_id="data-team",
                    severity=f.severity, score=f.severity_score, title=f.title,
                    probable_cause=f.probable_cause, suggested_check=f.suggested_check,
                    evidence=json.dumps(f.evidence))


def test_one_message_per_new_sku_listing_its_systems(cfg: StockdriftConfig) -> None:
    systems = sorted(s.id for s in cfg.systems)
    assert len(systems) == 9
    rows = [exception_row(unmapped(s)) for s in systems]
    rows += [exception_row(unmapped(s, "SD-2002")) for s in ("shopify", "erp")]
    messages = build_messages(rows, cfg, CYCLE_AT)
    assert [(m.title, m.total_items, len(m.fingerprints)) for m in messages] == [
        ("9 systems report SKU SD-2001 that no SKU mapping knows (unmapped sku)", 9, 9),
        ("2 systems report SKU SD-2002 that no SKU mapping knows (unmapped sku)", 2, 2),
    ]
    first = messages[0]
    assert first.evidence["systems"] == systems
    assert first.owner_id == "data-team"
    assert "a row per system listed to dbt/seeds/sku_map.csv" in first.suggested_check
    payload = render(first)
    assert limit_problems(payload) == []
    overview = payload["blocks"][1]["text"]["text"]
    assert f"*Where:* {', '.join(systems)}" in overview
    assert len(payload["blocks"][2]["fields"]) == 9   # each system's own count
    [one] = build_messages([exception_row(unmapped("square"))], cfg, CYCLE_AT)
    assert one.title == "Square reports SKU SD-2001 that no SKU mapping knows (unmapped sku)"


def test_nine_exceptions_one_post_and_the_owner_resolves_each(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    systems = sorted(s.id for s in h.cfg.systems)
    findings = [unmapped(s) for s in systems]
    h.cycle(findings)
    assert h.query("select count(*) from ops.exceptions where cause = 'unmapped_sku'") == [(9,)]
    [parent] = h.posted("opened")
    assert "9 systems report SKU SD-2001" in parent["text"]
    fp = findings[0].fingerprint
    with h.con() as con:
        queue.transition(con, fp, "resolved", "data-team", "mapped in sku_map.csv",
                         clock.now(), h.cfg)
    h.cycle(findings[1:])
    [reply] = h.posted("resolved")
    assert reply["thread_ts"] == parent["ts"] and "edited" not in parent
    assert "Resolved: Amazon reports SKU SD-2001 that no SKU mapping" in reply["text"]
    assert h.query("select count(*) from ops.exceptions where status = 'open'") == [(8,)]
