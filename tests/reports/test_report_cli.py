"""`stockdrift report` through the real entry point: period options, page and export."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario_warehouse import ReportWarehouse

from dagster_project.cli import main


def test_report_command_writes_page_and_export_for_the_period(
    report_warehouse: ReportWarehouse, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    page, export = tmp_path / "weekly.html", tmp_path / "weekly"
    code = main(["report", "--config", str(report_warehouse.config_path),
                 "--from", "2025-01-06T09:00:00Z", "--to", "2025-01-06T09:05:00Z",
                 "--output", str(page), "--export", str(export)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Report 2025-01-06 09:00 – 2025-01-06 09:05 UTC" in out
    html = page.read_text(encoding="utf-8")
    assert "Period 2025-01-06 09:00 – 2025-01-06 09:05 UTC" in html
    assert sorted(p.name for p in export.glob("*.csv")) == sorted(
        p.stem + ".csv" for p in export.glob("*.parquet"))
    assert (export / "key_figures.csv").read_text(encoding="utf-8").count("\n") == 2
    # Only the two cycles inside the period are in the trend.
    assert (export / "accuracy_trend.csv").read_text(encoding="utf-8").count("\n") == 3


def test_report_command_rejects_a_contradictory_period(
    report_warehouse: ReportWarehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", "--config", str(report_warehouse.config_path), "--from",
                 "2025-01-06", "--last", "2h", "--no-export"])
    assert code == 1 and "either --from or --last" in capsys.readouterr().out
