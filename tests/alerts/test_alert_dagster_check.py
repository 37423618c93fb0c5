"""The `alert_delivery_healthy` asset check fails in Dagster while an owner is cut off."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml
from alert_harness import ROOT, T0, Harness, clock, oversell

from dagster_project.defs.alerting import slack_alerts
from dagster_project.resources import CYCLE_TAG, StockdriftResource
from sandbox.slack_api import FakeSlack
from stockdrift.clock import ManualClock

__all__ = ["clock"]  # fixture


def test_check_fails_while_alert_delivery_failed_is_open(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slack knows the default owner's channel but not e-commerce's.
    with FakeSlack(clock=clock, channels={"C0INVOPS01"}) as fake:
        h = Harness(tmp_path, fake, clock, slack={"base_url": fake.base_url, "max_attempts": 1})
        h.cycle([oversell("SD-1001")])  # queue + one failed attempt through the harness
        config = tmp_path / "stockdrift.yml"
        config.write_text(yaml.safe_dump(h.cfg.model_dump(mode="json")))
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
        monkeypatch.chdir(ROOT)
        result = dg.materialize(
            [slack_alerts],
            resources={"stockdrift": StockdriftResource(config_path=str(config),
                                                        frozen_clock=True)},
            tags={CYCLE_TAG: (T0.replace(hour=10)).isoformat()},
        )
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "alert_delivery_healthy" and not check.passed
    assert "Alerts for owner 'ecommerce' are not reaching C0ECOMM001" in str(check.description)
    told = [m for m in fake.messages if m["channel"] == "C0INVOPS01"]
    assert any("not reaching C0ECOMM001" in m["text"] for m in told)
