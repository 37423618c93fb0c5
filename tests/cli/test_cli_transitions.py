"""`exceptions ack|snooze|resolve`: an invalid move fails saying the current status and what is
allowed; a repeated one says it changed nothing (issue 16, item 13)."""

from __future__ import annotations

import pytest
from cli_world import QueueWorld

from dagster_project.cli import main
from stockdrift.warehouse import open_warehouse


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def decide(world: QueueWorld, action: str, *flags: str) -> list[str]:
    return ["exceptions", "--config", world.config, action, world.old[:8],
            "--actor", "ecommerce", "--reason", f"{action} it", *flags]


def history(world: QueueWorld) -> list[tuple[str | None, str]]:
    with open_warehouse(world.cfg.warehouse_path) as con:
        return con.execute("select from_status, to_status from ops.exception_events "
                           "where fingerprint = ? order by occurred_at", [world.old]).fetchall()


def test_ack_of_a_resolved_exception_fails_naming_status_and_allowed_moves(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(decide(world, "resolve")) == 0
    capsys.readouterr()
    assert main(decide(world, "ack")) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "is resolved" in out and "reopen" in out
    assert main(decide(world, "snooze", "--for", "1h")) == 1
    assert history(world) == [(None, "open"), ("open", "resolved")]


def test_resolving_twice_says_nothing_changed_and_logs_no_self_transition(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(decide(world, "resolve")) == 0
    assert f"{world.old}: open -> resolved by ecommerce" in capsys.readouterr().out
    assert main(decide(world, "resolve")) == 0
    out = capsys.readouterr().out
    assert "already resolved: nothing changed" in out
    assert history(world) == [(None, "open"), ("open", "resolved")]
