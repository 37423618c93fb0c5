"""EDI X12 846: the public samples, delimiter detection, envelopes, positioned errors, and the
drop-folder connector landed into DuckDB (files processed once, carried forward, rejected)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from extractors.edi846 import Edi846Connector, parse_846
from extractors.landing import land_snapshot
from extractors.x12 import X12Error, delimiters
from sandbox.files.edi846 import render_846, supplier_quantities, write_846
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import SystemConfig
from stockdrift.warehouse import ensure_schema

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def test_ingram_sample_pipe_and_newline() -> None:
    rows, issues, ix = parse_846((FIXTURES / "ingram_846_sample.edi").read_text(), "s1")
    assert (ix.delimiters.element, ix.delimiters.component, ix.delimiters.segment) == \
        ("|", ">", "\n")
    assert issues == []  # SE01 = 76 is right for this file
    totals = [r for r in rows if not r["is_breakdown"]]
    assert [r["line_no"] for r in totals] == ["1", "3", "5", "7", "9", "11", "13"]
    lion = [r for r in rows if r["item_id"] == "DIS BR106671"]
    assert lion[0]["quantity"] == "233" and lion[0]["quantity_qualifier"] == "33"
    assert sum(int(r["quantity"]) for r in lion[1:]) == 233  # SCH breakdown adds up
    assert lion[2]["location"] == "CHICAGO" and lion[2]["quantity"] == "194"
    assert lion[0]["product_ids"] == "VP:DIS BR106671;UP:786936812459"
    assert lion[0]["description"].startswith("LION KING") and lion[0]["report_date"] == "20130402"
    assert len(rows) == 7 + 49


def test_coedition_sample_wrong_se_count_is_tolerated() -> None:
    rows, issues, ix = parse_846((FIXTURES / "coedition_846_sample2.edi").read_text(), "s2")
    assert ix.delimiters.component is None  # ISA16 empty in this file
    assert [(i.position, i.tag, i.severity) for i in issues] == [(10, "SE", "warning")]
    assert "SE01 says '06'" in str(issues[0])
    assert [(r["item_id"], r["quantity"], r["uom"]) for r in rows] == [("PMXMLLT1", "7", "EA")]


def envelope(body: str, element: str = "*", segment: str = "~") -> str:
    isa = element.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "S".ljust(15), "ZZ",
                        "R".ljust(15), "240101", "1200", "U", "00401", "000000001", "0", "T",
                        ":"])
    return (isa + segment + f"GS*IB*S*R*20240101*1200*1*X*004010{segment}" + body
            + f"GE*2*1{segment}IEA*1*000000001{segment}").replace("*", element)


SET_A = ("ST*846*0001~BIA*00*SI*REF1*20200101~N1*SU*SUPPLIER*92*S1~LIN*1*VN*ABC123~"
         "QTY*33*100*EA~LIN*2*VN*DEF456~QTY*33*50*EA~CTT*2~SE*9*0001~")  # §6.5 example
SET_B = ("ST*846*0002~BIA*00*SI*REF2*20200102*0930~LIN*1*UP*012345678901*IN*00012345678901~"
         "QTY*33*500*EA~QTY*02*100*EA~N1*WH*DistCenter-1*92*DC001~QTY*17*7*EA:1~SE*8*0002~")


def test_multiple_transaction_sets_and_delimiter_variants() -> None:
    for element, segment in (("*", "~"), ("^", "\n"), ("|", "~\n")):
        text = envelope(SET_A + SET_B, element, "~").replace("~", segment)
        rows, issues, _ = parse_846(text, "multi")
        assert issues == [], (element, segment, [str(i) for i in issues])
        assert [(r["transaction_control"], r["item_id"], r["quantity_qualifier"],
                 r["quantity"]) for r in rows] == [
            ("0001", "ABC123", "33", "100"), ("0001", "DEF456", "33", "50"),
            ("0002", "00012345678901", "33", "500"), ("0002", "00012345678901", "02", "100"),
            ("0002", "00012345678901", "17", "7"),
        ]
        assert rows[-1]["location"] == "DC001" and rows[-1]["uom"] == "EA"  # N104 id code
        assert rows[-1]["item_id_qualifier"] == "IN"  # buyer's item number beats the UPC


def test_bad_segments_are_reported_by_position() -> None:
    text = envelope(SET_A.replace("QTY*33*50*EA", "QTY*33*fifty*EA").replace(
        "LIN*1*VN*ABC123", "LIN*1") + "SCH*1*EA~")
    _, issues, _ = parse_846(text, "bad")
    errors = [str(i) for i in issues if i.severity == "error"]
    assert "segment 6 (LIN): no product id qualifier/id pair" in errors
    assert "segment 7 (QTY): QTY outside a LIN loop" in errors
    assert "segment 9 (QTY): quantity 'fifty' is not a number" in errors
    with pytest.raises(X12Error, match="ISA"):
        delimiters("GS*IB*...")


def test_generated_file_round_trips(tmp_path: Path) -> None:
    world = World(7, START)
    items = supplier_quantities(world)
    rows, issues, _ = parse_846(render_846(items, START, 42), "gen")
    assert issues == []
    totals = {r["item_id"]: int(r["quantity"]) for r in rows if not r["is_breakdown"]}
    assert totals == {sku: sum(q) for sku, _, q in items}
    assert {r["item_id_qualifier"] for r in rows} == {"SK"}  # SK preferred over VP


# --- the drop-folder connector ------------------------------------------------------------

@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


def edi_system(folder: Path) -> SystemConfig:
    return SystemConfig(id="supplier", role="supplier", connector="edi846",
                        base_url=folder.as_uri(), freshness_target_minutes=1440,
                        timezone="America/Chicago")


def land(con: duckdb.DuckDBPyConnection, folder: Path) -> tuple[object, Edi846Connector]:
    system = edi_system(folder)
    connector = Edi846Connector(system)
    at = START + timedelta(hours=1)
    return land_snapshot(con, system, connector, at, ManualClock(at)), connector


def test_files_are_processed_once_then_carried_forward(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    world, drop = World(7, START), tmp_path / "drop"
    write_846(world, drop, 1)
    first, _ = land(con, drop)
    assert first.status == "succeeded" and first.row_count == 31 * 3, first.error_cause
    assert [p.parent.name for p in drop.rglob("*.edi")] == ["processed"]
    # 12:00 in the partner's zone (America/Chicago, CDT) = 17:00 UTC: the file's own time
    assert first.source_as_of == datetime(2024, 4, 1, 17, 0, tzinfo=UTC)
    again, _ = land(con, drop)  # no new file: the last statement is carried forward
    assert again.status == "succeeded" and again.row_count == first.row_count
    assert again.source_as_of == first.source_as_of
    kept = con.execute("select response_headers->>'x-carried-forward' from raw.payloads "
                       "where snapshot_id = ?", [again.snapshot_id]).fetchone()
    assert kept == ("true",)
    world.advance_to(START + timedelta(hours=2))
    write_846(world, drop, 2)
    newer, _ = land(con, drop)
    assert newer.source_as_of == datetime(2024, 4, 1, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(("fault", "expect"), [
    ("malformed", "not an X12 file: does not start with an ISA segment"),
    ("truncated", "no SE): truncated?"),
    ("renamed_field", "(LIN): LIN loop without a QTY segment"),
    ("bad_segment", "segment 9 (QTY): quantity 'N/A"),
])
def test_broken_file_fails_naming_file_and_segment(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fault: str, expect: str
) -> None:
    drop = tmp_path / "drop"
    path = write_846(World(7, START), drop, 3, fault)  # type: ignore[arg-type]
    result, _ = land(con, drop)
    cause = result.error_cause or ""
    assert result.status == "failed" and expect in cause and path.name in cause, cause
    assert (drop / "rejected" / path.name).exists()
    assert expect in (drop / "rejected" / f"{path.name}.error.txt").read_text()
    kept = con.execute("select count(*) from raw.payloads where snapshot_id = ?",
                       [result.snapshot_id]).fetchone()
    assert kept == (1,)  # the rejected file's bytes stay with the failed snapshot


def test_wrong_se_count_lands_with_a_warning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    write_846(World(7, START), drop, 4, "wrong_se_count")
    result, connector = land(con, drop)
    assert result.status == "succeeded", result.error_cause
    assert any("SE01 says" in w for w in connector.warnings)


def test_empty_or_missing_folder_is_a_failure_not_zero_stock(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    result, _ = land(con, tmp_path / "nowhere")
    assert result.status == "failed" and "does not exist" in (result.error_cause or "")
    (tmp_path / "empty").mkdir()
    result, _ = land(con, tmp_path / "empty")
    assert result.status == "failed" and "no 846 file received yet" in (result.error_cause or "")


def test_heading_n1_sets_every_line_location_and_empty_advice_fails(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    rows, _, _ = parse_846(envelope(SET_A.replace("N1*SU*SUPPLIER*92*S1", "N1*WH*Reno*92*RNO")),
                           "n1")
    assert {r["location"] for r in rows} == {"RNO"}
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "empty.edi").write_text(envelope("ST*846*0001~BIA*00*SI*R*20240101~SE*3*0001~"))
    result, _ = land(con, drop)
    assert result.status == "failed"
    assert "no LIN/QTY inventory lines" in (result.error_cause or "")
