"""Mapping audit trail: every change to a mapping seed, row by row, with who and when.

Two sources, merged: git history of `dbt/seeds/*.csv` (the author of each commit), and
`ops.mapping_changes`, written by `stockdrift mappings apply --actor ...` when a change is
made through the CLI (the person who made it, before anyone commits). Rows are compared by
each seed's key (`sku_map`: system + external SKU), so a changed canonical SKU reads as one
`changed` row, not a removal plus an addition.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from stockdrift.clock import to_naive_utc

Row = dict[str, str]

# Key columns per seed; a seed not listed keys on every column but its last.
SEED_KEYS: dict[str, tuple[str, ...]] = {
    "sku_map": ("system_id", "external_sku"),
    "location_map": ("system_id", "external_location"),
    "bundle_components": ("bundle_sku", "component_sku"),
    "channel_rules": ("system_id", "canonical_sku"),
}
WORKTREE = "WORKTREE"  # pseudo revision: the files as they are on disk now

AUDIT_DDL = """
create schema if not exists ops;
create table if not exists ops.mapping_changes (
    changed_at timestamp not null,
    actor varchar not null,
    reason varchar not null,
    seed varchar not null,              -- seed file name without .csv
    change varchar not null,            -- added | removed | changed
    row_key json not null,
    before json,
    after json
);
"""


@dataclass(frozen=True)
class RowChange:
    seed: str
    change: str  # added | removed | changed
    key: Row
    before: Row | None
    after: Row | None

    def mentions(self, value: str) -> bool:
        rows = [r for r in (self.before, self.after) if r]
        return any(value in r.values() for r in rows)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    source: str  # git | cli | worktree
    revision: str
    reason: str
    change: RowChange


def parse_seed(text: str | None) -> tuple[list[str], list[Row]]:
    if not text:
        return [], []
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), [dict(r) for r in reader]


def key_columns(seed: str, columns: list[str]) -> tuple[str, ...]:
    known = SEED_KEYS.get(seed)
    if known and set(known) <= set(columns):
        return known
    return tuple(columns[:-1]) if len(columns) > 1 else tuple(columns)


def diff_rows(seed: str, old_text: str | None, new_text: str | None) -> list[RowChange]:
    old_cols, old_rows = parse_seed(old_text)
    new_cols, new_rows = parse_seed(new_text)
    key = key_columns(seed, new_cols or old_cols)

    def index(rows: list[Row]) -> dict[tuple[str, ...], Row]:
        return {tuple(r.get(c, "") for c in key): r for r in rows}

    old, new = index(old_rows), index(new_rows)
    changes: list[RowChange] = []
    for k in sorted(old.keys() | new.keys()):
        keyed = dict(zip(key, k, strict=True))
        before, after = old.get(k), new.get(k)
        if before is None:
            changes.append(RowChange(seed, "added", keyed, None, after))
        elif after is None:
            changes.append(RowChange(seed, "removed", keyed, before, None))
        elif before != after:
            changes.append(RowChange(seed, "changed", keyed, before, after))
    return changes


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ValueError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def repo_root(path: Path) -> Path:
    return Path(_git(path, "rev-parse", "--show-toplevel").strip())


def file_at(root: Path, revision: str, relpath: str) -> str | None:
    """The file's text at a revision (None when it did not exist there)."""
    if revision == WORKTREE:
        path = root / relpath
        return path.read_text(encoding="utf-8") if path.exists() else None
    done = subprocess.run(
        ["git", "-C", str(root), "show", f"{revision}:{relpath}"],
        capture_output=True, text=True, check=False,
    )
    return done.stdout if done.returncode == 0 else None


def seed_paths(root: Path, seeds_dir: Path, *revisions: str) -> list[str]:
    """Seed CSVs (repo-relative) present on disk or at any of the given revisions."""
    rel = seeds_dir.resolve().relative_to(root.resolve()).as_posix()
    names = {p.name for p in seeds_dir.glob("*.csv")}
    for rev in revisions:
        if rev != WORKTREE:
            listed = _git(root, "ls-tree", "--name-only", rev, f"{rel}/").split()
            names |= {Path(n).name for n in listed if n.endswith(".csv")}
    return sorted(f"{rel}/{n}" for n in names)


def diff_revisions(seeds_dir: Path, rev1: str, rev2: str = WORKTREE) -> list[RowChange]:
    root = repo_root(seeds_dir)
    changes: list[RowChange] = []
    for rel in seed_paths(root, seeds_dir, rev1, rev2):
        seed = Path(rel).stem
        changes += diff_rows(seed, file_at(root, rev1, rel), file_at(root, rev2, rel))
    return changes


def git_history(seeds_dir: Path) -> list[AuditEntry]:
    """Every committed change to a seed, oldest first, then uncommitted edits on disk."""
    root = repo_root(seeds_dir)
    rel = seeds_dir.resolve().relative_to(root.resolve()).as_posix()
    log = _git(root, "log", "--reverse", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s", "--", rel)
    entries: list[AuditEntry] = []
    for line in filter(None, log.splitlines()):
        sha, author, when, subject = line.split("\x1f", 3)
        at = to_naive_utc(datetime.fromisoformat(when))
        touched = _git(root, "show", "--name-only", "--format=", sha, "--", rel).split()
        for path in (p for p in touched if p.endswith(".csv")):
            parent = file_at(root, f"{sha}^", path)
            for change in diff_rows(Path(path).stem, parent, file_at(root, sha, path)):
                entries.append(AuditEntry(at, author, "git", sha[:10], subject, change))
    for path in seed_paths(root, seeds_dir):
        committed = file_at(root, "HEAD", path)
        for change in diff_rows(Path(path).stem, committed, file_at(root, WORKTREE, path)):
            entries.append(
                AuditEntry(datetime.max, "(uncommitted)", "worktree", WORKTREE, "", change)
            )
    return entries


def ensure_audit_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)


def record_changes(
    con: duckdb.DuckDBPyConnection,
    changes: list[RowChange],
    actor: str,
    reason: str,
    at: datetime,
) -> None:
    ensure_audit_schema(con)
    con.executemany(
        "insert into ops.mapping_changes values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                to_naive_utc(at), actor, reason, c.seed, c.change, json.dumps(c.key),
                json.dumps(c.before) if c.before else None,
                json.dumps(c.after) if c.after else None,
            )
            for c in changes
        ],
    )


def recorded_history(con: duckdb.DuckDBPyConnection) -> list[AuditEntry]:
    ensure_audit_schema(con)
    rows = con.execute(
        "select changed_at, actor, reason, seed, change, row_key, before, after "
        "from ops.mapping_changes order by changed_at, rowid"
    ).fetchall()
    return [
        AuditEntry(
            at, actor, "cli", "", reason,
            RowChange(seed, change, json.loads(key),
                      json.loads(before) if before else None,
                      json.loads(after) if after else None),
        )
        for at, actor, reason, seed, change, key, before, after in rows
    ]


def history(
    seeds_dir: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    sku: str | None = None,
    seed: str | None = None,
) -> list[AuditEntry]:
    """Git and CLI changes merged in time order; filtered to rows mentioning `sku`."""
    try:
        entries = git_history(seeds_dir)
    except ValueError:  # seeds not under git (a deployment copy): the CLI log still counts
        entries = []
    entries += recorded_history(con) if con is not None else []
    if sku:
        entries = [e for e in entries if e.change.mentions(sku)]
    if seed:
        entries = [e for e in entries if e.change.seed == seed]
    return sorted(entries, key=lambda e: (e.at, e.source != "git"))
