"""What `stockdrift demo` is doing right now: cycle n/N and the stage of the running cycle.

On a terminal this is a live rich progress display (spinner, cycle n/N, bar, current stage,
elapsed time) fed by the Dagster run's own step events; the per-cycle result lines print
above it. When the console is not a terminal (CI, a file) rich does not animate: the log
gets the one-off set-up lines, one line per cycle and the final state of the bar, nothing
per step.

While a run executes, Dagster points file descriptor 1 at the run's compute log (and tails
it back), so a console on stdout stops being a terminal and rich stops drawing: the live
display writes to its own copy of the terminal's descriptor instead, and leaves stdout
(and so the compute logs) alone.
"""

from __future__ import annotations

import io
import os
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

# Dagster step key -> what a person reads; extract steps are `extract__<system>`.
STAGES: dict[str, str] = {
    "landed_snapshots": "landing snapshots",
    "stockdrift_dbt": "dbt build (models and tests)",
    "exception_queue": "GX suites and the exception queue",
    "slack_alerts": "alerts",
    "drift_report": "report",
}


def stage_label(step_key: str) -> str:
    """The stage a Dagster step belongs to, in words."""
    if step_key.startswith("extract__"):
        return f"extracting {step_key.removeprefix('extract__')}"
    return STAGES.get(step_key, step_key)


def own_terminal(console: Console) -> TextIO | None:
    """A private copy of the console's terminal descriptor (None off a terminal)."""
    if not console.is_terminal:
        return None
    try:
        fd = console.file.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None
    return os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8")


class DemoProgress:
    """A context manager around one demo run; `stage()` and `listener()` move the display."""

    def __init__(self, console: Console, cycles: int) -> None:
        self.console = console
        self.cycles = cycles
        self.terminal = own_terminal(console)
        live = console if self.terminal is None else Console(file=self.terminal,
                                                               force_terminal=True)
        self.cycle = 0
        self.stages: list[str] = []  # every stage shown, in order (what the tests read)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]cycle {task.fields[cycle]}/{task.total:.0f}[/]"),
            BarColumn(bar_width=20),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=live,
            redirect_stdout=False,  # stdout stays Dagster's to capture
            redirect_stderr=False,
        )
        self.task: TaskID = self.progress.add_task("starting", total=cycles, cycle=0)

    def __enter__(self) -> DemoProgress:
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stage("done" if exc is None else "stopped")
        self.progress.stop()
        if self.terminal is not None:
            self.terminal.close()

    def setup(self, text: str) -> None:
        """A set-up step before the first cycle: shown live, and logged once off a terminal."""
        self.stage(text)
        if self.terminal is None:
            self.console.print(f"demo: {text}")

    def stage(self, text: str) -> None:
        self.stages.append(text)
        self.progress.update(self.task, description=text)

    def start_cycle(self, cycle: int) -> None:
        self.cycle = cycle
        self.progress.update(self.task, cycle=cycle)
        self.stage("moving the world clock")

    def end_cycle(self, line: str) -> None:
        self.progress.console.print(line)
        self.progress.advance(self.task)

    def listener(self) -> Any:
        """A Dagster event listener (`instance.add_event_listener`) that shows each step as
        it starts."""
        def on_event(entry: Any) -> None:
            event = entry.dagster_event
            if event is not None and event.event_type_value == "STEP_START" and event.step_key:
                self.stage(stage_label(event.step_key))
        return on_event
