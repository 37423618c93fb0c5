"""`stockdrift report` on a warehouse whose cycles lie on a past simulated date (what
`make demo` leaves, then `make report` = `stockdrift report --last 7d`): the period is
measured from the warehouse's latest cycle, never the wall clock, and an empty period is
refused instead of overwriting a good report, unless `--force`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scenario_warehouse import ReportWarehouse

from dagster_project import cli
from reports.period import Period
from reports.publish import EmptyReportError, report_period
from stockdrift.clock import ManualClock
from stockdrift.warehouse import connect, ensure_schema

# The report runs long after the simulated week: the wall clock says nothing about the data.
LATER = datetime(2026, 12, 7, 23, 51, tzinfo=UTC)
GOOD = "<!doctype html><p>the demo's good report</p>"
HOLDS = "4 cycles from 2025-01-06 09:00 to 2025-01-06 09:15 UTC"


@pytest.fixture(autouse=True)
def _later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "REPORT_CLOCK", [ManualClock(LATER)])
    monkeypatch.setenv("COLUMNS", "200")


def _report(wh: ReportWarehouse, page: Path, *extra: str) -> int:
    return cli.main(["report", "--config", str(wh.config_path), "--output", str(page),
                     "--no-export", *extra])


def test_last_7d_ends_at_the_warehouses_latest_cycle(
    report_warehouse: ReportWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    page.write_text(GOOD, encoding="utf-8")
    code = _report(report_warehouse, page, "--last", "7d")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Report 2024-12-30 09:15 – 2025-01-06 09:15 UTC" in out
    html = page.read_text(encoding="utf-8")
    assert "Period 2024-12-30 09:15 – 2025-01-06 09:15 UTC" in html
    assert "No comparisons were made" not in html and "% accurate" in html
    assert "Generated 2026-12-07 23:51 UTC" in html   # the injected clock, for the stamp only


def test_the_default_period_is_the_24_hours_before_the_latest_cycle(
    report_warehouse: ReportWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _report(report_warehouse, tmp_path / "day.html") == 0
    assert "Report 2025-01-05 09:15 – 2025-01-06 09:15 UTC" in capsys.readouterr().out


def test_an_empty_period_is_refused_and_the_good_report_kept(
    report_warehouse: ReportWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    page.write_text(GOOD, encoding="utf-8")
    code = _report(report_warehouse, page, "--to", "2026-12-07T00:00:00Z", "--last", "7d")
    out = " ".join(capsys.readouterr().out.split())   # rich folds long lines
    assert code == 1, out
    assert "no cycle in the period 2026-11-30 00:00 – 2026-12-07 00:00 UTC" in out
    assert f"the warehouse holds {HOLDS}" in out
    assert "over the report already there" in out and "--force" in out
    assert page.read_text(encoding="utf-8") == GOOD


def test_force_writes_the_empty_report(
    report_warehouse: ReportWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    page.write_text(GOOD, encoding="utf-8")
    code = _report(report_warehouse, page, "--from", "2026-01-01", "--to", "2026-01-02",
                   "--force")
    assert code == 0, capsys.readouterr().out
    assert "No comparisons were made in this period" in page.read_text(encoding="utf-8")


def test_report_period_on_the_warehouse(report_warehouse: ReportWarehouse,
                                        tmp_path: Path) -> None:
    con = connect(report_warehouse.path)
    try:
        assert report_period(con, last="90m") == Period(datetime(2025, 1, 6, 7, 45),
                                                        datetime(2025, 1, 6, 9, 15))
        assert report_period(con, start="2025-01-06T09:05:00Z") == Period(
            datetime(2025, 1, 6, 9, 5), datetime(2025, 1, 6, 9, 15))
        assert report_period(con, end="2025-02-01T00:00:00Z").end == datetime(2025, 2, 1)
    finally:
        con.close()
    fresh = connect(tmp_path / "fresh.duckdb")
    try:
        ensure_schema(fresh)
        with pytest.raises(EmptyReportError, match="holds no cycle yet"):
            report_period(fresh, last="7d")
    finally:
        fresh.close()
