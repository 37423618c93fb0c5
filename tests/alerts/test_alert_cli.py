"""`stockdrift exceptions …` and `stockdrift routes …` on a real warehouse, with a fake clock."""

from __future__ import annotations

import argparse
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from alert_harness import Harness, clock, oversell, slack
from rich.console import Console

from dagster_project import cli, cli_queue, cli_routes
from sandbox.slack_api import FakeSlack
from stockdrift.clock import ManualClock
from stockdrift.config import ConfigError

__all__ = ["clock", "slack"]  # fixtures


def run(argv: list[str], clock: ManualClock) -> tuple[int, str]:
    """Parse and run like `stockdrift`, with the injected clock; returns (exit code, output)."""
    parser = argparse.ArgumentParser(prog="stockdrift")
    sub = parser.add_subparsers(dest="command", required=True)
    handlers = {**cli_queue.register(sub, clock), **cli_routes.register(sub, clock)}
    args = parser.parse_args(argv)
    out = io.StringIO()
    code = handlers[args.command](args, Console(file=out, width=250))
    return code, out.getvalue()


@pytest.fixture
def world(tmp_path: Path, slack: FakeSlack, clock: ManualClock) -> tuple[Harness, str]:
    """Two exceptions an hour apart in the queue, and the config file the CLI reads."""
    h = Harness(tmp_path, slack, clock)
    h.cycle([oversell("SD-OLD")])
    h.cycle([oversell("SD-OLD"), oversell("SD-NEW", system="shipbob", location="CICERO-3PL")],
            minutes=60)
    path = tmp_path / "stockdrift.yml"
    path.write_text(yaml.safe_dump(h.cfg.model_dump(mode="json")))
    return h, str(path)


def fp_of(h: Harness, sku: str) -> str:
    return str(h.query("select fingerprint from ops.exceptions where canonical_sku = ?",
                       [sku])[0][0])


def test_list_filters_by_age_owner_and_cause(world: tuple[Harness, str],
                                             clock: ManualClock) -> None:
    _, config = world
    code, out = run(["exceptions", "--config", config, "list", "--older-than", "30m"], clock)
    assert code == 0 and "SD-OLD" in out and "SD-NEW" not in out and "60m" in out
    _, out = run(["exceptions", "--config", config, "list", "--owner", "inventory-ops"], clock)
    assert "SD-NEW" in out and "SD-OLD" not in out
    _, out = run(["exceptions", "--config", config, "list", "--cause", "stale_system"], clock)
    assert "Exceptions (active): 0" in out


def test_ack_snooze_resolve_with_permissions_and_clock(world: tuple[Harness, str],
                                                       clock: ManualClock) -> None:
    h, config = world
    fp = fp_of(h, "SD-OLD")
    base = ["exceptions", "--config", config]
    with pytest.raises(PermissionError, match="owned by 'ecommerce'"):
        run([*base, "ack", fp[:8], "--actor", "inventory-ops", "--reason", "mine"], clock)
    code, out = run([*base, "snooze", fp[:8], "--actor", "ecommerce", "--for", "2h",
                     "--reason", "vendor ticket"], clock)
    until = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    assert code == 0 and f"snoozed by ecommerce until {until}" in out
    run([*base, "resolve", fp, "--actor", "data-team", "--reason", "relisted"], clock)  # admin
    events = h.query("select to_status, actor, reason from ops.exception_events "
                     "where fingerprint = ? and actor <> 'stockdrift'", [fp])
    assert events == [("snoozed", "ecommerce", "vendor ticket"),
                      ("resolved", "data-team", "relisted")]
    _, out = run([*base, "show", fp[:8]], clock)
    assert "snoozed -> resolved  by data-team: relisted" in out


def test_main_reports_permission_errors_with_exit_code(world: tuple[Harness, str]) -> None:
    h, config = world
    fp = fp_of(h, "SD-OLD")
    argv = ["exceptions", "--config", config, "ack", fp, "--actor", "nobody", "--reason", "x"]
    assert cli.main(argv) == 1


def test_routes_explain_names_the_rule_and_why_others_missed(
    world: tuple[Harness, str], clock: ManualClock
) -> None:
    h, config = world
    _, out = run(["routes", "--config", config, "explain", fp_of(h, "SD-OLD")[:8]], clock)
    assert "rules[0] 'storefront drift goes to e-commerce': MATCHED system=shopify" in out
    assert "-> owner 'ecommerce' (C0ECOMM001)" in out and "escalates to 'ops-lead'" in out
    _, out = run(["routes", "--config", config, "explain", fp_of(h, "SD-NEW")[:8]], clock)
    assert "rules[0] 'storefront drift goes to e-commerce': no, system=shipbob not in" in out
    assert "cause=oversell_risk not in ['extract_failed', 'stale_system']" in out
    assert "-> owner 'inventory-ops'" in out and "no rule matched" in out


def test_routes_preview_sends_and_writes_nothing(world: tuple[Harness, str],
                                                 clock: ManualClock, slack: FakeSlack) -> None:
    h, config = world
    before = (len(slack.calls), h.query("select count(*) from ops.alert_outbox"))
    clock.advance(timedelta(minutes=180))  # escalation is due for the storefront one
    code, out = run(["routes", "--config", config, "preview"], clock)
    assert code == 0
    assert "ecommerce" in out and "escalates to ops-lead" in out and "inventory-ops" in out
    assert "escalated" in out and "ops-lead" in out  # what a cycle now would send
    assert (len(slack.calls), h.query("select count(*) from ops.alert_outbox")) == before


def test_broken_routing_fails_at_start_with_a_clear_message(
    world: tuple[Harness, str], clock: ManualClock, tmp_path: Path
) -> None:
    _, config = world
    data: dict[str, Any] = yaml.safe_load(Path(config).read_text())
    data["routing"]["default_owner"] = "data-team"  # a user group cannot be the default
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="default_owner 'data-team' is a user group"):
        run(["exceptions", "--config", str(broken), "list"], clock)
    code, out = run(["routes", "--config", str(broken), "validate"], clock)
    assert code == 1 and "1 routing problem" in out
    assert run(["routes", "--config", config, "validate"], clock) == (0, "routing ok\n")
