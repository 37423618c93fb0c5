"""Attributed config edits and the unified audit log.

`stockdrift config apply new.yml --actor X --reason R` validates the new file, checks that X
holds `roles.config_editors` in the config *in force* (nobody grants themselves the right),
records every changed key with before/after in `ops.config_changes`, then writes the file.
`audit_log` merges what people did: mapping changes, config changes, exception decisions,
and the extraction failures the monitor met, newest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from stockdrift.audit import history as mapping_history
from stockdrift.audit_roles import require
from stockdrift.clock import to_naive_utc
from stockdrift.config import load_config

CONFIG_DDL = """
create schema if not exists ops;
create table if not exists ops.config_changes (
    changed_at timestamp not null,
    actor varchar not null,
    reason varchar not null,
    config_path varchar not null,
    key varchar not null,               -- dotted path, list items by index: systems.1.base_url
    before json,
    after json
);
"""


@dataclass(frozen=True)
class KeyChange:
    key: str
    before: Any
    after: Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}.{i}"))
        return out
    return {prefix: value}


def diff_config(old_text: str, new_text: str) -> list[KeyChange]:
    old, new = flatten(yaml.safe_load(old_text) or {}), flatten(yaml.safe_load(new_text) or {})
    return [
        KeyChange(k, old.get(k), new.get(k))
        for k in sorted(old.keys() | new.keys())
        if old.get(k) != new.get(k)
    ]


def apply_config(
    con: duckdb.DuckDBPyConnection,
    current_path: Path,
    proposed_path: Path,
    actor: str,
    reason: str,
    at: datetime,
) -> list[KeyChange]:
    """Validate, authorize, record, then write; nothing is written if any step fails."""
    if not reason.strip():
        raise ValueError("a reason is required for every config change")
    require(load_config(current_path), "edit_config", actor)
    load_config(proposed_path)  # the new file must validate before it lands
    old_text = current_path.read_text(encoding="utf-8")
    new_text = proposed_path.read_text(encoding="utf-8")
    changes = diff_config(old_text, new_text)
    con.execute(CONFIG_DDL)
    con.executemany(
        "insert into ops.config_changes values (?, ?, ?, ?, ?, ?, ?)",
        [
            (to_naive_utc(at), actor, reason, str(current_path), c.key,
             json.dumps(c.before, default=str), json.dumps(c.after, default=str))
            for c in changes
        ],
    )
    current_path.write_text(new_text, encoding="utf-8")
    return changes


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    kind: str  # mapping | config | exception | extraction
    actor: str
    subject: str
    detail: str


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    try:
        return con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return []


def audit_log(
    con: duckdb.DuckDBPyConnection, seeds_dir: Path, since: datetime | None = None
) -> list[LogEntry]:
    con.execute(CONFIG_DDL)
    entries = [
        LogEntry(e.at, "mapping", e.actor, f"{e.change.seed} {e.change.change} "
                 + ",".join(e.change.key.values()),
                 f"{e.source} {e.revision} {e.reason}".strip())
        for e in mapping_history(seeds_dir, con)
    ]
    for at, actor, reason, key, before, after in _rows(
        con, "select changed_at, actor, reason, key, before, after from ops.config_changes"
    ):
        entries.append(LogEntry(at, "config", actor, key, f"{before} -> {after}: {reason}"))
    for at, fp, old, new, actor, reason in _rows(
        con, "select occurred_at, fingerprint, from_status, to_status, actor, reason "
        "from ops.exception_events where actor <> 'stockdrift'"
    ):
        entries.append(LogEntry(at, "exception", actor, fp[:10], f"{old} -> {new}: {reason}"))
    for at, system, cause in _rows(
        con, "select cycle_at, system_id, error_cause from raw.snapshots where status <> "
        "'succeeded'"
    ):
        entries.append(LogEntry(at, "extraction", "stockdrift", system, str(cause)))
    if since is not None:
        entries = [e for e in entries if e.at >= since]
    return sorted(entries, key=lambda e: e.at, reverse=True)
