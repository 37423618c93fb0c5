"""Every alert names what the CLI takes: the exception's fingerprint and the command to run
(`stockdrift exceptions show|ack <fingerprint>`), and links the drift report when
`slack.report_url` is set."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from alert_fixtures import CYCLE_AT, make_row
from alert_harness import Harness, clock, oversell, slack
from test_alert_cli import run
from test_alert_incidents import drift_row, exception_row

from alerts.blockkit import render
from alerts.grouping import build_messages
from expectations import incidents
from sandbox.slack_api import FakeSlack
from stockdrift.clock import ManualClock
from stockdrift.config import ConfigError, StockdriftConfig, parse_config

__all__ = ["clock", "slack"]  # fixtures

FP = "0123456789abcdef0123"
REPORT = "https://stock.example.com/stockdrift/report.html"


def queue_line(payload: dict[str, Any]) -> str:
    return next(t for b in payload["blocks"]
                if (t := b.get("text", {}).get("text", "")).startswith("*In the queue:*"))


def texts(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_one_exception_shows_its_fingerprint_and_the_commands(cfg: StockdriftConfig) -> None:
    [msg] = build_messages([make_row(FP)], cfg, CYCLE_AT)
    payload = render(msg)
    queue = queue_line(payload)
    assert f"`stockdrift exceptions show {FP}`" in queue
    assert f"`stockdrift exceptions ack {FP} --actor ecommerce --reason \"…\"`" in queue
    assert f"fingerprint `{FP}`" in payload["blocks"][2]["fields"][0]["text"]
    assert msg.alert_id in texts(payload)   # the alert id stays in the footer


def test_a_group_lists_each_fingerprint_and_the_list_command(cfg: StockdriftConfig) -> None:
    rows = [make_row(f"{FP[:-1]}{i}", sku=f"SD-100{i}") for i in range(3)]
    payload = render(build_messages(rows, cfg, CYCLE_AT)[0])
    text = texts(payload)
    assert ("`stockdrift exceptions list --owner ecommerce --cause oversell_risk "
            "--system shopify`") in text
    for r in rows:
        assert f"fingerprint `{r['fingerprint']}`" in text


def test_an_incident_names_its_own_fingerprint(cfg: StockdriftConfig) -> None:
    finding = incidents.to_finding(drift_row())
    payload = render(build_messages([exception_row(finding)], cfg, CYCLE_AT)[0])
    assert f"`stockdrift exceptions show {finding.fingerprint}`" in texts(payload)


def test_a_resolved_notice_shows_but_does_not_offer_ack(cfg: StockdriftConfig) -> None:
    [msg] = build_messages([make_row(FP, alert_id="a1")], cfg, CYCLE_AT, kind="resolved")
    text = texts(render(msg))
    assert f"stockdrift exceptions show {FP}" in text and "exceptions ack" not in text


def test_report_url_must_be_a_web_address(cfg: StockdriftConfig) -> None:
    data = cfg.model_dump()
    data["slack"]["report_url"] = "out/report.html"
    with pytest.raises(ConfigError, match=r"slack.report_url: .*http"):
        parse_config(data)
    data["slack"]["report_url"] = REPORT
    assert parse_config(data).slack.report_url == REPORT
    del data["slack"]["report_url"]
    assert parse_config(data).slack.report_url is None   # optional


def footer(message: dict[str, Any]) -> str:
    return " ".join(e["text"] for e in message["blocks"][-1]["elements"])


def test_report_entry_is_a_link_when_report_url_is_set(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, slack={"report_url": REPORT})
    h.cycle([oversell("SD-1001")])
    [opened] = h.posted("opened")
    assert f"<{REPORT}|Drift report>" in footer(opened)


def test_report_entry_names_the_file_when_no_report_url(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    h.cycle([oversell("SD-1001")])
    [opened] = h.posted("opened")
    assert f"Drift report: `{(tmp_path / 'report.html').resolve()}`" in footer(opened)


def test_the_posted_commands_run_as_they_are(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    """Copy-paste from Slack: the commands in the message are what the CLI accepts."""
    h = Harness(tmp_path, slack, clock)
    h.cycle([oversell("SD-1001")])
    [opened] = h.posted("opened")
    queue = queue_line(opened)
    show, ack = (shlex.split(c.replace("…", "on it")) for c in queue.split("`")[1::2])
    config = tmp_path / "stockdrift.yml"
    config.write_text(yaml.safe_dump(h.cfg.model_dump(mode="json")))

    def argv(words: list[str]) -> list[str]:
        assert words[:2] == ["stockdrift", "exceptions"]
        return ["exceptions", "--config", str(config), *words[2:]]

    code, out = run(argv(show), clock)
    assert code == 0 and "SD-1001" in out
    code, out = run(argv(ack), clock)
    assert code == 0 and "acknowledged by ecommerce" in out
