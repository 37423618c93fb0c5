"""The `stockdrift` command line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dagster_project.cli_options import ConfigOption, share_config
from stockdrift.clock import Clock, WallClock, parse_utc
from stockdrift.config import ConfigError, load_config
from stockdrift.locking import CycleLockedError
from stockdrift.warehouse import open_warehouse

DEFAULT_CONFIG = os.environ.get("STOCKDRIFT_CONFIG", "stockdrift.example.yml")


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from dagster_project.demo import DEFAULT_CYCLES, run_demo
    from reports.console import print_summary
    from sandbox.scoring import score

    cycles = args.cycles or DEFAULT_CYCLES[args.scenario]
    result = run_demo(
        cycles=cycles, seed=args.seed, out_dir=Path(args.out), console=console,
        scenario=args.scenario,
    )
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
    from dagster_project.resources import CYCLE_TAG, QUIET
    from stockdrift.locking import cycle_lock

    cfg = load_config(args.config)
    home = Path(os.environ.get("DAGSTER_HOME", Path(cfg.out_dir) / "dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    cycle_at = (
        parse_utc(args.cycle_at) if args.cycle_at else datetime.now(UTC).replace(microsecond=0)
    )
    job = build_definitions(args.config).resolve_job_def("monitor_cycle")
    with cycle_lock(cfg.warehouse_path, wait_seconds=60, label="stockdrift run"):
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


def cmd_dev(args: argparse.Namespace, console: Console) -> int:
    """Sandbox servers on their fixed ports (the config's base URLs) and its file feeds, plus
    the Dagster UI on the same definitions. The UI only starts once every sandbox port
    answers HTTP; otherwise this exits 1 saying which server failed and why."""
    import yaml

    from dagster_project.demo import write_demo_config
    from sandbox.feeds import feed_urls
    from sandbox.serve import SandboxStartError, dev_ports, sandbox_env, start_sandbox

    dev_dir = Path("out/dev")
    feeds = dev_dir / "feeds"
    example = Path(args.config)
    systems = yaml.safe_load(example.read_text(encoding="utf-8"))["systems"]
    # HTTP systems keep the config's fixed ports; the file feeds point at the dev folder
    urls = {s["id"]: s["base_url"] for s in systems} | feed_urls(feeds)
    try:
        sandbox = start_sandbox(dev_ports(urls), feeds, speed=1.0)
    except SandboxStartError as exc:
        console.print(f"[red]error:[/] the sandbox servers did not start, so the Dagster UI "
                      f"was not started either: {exc}")
        return 1
    with sandbox:
        for line in sandbox.describe():
            console.print(line, highlight=False)
        env = dict(os.environ)
        env.update(sandbox_env())
        env["STOCKDRIFT_CONFIG"] = str(write_demo_config(example, dev_dir, urls))
        home = Path(env.get("DAGSTER_HOME", "out/dagster_home")).resolve()
        home.mkdir(parents=True, exist_ok=True)
        env["DAGSTER_HOME"] = str(home)
        dagster = str(Path(sys.executable).parent / "dagster")
        return subprocess.call(
            [dagster, "dev", "-m", "dagster_project.definitions", "-p", str(args.port)], env=env
        )


REPORT_CLOCK: list[Clock] = [WallClock()]  # the report's "generated at"; tests swap it


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    """`stockdrift report`: the period ends at the warehouse's latest cycle unless `--to`
    says otherwise (`--last` counts back from there); a period holding no cycle is refused
    (exit 1, naming the period and the cycles the warehouse holds) unless `--force`."""
    from reports.publish import publish_report

    cfg = load_config(args.config)
    path = Path(args.output or Path(cfg.out_dir) / "report.html")
    export_dir = None if args.no_export else Path(args.export or Path(cfg.out_dir) / "report")
    data = publish_report(cfg, REPORT_CLOCK[0].now(), path, export_dir, start=args.from_,
                          end=args.to, last=args.last, force=args.force)
    table = Table(title=f"Report {data.period.label()}")
    table.add_column("figure")
    table.add_column("value")
    for key, value in data.kpis.items():
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    console.print(f"wrote {path}" + (f" and CSV/Parquet in {export_dir}" if export_dir else ""))
    return 0


def report_handler(
    sub: argparse._SubParsersAction,
) -> Callable[[argparse.Namespace, Console], int]:
    """The `report` parser is declared in cli_mappings; its period and `--force` are here."""
    report = sub.choices["report"]
    report._option_string_actions["--to"].help = (
        "period end, ISO time (default: the warehouse's latest cycle)")
    report.add_argument("--force", action="store_true",
                        help="write the report even if the period holds no cycle (empty)")
    return cmd_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockdrift", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the monitor on the embedded sandbox world")
    demo.add_argument(
        "--cycles", type=int, default=None, help="default: 12 (default), 24 (library)"
    )
    demo.add_argument(
        "--scenario", choices=("default", "library"), default="default",
        help="library: every injectable fault once, odd SKU ids, a failed and a stale system",
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--out", default="out")
    run = sub.add_parser("run", help="run one monitoring cycle against the configured systems")
    run.add_argument("--config", default=DEFAULT_CONFIG)
    run.add_argument("--cycle-at", help="ISO time of the cycle (default: now)")
    dev = sub.add_parser("dev", help="sandbox servers + Dagster UI")
    dev.add_argument("--config", default="stockdrift.example.yml")
    dev.add_argument("--port", type=int, default=3000)
    return parser


# Command groups that live in their own modules: each exposes
# `register(subparsers) -> dict[str, handler]`.
EXTENSIONS: tuple[str, ...] = (
    "dagster_project.cli_queue",  # exceptions list|show|ack|snooze|resolve
    "dagster_project.cli_routes",  # routes explain|preview|validate
    "dagster_project.cli_mappings",  # report; mappings history|diff|check|apply; config; audit
    "dagster_project.cli_replay",  # replay (stored payloads, no vendor); cursors list|reset
)


Handler = Callable[[argparse.Namespace, Console], int]


@dataclass
class Cli:
    parser: argparse.ArgumentParser
    handlers: dict[str, Handler]
    config: ConfigOption  # --config before or after any command (dagster_project/cli_options)

    def parse(self, argv: list[str] | None = None) -> argparse.Namespace:
        args = self.parser.parse_args(argv)
        self.config.fill(self.parser, args)
        return args


def build_cli() -> Cli:
    import importlib

    parser = build_parser()
    handlers: dict[str, Handler] = {
        "demo": cmd_demo,
        "run": cmd_run,
        "dev": cmd_dev,
    }
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for module in EXTENSIONS:
        handlers.update(importlib.import_module(module).register(sub))
    handlers["report"] = report_handler(sub)
    return Cli(parser, handlers, share_config(parser))


def main(argv: list[str] | None = None) -> int:
    console = Console()
    cli = build_cli()
    handlers = cli.handlers
    args = cli.parse(argv)
    try:
        return handlers[args.command](args, console)
    except ConfigError as exc:
        console.print(f"[red]config error[/]\n{exc}")
        return 2
    except (KeyError, PermissionError, ValueError, CycleLockedError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
