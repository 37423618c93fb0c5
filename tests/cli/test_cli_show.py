"""`exceptions show` renders one exception readably (a key/value table, the nested evidence as
its own table, readable timestamps); `--json` is valid JSON with the evidence as objects
(issue 16, item 8)."""

from __future__ import annotations

import json

import pytest
from cli_world import QueueWorld

from dagster_project.cli import main


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


def show(world: QueueWorld, *flags: str) -> list[str]:
    return ["exceptions", "--config", world.config, "show", world.old[:8], *flags]


def test_show_is_a_readable_table_with_the_evidence_as_its_own_table(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(show(world)) == 0
    out = capsys.readouterr().out
    assert '\\"' not in out and '"evidence"' not in out  # no JSON, no escaped JSON
    lines = out.splitlines()

    def row(key: str) -> str:
        return next(line for line in lines if f" {key} " in line)

    assert "oversell_risk" in row("cause") and "ecommerce" in row("owner_id")
    assert "2020-03-02 14:00 UTC" in row("first_seen_at")  # not 2020-03-02 14:00:00
    assert "evidence" in out and "8" in row("variance_units")
    assert "2020-03-02 13:40 UTC" in row("drift_since")  # an ISO string in the evidence
    assert "sd-old" in row("external_sku") and "snap-0001" in row("snapshot_id")  # nested
    assert any("— -> open  by stockdrift: detected" in line for line in lines)  # history


def test_show_json_is_machine_readable_with_nested_evidence_objects(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(show(world, "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fingerprint"] == world.old and data["status"] == "open"
    assert data["evidence"]["variance_units"] == 8
    assert data["evidence"]["observed"] == {"system": "shopify", "external_sku": "sd-old",
                                            "snapshot_id": "snap-0001"}
    assert data["first_seen_at"] == "2020-03-02T14:00:00Z" and data["resolved_at"] is None
    assert [e["to_status"] for e in data["events"]] == ["open"]
    assert data["events"][0]["occurred_at"] == "2020-03-02T14:00:00Z"


def test_show_of_an_unknown_or_ambiguous_prefix_fails(
    world: QueueWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["exceptions", "--config", world.config, "show", "zzzz"]) == 1
    assert "0 exceptions match 'zzzz'" in capsys.readouterr().out
