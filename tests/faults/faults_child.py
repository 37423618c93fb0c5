"""A cycle in a child process, optionally killed with SIGKILL at a chosen point:

    python faults_child.py <config> <cycle_at ISO> [--crash land|dbt|before-send|after-send]
    python faults_child.py <config> <cycle_at ISO> --hold-lock <seconds>

The kill is the process signalling itself (kill -9 semantics: no cleanup, no finally, no
atexit) at a deterministic point, so each run exercises exactly the window named."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_harness import Sleeps, dbt_build

from alerts.senders import Delivery, FileSender
from extractors.landing import SnapshotResult, land_snapshot
from extractors.registry import build_connector
from stockdrift.clock import Clock, ManualClock, parse_utc
from stockdrift.config import StockdriftConfig, load_config
from stockdrift.locking import cycle_lock
from stockdrift.pipeline import run_cycle
from stockdrift.warehouse import open_warehouse


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def extract(crash: bool) -> Any:
    def run(cfg: StockdriftConfig, system_id: str, at: datetime, clock: Clock) -> SnapshotResult:
        system = cfg.system(system_id)
        with open_warehouse(cfg.warehouse_path) as con:
            connector = build_connector(system)
            connector._sleep = Sleeps()  # type: ignore[attr-defined]
            if crash and system_id == "shopify":
                inner = connector.pages

                def pages() -> Iterator[Any]:  # killed mid-transaction, after 2 pages
                    for n, page in enumerate(inner(), start=1):
                        if n == 3:
                            die()
                        yield page

                connector.pages = pages  # type: ignore[method-assign]
            return land_snapshot(con, system, connector, at, clock)

    return run


class CrashingSender(FileSender):
    def __init__(self, path: Path, after: bool) -> None:
        import io

        from rich.console import Console

        super().__init__(path, Console(file=io.StringIO()))
        self.after = after

    def send(self, msg: Any, thread: Any = None) -> Delivery:
        if not self.after:
            die()  # the outbox row is committed, nothing sent
        delivery = super().send(msg, thread)
        die()  # delivered, but never marked sent
        return delivery


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("cycle_at")
    parser.add_argument("--crash", choices=["land", "dbt", "before-send", "after-send"])
    parser.add_argument("--hold-lock", type=float)
    parser.add_argument("--wait", type=float, default=0.0)
    args = parser.parse_args()
    cfg = load_config(args.config)
    at = parse_utc(args.cycle_at)
    if args.hold_lock is not None:
        with cycle_lock(cfg.warehouse_path, label="test holder"):
            print("locked", flush=True)
            time.sleep(args.hold_lock)
        return
    build = dbt_build(cfg)
    if args.crash == "dbt":
        def build_then_die(cycle_at: str) -> object:
            threading.Timer(1.5, die).start()  # dbt is mid-build (a build takes > 4 s)
            return dbt_build(cfg)(cycle_at)
        build = build_then_die
    alert_kwargs: dict[str, Any] = {}
    if args.crash in {"before-send", "after-send"}:
        sink = Path(cfg.out_dir) / "alerts.jsonl"
        alert_kwargs["sender"] = CrashingSender(sink, after=args.crash == "after-send")
    else:
        import io

        from rich.console import Console

        alert_kwargs["console"] = Console(file=io.StringIO())
    outcome = run_cycle(cfg, at, ManualClock(at), build=build,
                        extract=extract(args.crash == "land"), alert_kwargs=alert_kwargs,
                        wait_seconds=args.wait)
    print("done", [s.status for s in outcome.snapshots], flush=True)


if __name__ == "__main__":
    main()
