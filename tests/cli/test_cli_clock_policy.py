"""The CLI's clock policy: the warehouse's latest cycle when it ran on a frozen (simulated)
clock or STOCKDRIFT_FROZEN_CLOCK=1, else the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_world import QueueWorld, build_world

from stockdrift.clock import ManualClock, WallClock
from stockdrift.cycle_clock import warehouse_clock
from stockdrift.warehouse import open_warehouse


def test_a_wall_clock_warehouse_keeps_the_wall_clock(tmp_path: Path) -> None:
    """A real deployment's cycles finish after they start: its CLI clock is the wall clock."""
    live = build_world(tmp_path, frozen=False)
    with open_warehouse(live.cfg.warehouse_path) as con:
        assert isinstance(warehouse_clock(con), WallClock)


def test_warehouse_clock_policy(world: QueueWorld, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    with open_warehouse(world.cfg.warehouse_path) as con:
        clock = warehouse_clock(con)
        assert isinstance(clock, ManualClock) and clock.now() == world.last_cycle
    empty = tmp_path / "empty.duckdb"
    with open_warehouse(empty) as con:
        assert isinstance(warehouse_clock(con), WallClock)
    # STOCKDRIFT_FROZEN_CLOCK=1 (the switch the Dagster resource reads) forces the
    # warehouse's clock even when its cycles ran on wall time
    (tmp_path / "live").mkdir()
    live = build_world(tmp_path / "live", start=datetime(2020, 1, 1, tzinfo=UTC), frozen=False)
    monkeypatch.setenv("STOCKDRIFT_FROZEN_CLOCK", "1")
    with open_warehouse(live.cfg.warehouse_path) as con:
        assert warehouse_clock(con).now() == live.last_cycle
