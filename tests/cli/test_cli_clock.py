"""Ages and decision times are measured on the warehouse's own clock when it ran on a
simulated world (issue 16, item 6), on the wall clock otherwise."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cli_world import QueueWorld

from dagster_project.cli import main
from stockdrift.clock import to_naive_utc
from stockdrift.warehouse import open_warehouse


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # whole titles on one line (narrow: test_cli_layout)


def test_list_ages_are_simulated_minutes_not_wall_days(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exceptions", "--config", world.config, "list"]) == 0
    out = capsys.readouterr().out
    assert "90m" in out and "30m" in out  # first seen 90 and 30 simulated minutes ago
    assert not re.search(r"(?<![\w-])\d+d(?![\w-])", out)  # no age in days


def test_older_than_filters_on_the_simulated_clock(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exceptions", "--config", world.config, "list", "--older-than", "1h"]) == 0
    out = capsys.readouterr().out
    assert "SD-OLD" in out and "SD-NEW" not in out


def test_snooze_and_ack_are_stamped_on_the_simulated_clock(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["exceptions", "--config", world.config]
    assert main([*base, "snooze", world.old[:8], "--actor", "ecommerce", "--for", "2h",
                 "--reason", "vendor ticket"]) == 0
    until = world.last_cycle + timedelta(hours=2)
    assert f"until {until:%Y-%m-%d %H:%M} UTC" in capsys.readouterr().out
    assert main([*base, "ack", world.new[:8], "--actor", "inventory-ops",
                 "--reason", "looking"]) == 0
    with open_warehouse(world.cfg.warehouse_path) as con:
        rows = con.execute("select fingerprint, snoozed_until from ops.exceptions").fetchall()
        stamps = con.execute("select distinct occurred_at from ops.exception_events "
                             "where actor <> 'stockdrift'").fetchall()
    assert dict(rows)[world.old] == to_naive_utc(until)
    assert stamps == [(to_naive_utc(world.last_cycle),)]
