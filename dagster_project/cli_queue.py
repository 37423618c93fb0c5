"""`stockdrift exceptions list|show|ack|snooze|resolve`: work the exception queue.

Owners act on their own exceptions, admins on all (checked in `stockdrift.queue.transition`);
every decision is logged with who, when and why. "Now" (ages, `--older-than`, snooze and
decision times) is the warehouse's own clock (`stockdrift.cycle_clock`: its latest cycle when
it runs on a simulated world, else the wall clock); tests inject a clock instead.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alerts.routing import require_valid_routes
from dagster_project import cli_show
from stockdrift import queue
from stockdrift.audit_roles import require
from stockdrift.choices import require_choice, require_optional
from stockdrift.clock import Clock, to_naive_utc
from stockdrift.config import CAUSES, StockdriftConfig, load_config
from stockdrift.cycle_clock import warehouse_clock
from stockdrift.warehouse import open_warehouse

Handler = Callable[[argparse.Namespace, Console], int]
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 30m, 4h or 2d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def load_checked(path: str) -> StockdriftConfig:
    """The config, with routing validated: a CLI that routes must not start on a broken table."""
    cfg = load_config(path)
    require_valid_routes(cfg, path)
    return cfg


def register(subparsers: Any, clock: Clock | None = None) -> dict[str, Handler]:
    from dagster_project.cli import DEFAULT_CONFIG

    exc = subparsers.add_parser("exceptions", help="work the exception queue")
    exc.add_argument("--config", default=DEFAULT_CONFIG)
    acts = exc.add_subparsers(dest="action", required=True)
    lst = acts.add_parser("list", help="exceptions, worst first")
    lst.add_argument("--status", default="active",
                     help=f"{'|'.join(queue.STATUS_FILTERS)} (default active)")
    lst.add_argument("--owner")
    lst.add_argument("--system")
    lst.add_argument("--cause")
    lst.add_argument("--older-than", type=duration, help="first seen at least this long ago")
    show = acts.add_parser("show", help="one exception and its history")
    show.add_argument("fingerprint", help="the fingerprint or a unique prefix")
    show.add_argument("--json", action="store_true", help="as JSON (evidence as objects)")
    for action in ("ack", "snooze", "resolve"):
        p = acts.add_parser(action)
        p.add_argument("fingerprint", help="the fingerprint or a unique prefix")
        p.add_argument("--actor", required=True, help="owner id acting (checked against config)")
        p.add_argument("--reason", required=True)
        if action == "snooze":
            p.add_argument("--for", dest="for_", type=duration, required=True)
    return {"exceptions": lambda args, console: run(args, console, clock)}


def run(args: argparse.Namespace, console: Console, clock: Clock | None = None) -> int:
    cfg = load_checked(args.config)
    with open_warehouse(cfg.warehouse_path) as con:
        now = (clock or warehouse_clock(con)).now()
        if args.action == "list":
            _check_filters(con, cfg, args)
            before = now - args.older_than if args.older_than else None
            rows = queue.list_exceptions(con, status=args.status, owner=args.owner,
                                         system=args.system, cause=args.cause,
                                         first_seen_before=before)
            console.print(_table(rows, args.status, to_naive_utc(now), console.width))
            return 0
        if args.action == "show":
            return _show(con, args.fingerprint, console, args.json)
        status = {"ack": "acknowledged", "snooze": "snoozed", "resolve": "resolved"}[args.action]
        until = now + args.for_ if args.action == "snooze" else None
        require(cfg, "decide_exceptions", args.actor)  # roles.exception_deciders
        done = queue.transition(con, args.fingerprint, status, args.actor, args.reason, now,
                                cfg, snoozed_until=until)
        if not done.changed:
            hint = " (to change the until time: ack it, then snooze it)" if until else ""
            console.print(f"{done.fingerprint}: already {status}: nothing changed, nothing "
                          f"logged{hint}", markup=False)
            return 0
        tail = f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""
        console.print(f"{done.fingerprint}: {done.from_status} -> {status} by {args.actor}{tail}",
                      markup=False)
    return 0


def _check_filters(con: Any, cfg: StockdriftConfig, args: argparse.Namespace) -> None:
    """A typo must not read as an empty queue: refuse values neither the config (owners,
    routing, systems), the lifecycle, the cause list nor the queue itself knows."""
    def seen(column: str) -> set[str]:
        rows = con.execute(f"select distinct {column} from ops.exceptions "
                           f"where {column} is not null").fetchall()
        return {str(r[0]) for r in rows}

    routing = cfg.routing
    owners = {*cfg.owners, routing.default_owner, routing.mapping_owner,
              *(r.owner for r in routing.rules), *seen("owner_id")}
    require_choice("status", args.status, queue.STATUS_FILTERS)
    require_optional("owner", args.owner, owners)
    require_optional("system", args.system, {s.id for s in cfg.systems} | seen("system_id"))
    require_optional("cause", args.cause, {*CAUSES, *seen("cause")})


WIDE = 120  # below this, two fields share a column (one above the other)


def _table(rows: list[dict[str, Any]], status: str, now: datetime, width: int) -> Table:
    """Fits the terminal: no column is dropped and no value cut. Long values fold onto more
    lines (the title first); on a narrow terminal status/severity, cause/system and owner/age
    are stacked in one column each, so 80 columns show everything."""
    table = Table(title=f"Exceptions ({status}): {len(rows)}", box=box.SIMPLE_HEAD,
                  pad_edge=False, collapse_padding=True, title_justify="left")
    narrow = width < WIDE
    table.add_column("fp", no_wrap=True)  # a prefix `show`/`ack` accept
    headers = (("status / sev", "cause / system", "owner / age") if narrow else
               ("status", "sev", "cause", "system", "owner", "age"))
    for header in headers:
        table.add_column(header, overflow="fold", justify="right" if header == "age" else "left")
    table.add_column("title", min_width=16, overflow="fold")
    for r in rows:
        age = _age(now - r["first_seen_at"])
        system = r["system_id"] or "—"
        fields = ((r["status"], r["severity"]), (r["cause"], system), (r["owner_id"], age))
        cells = ([_stacked(*f) for f in fields] if narrow else
                 [Text(str(v)) for f in fields for v in f])
        # Text, not markup: a SKU named "[bold]" in a title must print as itself.
        table.add_row(Text(r["fingerprint"][:8]), *cells, Text(str(r["title"])))
    return table


def _stacked(first: str, second: str) -> Text:
    text = Text(str(first))
    text.append("\n" + str(second), style="dim")
    return text


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes}m"
    return f"{minutes // 60}h" if minutes < 48 * 60 else f"{minutes // 1440}d"


def _show(con: Any, prefix: str, console: Console, as_json: bool) -> int:
    rows = [r for r in queue.list_exceptions(con, status="all")
            if r["fingerprint"].startswith(prefix)]
    if len(rows) != 1:
        console.print(f"[red]{len(rows)} exceptions match {prefix!r}[/]")
        return 1
    history = cli_show.events(con, rows[0]["fingerprint"])
    if as_json:
        console.out(cli_show.as_json(rows[0], history), highlight=False)
    else:
        cli_show.render(console, rows[0], history)
    return 0
