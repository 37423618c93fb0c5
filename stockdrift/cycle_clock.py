"""The clock a command reading the warehouse should use: the warehouse's own.

A warehouse filled from a simulated world (the sandbox demo, replays, tests) runs on an
injected frozen clock (`STOCKDRIFT_FROZEN_CLOCK=1`, `StockdriftResource.clock`): its "now" is
its latest cycle, and the wall clock says nothing about it. Measuring ages or snooze times of
such a warehouse on `datetime.now()` mixes two clocks ("35d" for an exception an hour old).

A frozen clock leaves a trace: every cycle finishes at the very instant it started, which a
cycle on wall time never does (it takes seconds). So the policy is:
- `STOCKDRIFT_FROZEN_CLOCK=1`, or the latest finished cycle finished at its own cycle time,
  or the latest cycle lies in the wall clock's future: a `ManualClock` at the latest cycle;
- otherwise (a live deployment, or no cycle yet): the wall clock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

import duckdb

from stockdrift.clock import Clock, ManualClock, WallClock

FROZEN_CLOCK_ENV = "STOCKDRIFT_FROZEN_CLOCK"


def latest_cycle_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = con.execute("select max(cycle_at) from ops.cycles").fetchone()
    if row is None or row[0] is None:
        return None
    return _utc(row[0])


def ran_on_frozen_clock(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the latest finished cycle finished at its own cycle time (a frozen clock)."""
    row = con.execute(
        "select finished_at = cycle_at from ops.cycles where finished_at is not null "
        "order by cycle_at desc limit 1"
    ).fetchone()
    return bool(row and row[0])


def warehouse_clock(
    con: duckdb.DuckDBPyConnection,
    wall: Clock | None = None,
    env: Mapping[str, str] | None = None,
) -> Clock:
    """The warehouse's clock (its latest cycle) when it runs on simulated time, else wall."""
    wall = wall or WallClock()
    latest = latest_cycle_at(con)
    if latest is None:
        return wall
    frozen = (env if env is not None else os.environ).get(FROZEN_CLOCK_ENV, "") == "1"
    if frozen or ran_on_frozen_clock(con) or latest > wall.now():
        return ManualClock(latest)
    return wall


def _utc(value: datetime) -> datetime:
    """Warehouse timestamps are naive UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
