"""CSV drop folder: declared mapping, encodings, header checks, quarantined rows with the raw
line kept, files processed once; landed into DuckDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from extractors.csv_drop import CsvDropConnector, decode
from extractors.landing import land_snapshot
from sandbox.files.csv_drop import OPTIONS, write_csv
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


def land(con: duckdb.DuckDBPyConnection, folder: Path, **options: str) -> tuple[Any, Any]:
    system = SystemConfig(id="partner_csv", role="3pl", connector="csv_drop",
                          base_url=folder.as_uri(), freshness_target_minutes=1440,
                          options={**OPTIONS, **options})
    connector = CsvDropConnector(system)
    return land_snapshot(con, system, connector, START, ManualClock(START)), connector


def test_mapped_rows_land_and_file_is_processed_once(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    world, drop = World(7, START), tmp_path / "drop"
    write_csv(world, drop)
    result, _ = land(con, drop)
    assert result.status == "succeeded" and result.row_count == 31, result.error_cause
    truth = {sku: v for (loc, sku), v in world.expected_truth().items() if loc == "CICERO-3PL"}
    got = con.execute("select sku, location, on_hand, available, committed from "
                      "raw.csv_drop_inventory where snapshot_id = ?",
                      [result.snapshot_id]).fetchall()
    assert {r[0]: (r[2], r[3]) for r in got} == {
        s: (v["on_hand"], v["available"]) for s, v in truth.items()}
    assert {r[1] for r in got} == {"CICERO"} and {r[4] for r in got} == {None}  # not mapped
    assert result.source_as_of == START  # the file's own Last Updated
    assert list(drop.glob("*.csv")) == [] and len(list((drop / "processed").glob("*.csv"))) == 1
    again, _ = land(con, drop)  # nothing new: carried forward, not re-processed
    assert again.row_count == 31 and not (drop / "quarantine").exists()


def test_bad_rows_are_quarantined_with_the_raw_line(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    path = write_csv(World(7, START), drop, fault="bad_rows")
    result, connector = land(con, drop)
    assert result.status == "succeeded" and result.row_count == 28, result.error_cause
    lines = (drop / "quarantine" / f"{path.name}.rejects.jsonl").read_text().splitlines()
    bad = [json.loads(line) for line in lines]
    assert [(b["row"], b["field"]) for b in bad] == [
        (2, "Qty On Hand"), (3, "(row)"), (4, "Item Number")]
    assert bad[0]["error"] == "'twelve' is not a whole number"
    assert bad[0]["raw_line"].startswith("SD-1002,CICERO,twelve,")
    assert bad[1]["error"] == "2 fields, header has 5" and bad[0]["file"] == path.name
    assert connector.quarantined == 3


def test_renamed_header_rejects_the_file_naming_the_column(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    path = write_csv(World(7, START), drop, fault="renamed_field")
    result, _ = land(con, drop)
    cause = result.error_cause or ""
    assert result.status == "failed" and path.name in cause
    assert "header column 'Qty On Hand' (mapped to on_hand) is missing" in cause
    assert "'On Hand Qty'" in cause and (drop / "rejected" / path.name).exists()


def test_encoding_detected_or_declared(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write_csv(World(7, START), drop, fault="cp1252")
    result, _ = land(con, drop)
    assert result.status == "succeeded", result.error_cause
    locs = con.execute("select distinct location from raw.csv_drop_inventory where "
                       "snapshot_id = ? order by 1", [result.snapshot_id]).fetchall()
    assert ("CICERO – Bldg Ä",) in locs
    path = write_csv(World(7, START), drop, "declared.csv", fault="cp1252")
    failed, _ = land(con, drop, encoding="utf-8")
    assert failed.status == "failed" and path.name in (failed.error_cause or "")
    assert "byte 0x96 at offset" in (failed.error_cause or "")  # cp1252 en dash
    assert decode("\ufeffa,b".encode(), "auto") == ("a,b", "utf-8-sig")
    assert decode("a;b".encode("utf-16"), "auto")[0] == "a;b"


@pytest.mark.parametrize(("fault", "expect"), [
    ("truncated", None),  # a cut last row is quarantined, the rest lands
    ("malformed", "is missing"),
])
def test_truncated_and_garbage_files(con: duckdb.DuckDBPyConnection, tmp_path: Path,
                                     fault: str, expect: str | None) -> None:
    drop = tmp_path / "drop"
    path = write_csv(World(7, START), drop, fault=fault)  # type: ignore[arg-type]
    result, connector = land(con, drop)
    if expect is None:
        assert result.status == "succeeded" and 0 < result.row_count < 31
        assert connector.quarantined == 1
    else:
        assert result.status == "failed" and expect in (result.error_cause or "")
        assert (drop / "rejected" / path.name).exists()


def test_wrong_mapping_is_one_file_failure_not_a_thousand_rows(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    write_csv(World(7, START), drop)
    result, _ = land(con, drop, **{"column.on_hand": "Warehouse"})
    assert result.status == "failed"
    assert "31 of 31 rows are bad" in (result.error_cause or "")
    assert "wrong column mapping?" in (result.error_cause or "")


def test_header_only_file_is_a_failed_export(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "empty.csv").write_text("Item Number,Warehouse,Qty On Hand,Qty Available,"
                                    "Last Updated\r\n")
    result, _ = land(con, drop)
    assert result.status == "failed" and "header only" in (result.error_cause or "")
