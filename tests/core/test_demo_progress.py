"""`stockdrift demo` shows what it is doing: cycle n/N and the running stage, fed by the
Dagster run's own step events; off a terminal (CI) one line per cycle, nothing per step."""

from __future__ import annotations

import io
import os
import select
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from rich.console import Console

from dagster_project.demo_progress import DemoProgress, stage_label

ROOT = Path(__file__).resolve().parents[2]


def test_step_keys_read_as_stages() -> None:
    assert stage_label("extract__shopify") == "extracting shopify"
    assert stage_label("stockdrift_dbt").startswith("dbt build")
    assert stage_label("exception_queue") == "GX suites and the exception queue"
    assert stage_label("something_new") == "something_new"


def test_off_a_terminal_the_log_gets_one_line_per_cycle() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120)
    assert not console.is_terminal
    with DemoProgress(console, 2) as progress:
        progress.setup("loading the Dagster definitions")
        for i in (1, 2):
            progress.start_cycle(i)
            progress.stage("dbt build")
            progress.end_cycle(f"cycle {i}/2 ok")
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["demo: loading the Dagster definitions", "cycle 1/2 ok", "cycle 2/2 ok"]
    assert len(lines) == 4 and "cycle 2/2" in lines[3] and "done" in lines[3]
    assert "\x1b" not in out.getvalue()  # no cursor movement or colour in a CI log


def test_a_terminal_gets_a_live_display_with_cycle_and_stage() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True)
    with DemoProgress(console, 12) as progress:
        progress.start_cycle(3)
        progress.stage("extracting shopify")
        progress.progress.refresh()
        shown = out.getvalue()
    assert "cycle 3/12" in shown and "extracting shopify" in shown


def _read_for(fd: int, seconds: float) -> str:
    """What the terminal received within `seconds` (the display keeps redrawing)."""
    chunks, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if select.select([fd], [], [], left)[0]:
            chunks.append(os.read(fd, 65536))
    return b"".join(chunks).decode("utf-8", "replace")


def test_live_display_keeps_drawing_while_dagster_captures_stdout(tmp_path: Path) -> None:
    """During a run Dagster points the stdout descriptor at the compute log; the display
    still reaches the terminal and nothing of it lands in the compute log."""
    master, slave = os.openpty()
    terminal = os.fdopen(slave, "w", buffering=1)
    console = Console(file=terminal)
    assert console.is_terminal
    compute_log = tmp_path / "compute.out"
    try:
        with DemoProgress(console, 12) as progress:
            saved = os.dup(slave)
            with compute_log.open("w") as log:
                os.dup2(log.fileno(), slave)  # what dagster's redirect_stream does
                try:
                    progress.start_cycle(4)
                    progress.stage("extracting shopify")
                    shown = _read_for(master, 0.5)  # while the run's capture is on
                finally:
                    os.dup2(saved, slave)
                    os.close(saved)
    finally:
        terminal.close()
        os.close(master)
    assert "cycle 4/12" in shown and "extracting shopify" in shown
    assert "extracting" not in compute_log.read_text(encoding="utf-8")


@dg.asset(key=dg.AssetKey(["extract", "shopify"]))
def _extract() -> None:
    return None


@dg.asset(deps=[_extract])
def exception_queue() -> None:
    return None


def test_dagster_step_events_move_the_stage() -> None:
    job = dg.Definitions(assets=[_extract, exception_queue],
                         jobs=[dg.define_asset_job("cycle")]).resolve_job_def("cycle")
    console = Console(file=io.StringIO())
    with dg.DagsterInstance.ephemeral() as instance, DemoProgress(console, 1) as progress:
        run_id = str(uuid.uuid4())
        instance.add_event_listener(run_id, progress.listener())
        progress.start_cycle(1)
        assert job.execute_in_process(instance=instance, run_id=run_id).success
    assert progress.stages == ["moving the world clock", "extracting shopify",
                               "GX suites and the exception queue", "done"]


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_shows_setup_cycles_and_stages(tmp_path: Path) -> None:
    """One real cycle: the set-up line, the cycle line, and the stages the run went through."""
    from dagster_project import demo

    out = io.StringIO()
    shown: list[DemoProgress] = []

    class Recording(DemoProgress):
        def __enter__(self) -> DemoProgress:
            shown.append(self)
            return super().__enter__()

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "DemoProgress", Recording)
        result = demo.run_demo(cycles=1, out_dir=tmp_path, example=ROOT / "stockdrift.example.yml",
                               console=Console(file=out, width=160))
    assert result.failed_runs == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("demo: loading the Dagster definitions")
    assert lines[1].startswith("cycle  1/1") and "ok" in lines[1]
    stages = shown[0].stages
    assert "extracting shopify" in stages and "extracting erp" in stages
    assert stages.index("landing snapshots") < stages.index(stage_label("stockdrift_dbt")) \
        < stages.index("GX suites and the exception queue") < stages.index("report")
