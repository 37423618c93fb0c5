"""Reliability suite fixtures: no real backoff sleeps, the summary table at the end.

`make test-faults` sets STOCKDRIFT_FAULTS_FULL=1 (the whole fault matrix through dbt) and
STOCKDRIFT_FAULTS_SUMMARY=<file> (the summary table is written there as Markdown).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stamina
from faults_harness import LEDGER, LedgerEntry


@pytest.fixture(autouse=True)
def _no_real_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


def summary_rows(ledger: list[LedgerEntry]) -> list[tuple[str, int, int, int, int, int]]:
    areas: dict[str, list[LedgerEntry]] = {}
    for entry in ledger:
        areas.setdefault(entry.area, []).append(entry)
    rows = [(area, len(es), sum(e.survived for e in es), sum(e.rows_lost for e in es),
             sum(e.alerts_lost for e in es), sum(e.alerts_doubled for e in es))
            for area, es in areas.items()]
    if rows:
        rows.append(("total", *(sum(r[i] for r in rows) for i in range(1, 6))))  # type: ignore[misc]
    return rows


def markdown(rows: list[tuple[str, int, int, int, int, int]]) -> str:
    head = ("| area | faults tried | survived | rows lost | alerts lost | alerts doubled |\n"
            "|---|---:|---:|---:|---:|---:|\n")
    return head + "".join(f"| {' | '.join(str(c) for c in r)} |\n" for r in rows)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = summary_rows(LEDGER)
    if not rows:
        return
    terminalreporter.write_sep("=", "stockdrift reliability summary")
    terminalreporter.write(markdown(rows))
    target = os.environ.get("STOCKDRIFT_FAULTS_SUMMARY")
    if target:
        write_summary(Path(target), markdown(rows))


START, END = "<!-- faults-summary:start -->", "<!-- faults-summary:end -->"


def write_summary(path: Path, table: str) -> None:
    """Replace the marked block of `path` (docs/RELIABILITY.md), or write the table alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = f"{head}{START}\n{table}{END}{rest.split(END, 1)[1]}"
    else:
        text = table
    path.write_text(text, encoding="utf-8")
