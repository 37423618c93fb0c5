"""At 80 columns the tables fold instead of hiding columns or cutting values, and `--config` is
accepted the same way by every command: before the command, after it, after the action
(issue 16, item 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_world import QueueWorld, build_world

from dagster_project import cli
from expectations.findings import Finding, Scope, SuiteOutcome
from stockdrift import queue
from stockdrift.warehouse import open_warehouse

LONG = Finding(
    "canceled_order_not_released", "amazon_mfn", "SD-1007/BLUE ß", "WEST-DC", None,
    "critical", 99.0, "amazon_mfn at WEST-DC: the ERP keeps 4 units of SD-1007/BLUE ß "
    "committed that the holder released three hours ago", "x", "y", {"lots": ["L1", "L2"]})


@pytest.fixture
def crowded(tmp_path: Path) -> QueueWorld:
    """The queue world plus an acknowledged exception with the longest cause and a long title."""
    world = build_world(tmp_path)
    scope = Scope(causes=frozenset({LONG.cause}))
    with open_warehouse(world.cfg.warehouse_path) as con:
        queue.apply_outcomes(con, [SuiteOutcome("s", False, 1, 1, [LONG], scope)],
                             world.last_cycle, world.cfg)
        queue.transition(con, LONG.fingerprint, "acknowledged", "inventory-ops", "on it",
                         world.last_cycle, world.cfg)
    return world


def at_80(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          argv: list[str]) -> list[str]:
    monkeypatch.setenv("COLUMNS", "80")
    capsys.readouterr()
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    too_wide = [line for line in lines if len(line) > 80]
    assert not too_wide, "\n".join(too_wide)
    return lines


def test_list_at_80_columns_folds_and_hides_nothing(
    crowded: QueueWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = at_80(monkeypatch, capsys, ["exceptions", "--config", crowded.config, "list"])
    out = "\n".join(lines)
    assert "…" not in out  # nothing ellipsized
    for fp in (crowded.old, crowded.new, LONG.fingerprint):
        assert fp[:8] in out
    for age in ("90m", "30m", "0m"):
        assert age in out
    for word in LONG.title.split():  # the whole title, folded over lines
        assert word in out
    flat = "".join(ch for ch in out if ch.isalnum() or ch in "_-")
    assert "acknowledged" in out and "inventory-ops" in out and "critical" in out
    assert "canceled_order" in flat and "amazon_mfn" in flat


def test_show_at_80_columns_fits(
    crowded: QueueWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = at_80(monkeypatch, capsys, ["exceptions", "--config", crowded.config, "show",
                                        LONG.fingerprint[:8]])
    assert any("canceled_order_not_released" in line for line in lines)


@pytest.mark.parametrize("argv", [
    ["--config", "{cfg}", "exceptions", "list"],
    ["exceptions", "--config", "{cfg}", "list"],
    ["exceptions", "list", "--config", "{cfg}"],
    ["--config", "{cfg}", "routes", "validate"],
    ["routes", "validate", "--config", "{cfg}"],
    ["--config", "{cfg}", "cursors", "list"],
    ["cursors", "list", "--config", "{cfg}"],
    ["--config", "{cfg}", "audit", "log"],
    ["audit", "--config", "{cfg}", "log"],
    ["--config", "{cfg}", "mappings", "check"],
    ["mappings", "--config", "{cfg}", "check"],
    ["--config", "{cfg}", "report", "--no-export"],
])
def test_config_is_accepted_before_and_after_the_command(
    world: QueueWorld, argv: list[str]
) -> None:
    args = cli.build_cli().parse([a.format(cfg=world.config) for a in argv])
    assert args.config == world.config


def test_config_defaults_and_the_innermost_wins(world: QueueWorld, tmp_path: Path) -> None:
    parser = cli.build_cli()
    assert parser.parse(["exceptions", "list"]).config == cli.DEFAULT_CONFIG
    other = str(tmp_path / "other.yml")
    args = parser.parse(["--config", other, "exceptions", "list", "--config", world.config])
    assert args.config == world.config


@pytest.mark.parametrize("argv", [
    ["--config", "{cfg}", "exceptions", "list", "--status", "all"],
    ["exceptions", "list", "--status", "all", "--config", "{cfg}"],
    ["--config", "{cfg}", "routes", "validate"],
    ["routes", "validate", "--config", "{cfg}"],
    ["cursors", "list", "--config", "{cfg}"],
])
def test_config_anywhere_runs_the_command_on_that_config(
    world: QueueWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    lines = at_80(monkeypatch, capsys, [a.format(cfg=world.config) for a in argv])
    if "exceptions" in argv:
        assert any("Exceptions (all): 2" in line for line in lines)


def test_a_command_that_reads_no_config_refuses_it(world: QueueWorld) -> None:
    with pytest.raises(SystemExit) as info:
        cli.build_cli().parse(["--config", world.config, "demo"])
    assert info.value.code == 2
