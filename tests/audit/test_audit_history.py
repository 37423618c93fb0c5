"""Mapping history and diff from git, row by row, with who and when; CLI-made changes are
attributed to their --actor, checked against roles and refused when they orphan stock."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import SeedRepo

from dagster_project import cli_mappings
from dagster_project.cli import main
from stockdrift import audit
from stockdrift.clock import ManualClock
from stockdrift.config import load_config

NOW = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)


def _sku_keyed(entries: list[audit.AuditEntry]) -> list[tuple[str, str, str, str]]:
    return [
        (e.actor.split(" <")[0], e.change.change, e.change.key.get("external_sku", ""),
         (e.change.after or {}).get("canonical_sku", "—"))
        for e in entries if e.change.seed == "sku_map"
    ]


def test_history_is_row_level_with_author_and_time(seed_repo: SeedRepo) -> None:
    entries = audit.history(seed_repo.seeds)
    first = [e for e in entries if e.revision == seed_repo.commits[0][:10]]
    assert {e.change.change for e in first} == {"added"}
    assert {e.actor for e in first} == {"Dana Data <dana@example.com>"}
    later = [e for e in entries if e.revision != seed_repo.commits[0][:10]]
    assert _sku_keyed(later) == [
        ("Eli Ecom", "added", "880002", "SD-1003"),
        ("Eli Ecom", "changed", "SD-1002", "SD-1002X"),
        ("Dana Data", "changed", "SD-1002", "SD-1002"),
    ]
    assert later[0].at == datetime(2025, 1, 2, 10, 30) and later[0].reason == "map ShipBob SD-1003"
    assert later[1].change.before == {"system_id": "shopify", "external_sku": "SD-1002",
                                      "canonical_sku": "SD-1002"}


def test_history_for_one_sku_and_uncommitted_edits(seed_repo: SeedRepo) -> None:
    sku = (seed_repo.seeds / "sku_map.csv").read_text(encoding="utf-8")
    seed_repo.write("sku_map.csv", sku.replace("shipbob,880003,SD-1004\n", ""))
    only = audit.history(seed_repo.seeds, sku="SD-1004")
    mapped = sorted(line.split(",")[0] for line in sku.splitlines() if line.endswith(",SD-1004"))
    assert len(mapped) > 3  # every system of the sandbox maps it
    assert [(e.source, e.change.change, e.change.key["system_id"]) for e in only] == [
        *(("git", "added", system_id) for system_id in mapped),
        ("worktree", "removed", "shipbob"),
    ]
    assert only[-1].actor == "(uncommitted)"


def test_diff_between_revisions_nets_out_reverted_changes(seed_repo: SeedRepo) -> None:
    first, second, third = seed_repo.commits
    net = audit.diff_revisions(seed_repo.seeds, first, third)
    assert [(c.seed, c.change, c.key) for c in net] == [
        ("sku_map", "added", {"system_id": "shipbob", "external_sku": "880002"})
    ]
    mistake = audit.diff_revisions(seed_repo.seeds, first, second)
    assert {c.change for c in mistake} == {"added", "changed"}
    assert audit.diff_revisions(seed_repo.seeds, third) == []  # worktree equals HEAD


def test_unknown_seed_keys_on_all_but_the_last_column() -> None:
    old = "bundle_sku,component_sku,qty\nKIT-1,SD-1001,2\n"
    new = "bundle_sku,component_sku,qty\nKIT-1,SD-1001,3\nKIT-1,SD-1002,1\n"
    changes = audit.diff_rows("bundle_components", old, new)
    assert [(c.change, c.key) for c in changes] == [
        ("changed", {"bundle_sku": "KIT-1", "component_sku": "SD-1001"}),
        ("added", {"bundle_sku": "KIT-1", "component_sku": "SD-1002"}),
    ]
    assert audit.key_columns("channel_feed", ["channel", "location", "on"]) == (
        "channel", "location")


Run = Callable[[list[str]], tuple[int, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """The real `stockdrift` entry point (extensions registered), at a fixed time."""
    monkeypatch.setenv("COLUMNS", "240")  # rich wraps tables at the terminal width
    monkeypatch.setattr(cli_mappings, "CLOCK", [ManualClock(NOW)])

    def invoke(args: list[str]) -> tuple[int, str]:
        code = main(args)
        return code, capsys.readouterr().out

    return invoke


def test_cli_history_and_diff(seed_repo: SeedRepo, warehouse_copy: Path, run: Run) -> None:
    common = ["--config", str(warehouse_copy), "--seeds-dir", str(seed_repo.seeds)]
    code, text = run(["mappings", "history", "--sku", "SD-1002", *common])
    assert code == 0
    assert "Eli Ecom" in text and "SD-1002X" in text and "fix SD-1002" in text
    code, text = run(["mappings", "diff", seed_repo.commits[0], seed_repo.commits[2],
                       "--seeds-dir", str(seed_repo.seeds)])
    assert code == 0 and "1 row(s) changed" in text and "880002" in text


def _without(path: Path, line: str) -> str:
    return "".join(x for x in path.read_text(encoding="utf-8").splitlines(keepends=True)
                   if x.strip() != line)


def test_cli_apply_is_attributed_role_checked_and_refuses_orphaning(
    seed_repo: SeedRepo, warehouse_copy: Path, tmp_path: Path, run: Run
) -> None:
    common = ["--config", str(warehouse_copy), "--seeds-dir", str(seed_repo.seeds)]
    seed = seed_repo.seeds / "sku_map.csv"
    before = seed.read_text(encoding="utf-8")
    proposed = tmp_path / "new_sku_map.csv"
    # Drops Shopify's SD-1003 mapping (stock on hand) and adds one for the unmapped SD-2001.
    proposed.write_text(_without(seed, "shopify,SD-1003,SD-1003") + "shopify,SD-2001,SD-2001\n",
                        encoding="utf-8")
    reason = ["--reason", "map the new SKU"]

    code, text = run(["mappings", "apply", str(proposed), "--actor", "ecommerce", *reason,
                       *common])
    assert code == 1 and "may not edit mappings" in text and "roles.mapping_editors" in text
    code, text = run(["mappings", "apply", str(proposed), "--actor", "data-team", *reason,
                       *common])
    assert code == 1 and "would_orphan_stock" in text and "SD-1003" in text
    assert seed.read_text(encoding="utf-8") == before  # nothing landed

    code, text = run(["mappings", "apply", str(proposed), "--actor", "data-team", *reason,
                       "--allow-orphans", *common])
    assert code == 0, text
    assert seed.read_text(encoding="utf-8") == proposed.read_text(encoding="utf-8")
    cfg = load_config(warehouse_copy)
    con = duckdb.connect(cfg.warehouse_path)
    try:
        rows = con.execute("select changed_at, actor, reason, change, row_key from "
                           "ops.mapping_changes order by change").fetchall()
        entries = audit.history(seed_repo.seeds, con, sku="SD-2001")
    finally:
        con.close()
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("data-team", "map the new SKU", "added"), ("data-team", "map the new SKU", "removed")
    ]
    assert rows[0][0] == datetime(2025, 1, 6, 10, 0)
    cli_entries = [e for e in entries if e.source == "cli"]
    assert [(e.actor, e.change.change) for e in cli_entries] == [("data-team", "added")]


def test_apply_refuses_an_ambiguous_mapping(
    seed_repo: SeedRepo, warehouse_copy: Path, tmp_path: Path, run: Run
) -> None:
    seed = seed_repo.seeds / "sku_map.csv"
    rows = list(csv.reader(io.StringIO(seed.read_text(encoding="utf-8"))))
    proposed = tmp_path / "sku.csv"
    with proposed.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([*rows, ["shopify", "SD-1001", "SD-1009"]])
    code, text = run(["mappings", "apply", str(proposed), "--actor", "data-team", "--reason",
                       "x", "--config", str(warehouse_copy), "--seeds-dir", str(seed_repo.seeds)])
    assert code == 1 and "ambiguous_sku" in text


@pytest.mark.parametrize("missing", ["--actor", "--reason"])
def test_apply_needs_actor_and_reason(missing: str, run: Run) -> None:
    args = ["mappings", "apply", "x.csv", "--actor", "data-team", "--reason", "r"]
    i = args.index(missing)
    with pytest.raises(SystemExit):
        run(args[:i] + args[i + 2:])
