"""Stored incremental cursors (`ops.extract_cursors`) and the full-vs-incremental decision.

A system extracts incrementally only when all of these hold: its config sets
`full_refresh_every_minutes`, its connector has a change filter (`INCREMENTAL`), a cursor
and the last good snapshot it came from exist, nobody asked for a full refresh
(`stockdrift cursors reset`), and the last full refresh is younger than the interval.
Everything else is a full refresh, which is also what catches deletions: an incremental
answer lists changed rows only, so a row deleted at the vendor survives until the next full.

The cursor is the newest vendor timestamp seen (the connector's `high_water_mark`); it is
written by `land_snapshot` inside the transaction that lands the snapshot, so a failed
extraction leaves both the cursor and the last good snapshot untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb

from stockdrift.clock import parse_utc, to_naive_utc
from stockdrift.config import INCREMENTAL_CONNECTORS, SystemConfig

Mode = Literal["full", "incremental"]
# Connectors whose API filters on a change time (extractors/README.md, "incremental").
INCREMENTAL: frozenset[str] = INCREMENTAL_CONNECTORS
# Asked again from a little before the high-water mark: some filters are exclusive (Amazon
# startDateTime, Square updated_after), so a change in the same second as the newest row we
# saw, made after we read it, is still caught. Re-fetched rows merge idempotently.
OVERLAP = timedelta(seconds=1)


@dataclass(frozen=True)
class Cursor:
    system_id: str
    value: datetime | None  # newest vendor change time seen (aware UTC)
    snapshot_id: str  # the last good snapshot
    last_full_refresh_at: datetime | None
    full_refresh_requested: bool


@dataclass(frozen=True)
class Plan:
    mode: Mode
    since: datetime | None = None  # incremental: what the connector sends
    base_snapshot_id: str | None = None  # incremental: rows merged onto
    reason: str = ""


def read_cursor(con: duckdb.DuckDBPyConnection, system_id: str) -> Cursor | None:
    row = con.execute(
        "select cursor_value, snapshot_id, last_full_refresh_at, full_refresh_requested "
        "from ops.extract_cursors where system_id = ?", [system_id]).fetchone()
    if row is None:
        return None
    value = parse_utc(row[0]) if row[0] else None
    return Cursor(system_id, value, str(row[1]), row[2], bool(row[3]))


def plan_extraction(con: duckdb.DuckDBPyConnection, system: SystemConfig, now: datetime,
                    *, force_full: bool = False) -> Plan:
    every = system.full_refresh_every_minutes
    if force_full:
        return Plan("full", reason="full refresh asked for")
    if every is None or system.connector not in INCREMENTAL:
        return Plan("full", reason="incremental not configured for this system")
    cursor = read_cursor(con, system.id)
    if cursor is None or cursor.value is None:
        return Plan("full", reason="no cursor yet")
    if cursor.full_refresh_requested:
        return Plan("full", reason="full refresh requested")
    if cursor.last_full_refresh_at is None or \
            to_naive_utc(now) - cursor.last_full_refresh_at >= timedelta(minutes=every):
        return Plan("full", reason=f"last full refresh older than {every} min")
    base = con.execute("select status from raw.snapshots where snapshot_id = ?",
                       [cursor.snapshot_id]).fetchone()
    if base is None or base[0] != "succeeded":
        return Plan("full", reason=f"base snapshot {cursor.snapshot_id} missing")
    return Plan("incremental", since=cursor.value - OVERLAP,
                base_snapshot_id=cursor.snapshot_id, reason="cursor")


def advance_cursor(con: duckdb.DuckDBPyConnection, system_id: str, plan: Plan,
                   snapshot_id: str, high_water_mark: datetime | None,
                   finished_at: datetime) -> None:
    """Inside the landing transaction: the new last good snapshot and, if the vendor showed
    a newer change, the new cursor. A full refresh clears a pending full-refresh request."""
    old = read_cursor(con, system_id)
    value = old.value if old else None
    if high_water_mark is not None:
        mark = high_water_mark.astimezone(UTC)
        # A full refresh resets the mark to what the vendor has now (a vendor whose clock
        # or data went backwards must not strand the cursor in the future).
        value = mark if plan.mode == "full" or value is None else max(value, mark)
    elif plan.mode == "full":
        value = None  # nothing dated: the next run is full again
    full_at = to_naive_utc(finished_at) if plan.mode == "full" else (
        old.last_full_refresh_at if old else None)
    requested = False if plan.mode == "full" else bool(old and old.full_refresh_requested)
    con.execute(
        "insert or replace into ops.extract_cursors values (?, ?, ?, ?, ?, ?)",
        [system_id, None if value is None else value.isoformat(), snapshot_id, full_at,
         requested, to_naive_utc(finished_at)])


def request_full_refresh(con: duckdb.DuckDBPyConnection, system_id: str) -> bool:
    """On demand: the next extraction of this system is a full refresh. False when the
    system has no cursor (its next extraction is full anyway)."""
    found = con.execute("select count(*) from ops.extract_cursors where system_id = ?",
                        [system_id]).fetchone()
    con.execute("update ops.extract_cursors set full_refresh_requested = true "
                "where system_id = ?", [system_id])
    return bool(found and found[0])
