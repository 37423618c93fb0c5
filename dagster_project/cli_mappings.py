"""`stockdrift report`, `stockdrift mappings history|diff|check|apply`, `stockdrift config
apply`, `stockdrift audit log`: the leadership report and the audit trail.

Every change made here names an `--actor`, is checked against the roles in config and is
recorded with when and why; the clock is injectable so tests decide what "now" is.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stockdrift import audit
from stockdrift.audit_check import Problem, check_mappings, seed_name_for
from stockdrift.audit_roles import require
from stockdrift.audit_seed_file import MAPPING_COLUMNS, SeedFileError, read_seed_file
from stockdrift.choices import require_optional, require_seed
from stockdrift.clock import Clock, WallClock, to_naive_utc
from stockdrift.config import StockdriftConfig, load_config
from stockdrift.warehouse import connect

Handler = Callable[[argparse.Namespace, Console], int]
DEFAULT_CONFIG = os.environ.get("STOCKDRIFT_CONFIG", "stockdrift.example.yml")
DEFAULT_SEEDS = "dbt/seeds"
CLOCK: list[Clock] = [WallClock()]  # tests swap in a ManualClock
BLOCKING = frozenset({"would_orphan_stock", "ambiguous_sku", "ambiguous_location",
                      "location_without_timezone"})


def _change_table(title: str, entries: list[tuple[str, ...]], columns: list[str]) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in entries:
        table.add_row(*row)
    return table


def _row_text(row: dict[str, str] | None) -> str:
    return "—" if row is None else ",".join(row.values())


def cmd_mappings(args: argparse.Namespace, console: Console) -> int:
    seeds = Path(args.seeds_dir)
    if args.action == "diff":
        changes = audit.diff_revisions(seeds, args.rev1, args.rev2)
        console.print(_change_table(
            f"Mapping changes {args.rev1} -> {args.rev2}",
            [(c.seed, c.change, ",".join(c.key.values()), _row_text(c.before),
              _row_text(c.after)) for c in changes],
            ["seed", "change", "key", "before", "after"],
        ))
        console.print(f"{len(changes)} row(s) changed")
        return 0
    if args.action == "history":  # a typo in the filter must not read as "no history"
        require_seed(args.seed, seeds)
    try:
        # Proposed files are read before the warehouse is opened: a wrong path or header
        # is one line naming the file and the fix, never a traceback.
        proposed = _proposed(args) if args.action in ("check", "apply") else {}
    except SeedFileError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    cfg = load_config(args.config)
    con = connect(cfg.warehouse_path)
    try:
        if args.action == "history":
            entries = audit.history(seeds, con, sku=args.sku, seed=args.seed)
            console.print(_change_table(
                "Mapping history" + (f" for {args.sku}" if args.sku else ""),
                [("uncommitted" if e.source == "worktree" else f"{e.at:%Y-%m-%d %H:%M}",
                  e.actor, f"{e.source} {e.revision}".strip(), e.change.seed, e.change.change,
                  _row_text(e.change.before), _row_text(e.change.after), e.reason)
                 for e in entries],
                ["when (UTC)", "who", "source", "seed", "change", "before", "after", "why"],
            ))
            return 0
        if args.action == "check":
            return _check(proposed, cfg, con, seeds, console)
        return _apply(args, proposed, cfg, con, seeds, console)
    except SeedFileError as exc:  # a seed on disk that cannot be read as its seed
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    finally:
        con.close()


def _proposed(args: argparse.Namespace) -> dict[str, Path]:
    """The files `check --proposed` or `apply` would land, by seed, each read once to fail
    early on a wrong path, header or value."""
    named = [args.path] if args.action == "apply" else (args.proposed or [])
    seed = require_optional("seed", args.seed, MAPPING_COLUMNS)  # the seeds check understands
    proposed = {(seed or seed_name_for(Path(p))): Path(p) for p in named}
    for name, path in proposed.items():
        read_seed_file(path, name)
    return proposed


def _print_problems(problems: list[Problem], console: Console) -> None:
    console.print(_change_table(
        "Mapping check",
        [(p.severity, p.kind, p.seed, p.system_id or "—", p.key, p.detail) for p in problems],
        ["severity", "problem", "seed", "system", "key", "detail"],
    ))


def _check(
    proposed: dict[str, Path], cfg: StockdriftConfig, con: duckdb.DuckDBPyConnection,
    seeds: Path, console: Console,
) -> int:
    result = check_mappings(con, cfg, seeds, proposed)
    _print_problems(result.problems, console)
    checked = ", ".join(f"{s}: {sid}" for s, sid in sorted(result.snapshots.items()))
    console.print(f"latest snapshots checked: {checked or 'none yet (run a cycle first)'}")
    console.print(f"{len(result.errors)} error(s), "
                  f"{len(result.problems) - len(result.errors)} warning(s)")
    return 1 if result.errors else 0


def _apply(
    args: argparse.Namespace, proposed: dict[str, Path], cfg: StockdriftConfig,
    con: duckdb.DuckDBPyConnection, seeds: Path, console: Console,
) -> int:
    require(cfg, "edit_mappings", args.actor)
    if not args.reason.strip():
        raise ValueError("a reason is required for every mapping change")
    seed, path = next(iter(proposed.items()))
    result = check_mappings(con, cfg, seeds, proposed)
    # Unmapped keys that exist today do not block a change; what the change breaks does.
    blocking = [p for p in result.errors if p.seed == seed and p.kind in BLOCKING
                and not (args.allow_orphans and p.kind == "would_orphan_stock")]
    if blocking:
        _print_problems(blocking, console)
        orphans = any(p.kind == "would_orphan_stock" for p in blocking)
        console.print("[red]not applied[/]: fix the problems above"
                      + (" (or pass --allow-orphans to orphan that stock on purpose)"
                         if orphans else ""))
        return 1
    if not result.snapshots:
        console.print("[yellow]warning[/]: no snapshot in the warehouse yet, so no orphan check")
    target = seeds / f"{seed}.csv"
    old = target.read_text(encoding="utf-8") if target.exists() else None
    changes = audit.diff_rows(seed, old, path.read_text(encoding="utf-8"))
    audit.record_changes(con, changes, args.actor, args.reason, CLOCK[0].now())
    shutil.copyfile(path, target)
    console.print(f"applied {len(changes)} row change(s) to {target} as {args.actor}; "
                  "the next cycle's dbt build loads it")
    return 0


def cmd_config(args: argparse.Namespace, console: Console) -> int:
    from stockdrift.audit_config import apply_config

    current = Path(args.config)
    cfg = load_config(current)
    con = connect(cfg.warehouse_path)
    try:
        changes = apply_config(con, current, Path(args.path), args.actor, args.reason,
                               CLOCK[0].now())
    finally:
        con.close()
    console.print(_change_table(
        f"Config changes applied to {current} by {args.actor}",
        [(c.key, str(c.before), str(c.after)) for c in changes], ["key", "before", "after"],
    ))
    return 0


def cmd_audit(args: argparse.Namespace, console: Console) -> int:
    from reports.period import parse_window
    from stockdrift.audit_config import audit_log

    cfg = load_config(args.config)
    since = to_naive_utc(CLOCK[0].now()) - parse_window(args.since) if args.since else None
    con = connect(cfg.warehouse_path)
    try:
        entries = audit_log(con, Path(args.seeds_dir), since)
    finally:
        con.close()
    if args.kind:
        entries = [e for e in entries if e.kind == args.kind]
    console.print(_change_table(
        "Audit log (newest first)",
        [("uncommitted" if e.at.year == 9999 else f"{e.at:%Y-%m-%d %H:%M}", e.kind, e.actor,
          e.subject, e.detail) for e in entries],
        ["when (UTC)", "kind", "who", "what", "detail"],
    ))
    return 0


def register(sub: argparse._SubParsersAction) -> dict[str, Handler]:
    rep = sub.add_parser("report", help="write the HTML drift and freshness report (+CSV/Parquet)")
    rep.add_argument("--config", default=DEFAULT_CONFIG)
    rep.add_argument("--output", help="HTML path (default <out_dir>/report.html)")
    rep.add_argument("--from", dest="from_", help="period start, ISO time (UTC if no offset)")
    rep.add_argument("--to", help="period end, ISO time (default: now)")
    rep.add_argument("--last", help="period length ending at --to: 90m, 24h, 7d, 2w")
    rep.add_argument("--export", help="CSV/Parquet folder (default <out_dir>/report)")
    rep.add_argument("--no-export", action="store_true")

    maps = sub.add_parser("mappings", help="mapping history, diff, check and attributed edits")
    acts = maps.add_subparsers(dest="action", required=True)
    for name, text in (("history", "who changed which mapping row, when"),
                       ("diff", "row-level changes between two revisions"),
                       ("check", "validate the seeds against the latest snapshots"),
                       ("apply", "replace a seed, attributed, after the orphan check")):
        p = acts.add_parser(name, help=text)
        p.add_argument("--config", default=DEFAULT_CONFIG)
        p.add_argument("--seeds-dir", default=DEFAULT_SEEDS)
    acts.choices["history"].add_argument("--sku", help="only rows mentioning this SKU id")
    acts.choices["history"].add_argument("--seed", help="only this seed (sku_map, ...)")
    acts.choices["diff"].add_argument("rev1")
    acts.choices["diff"].add_argument("rev2", nargs="?", default="WORKTREE",
                                      help="default: the files on disk")
    acts.choices["check"].add_argument("--proposed", action="append",
                                       help="a new seed file to check before it lands")
    acts.choices["check"].add_argument("--seed", help="which seed --proposed replaces")
    app = acts.choices["apply"]
    app.add_argument("path")
    app.add_argument("--seed", help="which seed it replaces (default: from its columns)")
    app.add_argument("--actor", required=True)
    app.add_argument("--reason", required=True)
    app.add_argument("--allow-orphans", action="store_true",
                     help="apply even if SKUs or locations with stock lose their mapping")

    conf = sub.add_parser("config", help="attributed config edits")
    conf_acts = conf.add_subparsers(dest="action", required=True)
    capply = conf_acts.add_parser("apply", help="validate, authorize, record and write")
    capply.add_argument("path", help="the new config file")
    capply.add_argument("--config", default=DEFAULT_CONFIG, help="the config it replaces")
    capply.add_argument("--actor", required=True)
    capply.add_argument("--reason", required=True)

    aud = sub.add_parser("audit", help="who changed what: mappings, config, exception decisions")
    aud_acts = aud.add_subparsers(dest="action", required=True)
    log = aud_acts.add_parser("log")
    log.add_argument("--config", default=DEFAULT_CONFIG)
    log.add_argument("--seeds-dir", default=DEFAULT_SEEDS)
    log.add_argument("--since", help="only the last 24h, 7d, ...")
    log.add_argument("--kind", choices=["mapping", "config", "exception", "extraction"])
    # `report`'s handler is dagster_project.cli.cmd_report (its period and --force live there)
    return {"mappings": cmd_mappings, "config": cmd_config, "audit": cmd_audit}
