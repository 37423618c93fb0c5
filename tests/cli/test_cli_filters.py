"""A typo in a filter is refused, naming the valid values and the nearest one, instead of
printing an empty list with exit 0 (issue 16, item 7)."""

from __future__ import annotations

import pytest
from cli_world import QueueWorld

from dagster_project.cli import main


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


def listing(world: QueueWorld, *flags: str) -> list[str]:
    return ["exceptions", "--config", world.config, "list", *flags]


@pytest.mark.parametrize(("flag", "typo", "nearest", "also_valid"), [
    ("--owner", "ecomerce", "ecommerce", "inventory-ops"),
    ("--status", "opn", "open", "acknowledged"),
    ("--cause", "oversel_risk", "oversell_risk", "sync_stopped"),
    ("--system", "shopfy", "shopify", "shipbob"),
])
def test_a_typo_in_a_filter_is_refused_with_the_nearest_valid_value(
    world: QueueWorld, capsys: pytest.CaptureFixture[str],
    flag: str, typo: str, nearest: str, also_valid: str,
) -> None:
    assert main(listing(world, flag, typo)) != 0
    out = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert f"unknown {flag[2:]} '{typo}'" in out
    assert f"did you mean '{nearest}'?" in out
    assert nearest in out.split("valid")[-1] and also_valid in out.split("valid")[-1]
    assert "Exceptions (" not in out  # no (empty) table


def test_valid_filters_and_values_only_the_queue_knows_still_list(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(listing(world, "--owner", "ecommerce", "--status", "open",
                        "--cause", "oversell_risk", "--system", "shopify")) == 0
    assert "SD-OLD" in capsys.readouterr().out
    # a valid cause nobody has raised yet is an empty list, not an error
    assert main(listing(world, "--cause", "stale_system", "--status", "all")) == 0
    assert "Exceptions (all): 0" in capsys.readouterr().out
