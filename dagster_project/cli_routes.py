"""`stockdrift routes explain|preview|validate`: see where alerts go without sending any.

- `explain <fingerprint>`: which rule matched the exception, and why each earlier rule did not;
- `preview`: who would be paged for the current queue, and what the next cycle would send
  (opened, worse, escalations, reminders, digests), read-only;
- `validate`: the routing table check that also runs at start.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from alerts.followups import plan_notifications
from alerts.routing import RouteInput, explain, route, validate_routes
from dagster_project.cli_queue import load_checked
from stockdrift import queue
from stockdrift.clock import Clock, WallClock, to_naive_utc
from stockdrift.config import load_config
from stockdrift.warehouse import connect

Handler = Callable[[argparse.Namespace, Console], int]


def register(subparsers: Any, clock: Clock | None = None) -> dict[str, Handler]:
    from dagster_project.cli import DEFAULT_CONFIG

    routes = subparsers.add_parser("routes", help="explain and preview alert routing")
    routes.add_argument("--config", default=DEFAULT_CONFIG)
    acts = routes.add_subparsers(dest="action", required=True)
    acts.add_parser("explain", help="which rule routes an exception, and why").add_argument(
        "fingerprint", help="the fingerprint or a unique prefix")
    acts.add_parser("preview", help="who would be paged for the current queue (sends nothing)")
    acts.add_parser("validate", help="check that every system/location/cause reaches an owner")
    source = clock or WallClock()
    return {"routes": lambda args, console: run(args, console, source)}


def run(args: argparse.Namespace, console: Console, clock: Clock) -> int:
    if args.action == "validate":
        problems = validate_routes(load_config(args.config))
        for p in problems:
            console.print(Text(f"- {p}", style="red"))
        console.print("routing ok" if not problems else f"{len(problems)} routing problem(s)")
        return 1 if problems else 0
    cfg = load_checked(args.config)
    con = connect(cfg.warehouse_path, read_only=True)  # nothing is written, nothing is sent
    try:
        if args.action == "explain":
            return _explain(con, cfg, args.fingerprint, console)
        return _preview(con, cfg, clock, console)
    finally:
        con.close()


def _explain(con: Any, cfg: Any, prefix: str, console: Console) -> int:
    rows = [r for r in queue.list_exceptions(con, status="all")
            if r["fingerprint"].startswith(prefix)]
    if len(rows) != 1:
        console.print(f"[red]{len(rows)} exceptions match {prefix!r}[/]")
        return 1
    r = rows[0]
    item = RouteInput(r["cause"], r["system_id"], r["canonical_location"], r["severity"],
                      r["canonical_sku"])
    decision = route(item, cfg)
    console.print(Text(f"{r['fingerprint']}: {r['cause']} on {r['system_id'] or '-'} at "
                       f"{r['canonical_location'] or '-'}, severity {r['severity']}"))
    for line in explain(item, cfg):
        console.print(Text(f"  {line}"))
    console.print(Text(f"-> owner '{decision.owner_id}' ({decision.slack_target}): "
                       f"{decision.reason}"))
    if decision.escalate_to:
        console.print(Text(f"   escalates to '{decision.escalate_to}' if still unacknowledged "
                           f"{cfg.routing.escalate_after_minutes} min after the alert"))
    if r["owner_id"] != decision.owner_id:
        console.print(Text(f"   note: the queue has it with '{r['owner_id']}' (routed when it "
                           "opened); the config now routes it elsewhere"))
    return 0


def _preview(con: Any, cfg: Any, clock: Clock, console: Console) -> int:
    rows = queue.list_exceptions(con, status="active")
    table = Table(title=f"Who is paged for the {len(rows)} active exceptions")
    for col in ("fingerprint", "cause", "system", "severity", "status", "owner", "target",
                "rule", "delivery"):
        table.add_column(col)
    digest = set(cfg.routing.digest_severities)
    for r in rows:
        d = route(RouteInput(r["cause"], r["system_id"], r["canonical_location"],
                             r["severity"], r["canonical_sku"]), cfg)
        how = "daily digest" if r["severity"] in digest and not r["alert_id"] else "alert"
        if d.escalate_to:
            how += f", escalates to {d.escalate_to}"
        table.add_row(*(Text(str(v)) for v in (
            r["fingerprint"][:10], r["cause"], r["system_id"] or "—", r["severity"],
            r["status"], d.owner_id, d.slack_target, d.rule_name, how)))
    console.print(table)
    planned = plan_notifications(con, cfg, to_naive_utc(clock.now()))
    nxt = Table(title=f"A cycle now would send {len(planned)} message(s) (nothing sent)")
    for col in ("kind", "owner", "target", "title"):
        nxt.add_column(col)
    for m in planned:
        nxt.add_row(*(Text(v) for v in (m.kind, m.owner_id, m.slack_target, m.title)))
    console.print(nxt)
    return 0
