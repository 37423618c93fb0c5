"""Replay of the file feeds: the EDI 846 and CSV bytes stored with a snapshot are re-read
into the same rows after the drop folder is gone (no partner, no folder)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from extractors.replay import replay_snapshot
from sandbox.files.csv_drop import OPTIONS, write_csv
from sandbox.files.edi846 import write_846
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def feed(kind: str, drop: Path) -> SystemConfig:
    if kind == "edi846":
        write_846(World(7, START), drop, 1)
        return SystemConfig(id="supplier", role="supplier", connector="edi846",
                            base_url=drop.as_uri(), freshness_target_minutes=1440,
                            timezone="America/Chicago")
    write_csv(World(7, START), drop)
    return SystemConfig(id="partner_csv", role="3pl", connector="csv_drop",
                        base_url=drop.as_uri(), freshness_target_minutes=1440,
                        options=OPTIONS)


@pytest.mark.parametrize("kind", ["edi846", "csv_drop"])
def test_file_snapshot_relands_without_the_drop_folder(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, kind: str
) -> None:
    drop = tmp_path / "drop"
    system = feed(kind, drop)
    connector = build_connector(system)
    landed = land_snapshot(con, system, connector, START, ManualClock(START))
    assert landed.status == "succeeded" and landed.row_count > 0, landed.error_cause
    table = f"raw.{connector.raw_table}"
    before = sorted(con.execute(f"select * from {table}").fetchall(), key=repr)
    shutil.rmtree(drop)                           # the partner's files are gone
    con.execute(f"delete from {table}")
    check = replay_snapshot(con, {system.id: system}, landed.snapshot_id, check=True)
    assert not check.same_rows and not check.written  # the rows are gone: nothing equal
    result = replay_snapshot(con, {system.id: system}, landed.snapshot_id)
    assert result.written and result.rows == landed.row_count
    assert sorted(con.execute(f"select * from {table}").fetchall(), key=repr) == before
    assert not drop.exists()                      # the live drop folder was never recreated
