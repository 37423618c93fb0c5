"""`stockdrift replay` (re-land snapshots from stored payloads, no vendor call) and
`stockdrift cursors list|reset` (incremental cursors; reset = full refresh on demand).
The logic lives in extractors/replay.py and extractors/cursors.py."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from stockdrift.clock import parse_utc
from stockdrift.config import load_config
from stockdrift.warehouse import open_warehouse

Handler = Any


def register(subparsers: Any) -> dict[str, Handler]:
    from dagster_project.cli import DEFAULT_CONFIG

    replay = subparsers.add_parser(
        "replay", help="re-land snapshots from their stored raw payloads (no vendor call)")
    replay.add_argument("--config", default=DEFAULT_CONFIG)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--snapshot", action="append", help="snapshot id (repeatable)")
    which.add_argument("--system", help="every succeeded snapshot of this system ...")
    replay.add_argument("--since", help="... with cycle_at at or after this ISO time")
    replay.add_argument("--until", help="... with cycle_at at or before this ISO time")
    replay.add_argument("--check", action="store_true",
                        help="only compare replayed rows with the stored ones; write nothing")
    cursors = subparsers.add_parser("cursors", help="incremental extraction cursors")
    cursors.add_argument("--config", default=DEFAULT_CONFIG)
    acts = cursors.add_subparsers(dest="action", required=True)
    acts.add_parser("list", help="each system's cursor, base snapshot and last full refresh")
    acts.add_parser("reset", help="the next extraction of a system is a full refresh"
                    ).add_argument("system")
    return {"replay": run_replay, "cursors": run_cursors}


def run_replay(args: argparse.Namespace, console: Console) -> int:
    from extractors.replay import ReplayError, replay_snapshot, snapshots_in_range

    cfg = load_config(args.config)
    systems = {s.id: s for s in cfg.systems}
    table = Table(title="replay" + (" (check only)" if args.check else ""))
    for col in ("snapshot", "system", "rows", "same rows as stored", "result"):
        table.add_column(col)
    failures = 0
    with open_warehouse(cfg.warehouse_path) as con:
        if args.snapshot:
            ids = list(args.snapshot)
        else:
            if args.system not in systems:
                raise ValueError(f"--system {args.system}: not a system id; use one of "
                                 f"{sorted(systems)}")
            ids = snapshots_in_range(con, args.system,
                                     parse_utc(args.since) if args.since else None,
                                     parse_utc(args.until) if args.until else None)
            if not ids:
                console.print(f"no succeeded snapshot of {args.system} in that range")
                return 1
        for snapshot_id in ids:
            try:
                r = replay_snapshot(con, systems, snapshot_id, check=args.check)
            except ReplayError as exc:
                failures += 1
                table.add_row(snapshot_id, "", "", "", f"[red]{exc}[/]")
                continue
            table.add_row(r.snapshot_id, r.system_id, str(r.rows),
                          "yes" if r.same_rows else "[yellow]no[/]",
                          "re-landed" if r.written else "checked")
    console.print(table)
    return 1 if failures else 0


def run_cursors(args: argparse.Namespace, console: Console) -> int:
    from extractors.cursors import read_cursor, request_full_refresh

    cfg = load_config(args.config)
    with open_warehouse(cfg.warehouse_path) as con:
        if args.action == "reset":
            if args.system not in {s.id for s in cfg.systems}:
                raise ValueError(f"{args.system}: not a system id; use one of "
                                 f"{sorted(s.id for s in cfg.systems)}")
            found = request_full_refresh(con, args.system)
            console.print(f"{args.system}: next extraction is a full refresh"
                          + ("" if found else " (it had no cursor yet)"))
            return 0
        table = Table(title="incremental cursors")
        for col in ("system", "full refresh every", "cursor", "last good snapshot",
                    "last full refresh", "full refresh requested"):
            table.add_column(col)
        for s in cfg.systems:
            c = read_cursor(con, s.id)
            every = f"{s.full_refresh_every_minutes} min" if s.full_refresh_every_minutes \
                else "every cycle"
            table.add_row(s.id, every, str(c.value) if c and c.value else "-",
                          c.snapshot_id if c else "-",
                          str(c.last_full_refresh_at) if c else "-",
                          "yes" if c and c.full_refresh_requested else "")
        console.print(table)
    return 0
