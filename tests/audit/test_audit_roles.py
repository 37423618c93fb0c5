"""Roles from config decide who may edit config, mappings and exceptions; config edits are
validated, attributed and recorded; the audit log merges what people and the monitor did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from stockdrift.audit_config import apply_config, audit_log, diff_config
from stockdrift.audit_roles import NotPermitted, allowed, require
from stockdrift.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 1, 6, 11, 0, tzinfo=UTC)


def _example(**changes: object) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(
        (REPO / "stockdrift.example.yml").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def test_roles_decide_who_may_do_what() -> None:
    cfg = parse_config(_example(roles={"mapping_editors": ["ecommerce"],
                                       "exception_deciders": ["ecommerce"]}))
    assert allowed(cfg, "edit_mappings", "ecommerce")
    assert allowed(cfg, "edit_mappings", "data-team")  # admins always may
    assert not allowed(cfg, "edit_mappings", "inventory-ops")
    assert not allowed(cfg, "edit_config", "ecommerce")  # empty list: admins only
    assert allowed(cfg, "decide_exceptions", "ecommerce")
    assert not allowed(cfg, "decide_exceptions", "ops-lead")  # narrowed by the role list
    with pytest.raises(NotPermitted, match=r"roles\.config_editors"):
        require(cfg, "edit_config", "ecommerce")
    with pytest.raises(NotPermitted, match="--actor"):
        require(cfg, "edit_mappings", " ")
    no_roles = parse_config(_example(roles={}))
    assert allowed(no_roles, "decide_exceptions", "ops-lead")  # the queue checks ownership
    assert not allowed(no_roles, "decide_exceptions", "stranger")


def test_roles_must_name_owners() -> None:
    with pytest.raises(ConfigError, match=r"roles\.mapping_editors\.0|roles\.mapping_editors\[0\]"):
        parse_config(_example(roles={"mapping_editors": ["nobody"]}))
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config(_example(roles={"mapping_editor": ["data-team"]}))


def _configs(tmp_path: Path) -> tuple[Path, Path, duckdb.DuckDBPyConnection]:
    current = tmp_path / "stockdrift.yml"
    current.write_text((REPO / "stockdrift.example.yml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    data = _example()
    data["systems"][2]["freshness_target_minutes"] = 30  # type: ignore[index]
    data["admins"] = ["data-team", "ops-lead"]
    proposed = tmp_path / "new.yml"
    proposed.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return current, proposed, duckdb.connect(str(tmp_path / "wh.duckdb"))


def test_config_edit_is_authorized_validated_and_recorded(tmp_path: Path) -> None:
    current, proposed, con = _configs(tmp_path)
    original = current.read_text(encoding="utf-8")
    with pytest.raises(NotPermitted):
        apply_config(con, current, proposed, "ecommerce", "slower 3PL", NOW)
    assert current.read_text(encoding="utf-8") == original
    changes = apply_config(con, current, proposed, "data-team", "ShipBob posts every 30m", NOW)
    assert [(c.key, c.before, c.after) for c in changes] == [
        ("admins", ["data-team"], ["data-team", "ops-lead"]),
        ("systems.2.freshness_target_minutes", 15, 30),
    ]
    assert load_config(current).system("shipbob").freshness_target_minutes == 30
    rows = con.execute("select changed_at, actor, reason, key, after from ops.config_changes "
                       "order by key").fetchall()
    assert rows[1] == (datetime(2025, 1, 6, 11, 0), "data-team", "ShipBob posts every 30m",
                       "systems.2.freshness_target_minutes", "30")
    con.close()


def test_invalid_config_never_lands(tmp_path: Path) -> None:
    current, proposed, con = _configs(tmp_path)
    proposed.write_text(proposed.read_text(encoding="utf-8").replace(
        "freshness_target_minutes: 30", "freshnes_target_minutes: 30"), encoding="utf-8")
    before = current.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="freshnes_target_minutes: unknown key"):
        apply_config(con, current, proposed, "data-team", "typo", NOW)
    assert current.read_text(encoding="utf-8") == before
    con.close()


def test_diff_config_flattens_lists_of_mappings() -> None:
    changes = diff_config("a: {b: 1}\nitems: [{id: x, n: 1}]\n",
                          "a: {b: 2}\nitems: [{id: x, n: 1}, {id: y, n: 2}]\n")
    assert [(c.key, c.before, c.after) for c in changes] == [
        ("a.b", 1, 2), ("items.1.id", None, "y"), ("items.1.n", None, 2)]


def test_audit_log_merges_people_and_monitor(warehouse_copy: Path, tmp_path: Path) -> None:
    cfg = load_config(warehouse_copy)
    current, proposed, scratch = _configs(tmp_path)
    scratch.close()
    con = duckdb.connect(cfg.warehouse_path)
    try:
        apply_config(con, current, proposed, "data-team", "slower 3PL", NOW)
        entries = audit_log(con, tmp_path / "no-seeds")  # not a git checkout: CLI log only
    finally:
        con.close()
    kinds = [(e.kind, e.actor) for e in entries]
    assert ("config", "data-team") in kinds
    decisions = [e for e in entries if e.kind == "exception"]
    assert sorted(e.detail for e in decisions) == [
        "open -> acknowledged: looking",
        "open -> resolved: mapped it",
    ]
    assert all(e.actor == "data-team" for e in decisions)  # the monitor's own moves are not
    failures = [e for e in entries if e.kind == "extraction"]
    assert [(e.subject, e.actor) for e in failures] == [("shipbob", "stockdrift")]
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
