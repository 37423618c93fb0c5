"""The `stockdrift` command line."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from stockdrift.clock import parse_utc
from stockdrift.config import ConfigError, load_config
from stockdrift.warehouse import open_warehouse

DEFAULT_CONFIG = os.environ.get("STOCKDRIFT_CONFIG", "stockdrift.example.yml")


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text)
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 30m, 4h or 2d")
    n, unit = int(match.group(1)), match.group(2)
    return (
        timedelta(minutes=n)
        if unit == "m"
        else timedelta(hours=n)
        if unit == "h"
        else timedelta(days=n)
    )


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from dagster_project.demo import run_demo
    from reports.console import print_summary
    from sandbox.scoring import score

    result = run_demo(cycles=args.cycles, seed=args.seed, out_dir=Path(args.out), console=console)
    cfg = load_config(result.config_path)
    with open_warehouse(result.warehouse_path) as con:
        print_summary(con, console)
        outcome = score(con, result.world.ground_truth(), cfg)
    table = Table(title="Injected faults vs what stockdrift found")
    for col in ("fault", "system", "sku / location", "found", "owner"):
        table.add_column(col)
    for entry in outcome.found + outcome.missed:
        where = entry["sku"] or entry["location"] or "—"
        ok = entry in outcome.found
        table.add_row(
            entry["cause"],
            entry["system"],
            str(where),
            "[green]yes[/]" if ok else f"[red]no[/] {entry.get('raised_instead', '')}",
            f"{entry.get('owner', '—')} (expected {entry['expected_owner']})",
        )
    console.print(table)
    console.print(f"false alarms: {len(outcome.false_alarms)}")
    for alarm in outcome.false_alarms[:10]:
        console.print(f"  [red]{alarm['cause']}[/] {alarm['title']}")
    out = Path(args.out)
    console.print(
        f"\n{result.cycles} cycles in {result.seconds:.0f}s "
        f"({result.failed_runs} failed runs). Outputs: {out / 'stockdrift.duckdb'}, "
        f"{out / 'alerts.jsonl'}, {out / 'report.html'}"
    )
    return 0 if result.failed_runs == 0 and outcome.perfect else 1


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    import dagster as dg

    from dagster_project.definitions import build_definitions
    from dagster_project.demo import QUIET
    from dagster_project.resources import CYCLE_TAG

    cfg = load_config(args.config)
    home = Path(os.environ.get("DAGSTER_HOME", Path(cfg.out_dir) / "dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    cycle_at = (
        parse_utc(args.cycle_at) if args.cycle_at else datetime.now(UTC).replace(microsecond=0)
    )
    job = build_definitions(args.config).resolve_job_def("monitor_cycle")
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(),
        tags={CYCLE_TAG: cycle_at.isoformat()},
        run_config=QUIET,
        raise_on_error=False,
    )
    console.print(
        f"cycle {cycle_at.isoformat()}: {'ok' if result.success else 'FAILED'} "
        f"(run {result.run_id})"
    )
    return 0 if result.success else 1


def cmd_exceptions(args: argparse.Namespace, console: Console) -> int:
    from stockdrift import queue

    cfg = load_config(args.config)
    with open_warehouse(cfg.warehouse_path) as con:
        if args.action == "list":
            rows = queue.list_exceptions(
                con, status=args.status, owner=args.owner, system=args.system, cause=args.cause
            )
            table = Table(title=f"Exceptions ({args.status})")
            for col in ("fingerprint", "status", "severity", "cause", "system", "owner", "title"):
                table.add_column(col)
            for r in rows:
                table.add_row(
                    r["fingerprint"][:10],
                    r["status"],
                    r["severity"],
                    r["cause"],
                    r["system_id"] or "—",
                    r["owner_id"],
                    r["title"],
                )
            console.print(table)
            return 0
        if args.action == "show":
            rows = [
                r
                for r in queue.list_exceptions(con, status="all")
                if r["fingerprint"].startswith(args.fingerprint)
            ]
            if len(rows) != 1:
                console.print(f"[red]{len(rows)} exceptions match {args.fingerprint!r}[/]")
                return 1
            row = rows[0]
            console.print_json(json.dumps(row, default=str))
            events = con.execute(
                "select occurred_at, from_status, to_status, actor, reason from "
                "ops.exception_events where fingerprint = ? order by occurred_at",
                [row["fingerprint"]],
            ).fetchall()
            for at, old, new, actor, reason in events:
                console.print(f"{at:%Y-%m-%d %H:%M}  {old or '—'} -> {new}  by {actor}: {reason}")
            return 0
        now = datetime.now(UTC)
        status = {"ack": "acknowledged", "snooze": "snoozed", "resolve": "resolved"}[args.action]
        until = now + args.for_ if args.action == "snooze" else None
        full = queue.transition(
            con, args.fingerprint, status, args.actor, args.reason, now, cfg, snoozed_until=until
        )
        console.print(f"{full}: {status} by {args.actor}")
    return 0


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from reports.html import write_report

    cfg = load_config(args.config)
    path = Path(args.output or Path(cfg.out_dir) / "report.html")
    figures = write_report(cfg, datetime.now(UTC), path)
    console.print(f"wrote {path}: {figures}")
    return 0


def cmd_dev(args: argparse.Namespace, console: Console) -> int:
    """Sandbox servers on their fixed ports plus the Dagster UI on the same definitions."""
    from sandbox.serve import SANDBOX_TOKENS

    env = dict(os.environ)
    env.update(
        {
            "NETSUITE_TOKEN": SANDBOX_TOKENS["erp"],
            "SHOPIFY_ACCESS_TOKEN": SANDBOX_TOKENS["shopify"],
            "SHIPBOB_TOKEN": SANDBOX_TOKENS["shipbob"],
            "STOCKDRIFT_CONFIG": args.config,
        }
    )
    home = Path(env.get("DAGSTER_HOME", "out/dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    env["DAGSTER_HOME"] = str(home)
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", "--ports", "18701,18702,18703", "--speed", "1"],
        env=env,
    )
    try:
        return subprocess.call(
            [
                str(Path(sys.executable).parent / "dagster"),
                "dev",
                "-m",
                "dagster_project.definitions",
                "-p",
                str(args.port),
            ],
            env=env,
        )
    finally:
        sandbox.terminate()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockdrift", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the monitor on the embedded sandbox world")
    demo.add_argument("--cycles", type=int, default=12)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--out", default="out")
    run = sub.add_parser("run", help="run one monitoring cycle against the configured systems")
    run.add_argument("--config", default=DEFAULT_CONFIG)
    run.add_argument("--cycle-at", help="ISO time of the cycle (default: now)")
    exc = sub.add_parser("exceptions", help="work the exception queue")
    exc.add_argument("--config", default=DEFAULT_CONFIG)
    acts = exc.add_subparsers(dest="action", required=True)
    lst = acts.add_parser("list")
    lst.add_argument(
        "--status", default="active", help="open|acknowledged|snoozed|resolved|active|all"
    )
    for flag in ("--owner", "--system", "--cause"):
        lst.add_argument(flag)
    acts.add_parser("show").add_argument("fingerprint")
    for action in ("ack", "snooze", "resolve"):
        p = acts.add_parser(action)
        p.add_argument("fingerprint")
        p.add_argument("--actor", required=True, help="owner id acting (checked against config)")
        p.add_argument("--reason", required=True)
        if action == "snooze":
            p.add_argument("--for", dest="for_", type=_duration, required=True)
    rep = sub.add_parser("report", help="write the HTML drift and freshness report")
    rep.add_argument("--config", default=DEFAULT_CONFIG)
    rep.add_argument("--output")
    dev = sub.add_parser("dev", help="sandbox servers + Dagster UI")
    dev.add_argument("--config", default="stockdrift.example.yml")
    dev.add_argument("--port", type=int, default=3000)
    return parser


# Command groups that live in their own modules: each exposes
# `register(subparsers) -> dict[str, handler]`.
EXTENSIONS: tuple[str, ...] = ()


def main(argv: list[str] | None = None) -> int:
    import importlib

    console = Console()
    parser = build_parser()
    handlers = {
        "demo": cmd_demo,
        "run": cmd_run,
        "exceptions": cmd_exceptions,
        "report": cmd_report,
        "dev": cmd_dev,
    }
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for module in EXTENSIONS:
        handlers.update(importlib.import_module(module).register(sub))
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args, console)
    except ConfigError as exc:
        console.print(f"[red]config error[/]\n{exc}")
        return 2
    except (KeyError, PermissionError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
