"""`stockdrift report`: the period measured on the warehouse's own cycles, and no empty page.

A warehouse filled on simulated time (`make demo`) has its cycles on a past date, so a
period ending at the wall clock's "now" holds none of them. The period therefore ends, unless
`--to` says otherwise, at the warehouse's latest cycle, and `--last` counts back from there.
A period with no cycle at all would write an empty page over a good one: that is refused,
naming the period and the cycles the warehouse holds, unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from reports.data import ReportData
from reports.html import build_report
from reports.period import Period, resolve_period
from stockdrift.config import StockdriftConfig
from stockdrift.warehouse import connect


class EmptyReportError(ValueError):
    """The period holds no cycle of the warehouse: the report would be empty."""


@dataclass(frozen=True)
class CycleRange:
    first: datetime  # naive UTC, like the warehouse
    last: datetime
    cycles: int

    def label(self) -> str:
        return (f"{self.cycles} cycle{'' if self.cycles == 1 else 's'} from "
                f"{self.first:%Y-%m-%d %H:%M} to {self.last:%Y-%m-%d %H:%M} UTC")


def cycle_range(con: duckdb.DuckDBPyConnection, period: Period | None = None) -> CycleRange | None:
    """The extraction cycles the warehouse holds (within `period` when given)."""
    where, params = "", []
    if period is not None:
        where, params = "where cycle_at between ? and ?", [period.start, period.end]
    row = con.execute(f"select min(cycle_at), max(cycle_at), count(distinct cycle_at) "
                      f"from raw.snapshots {where}", params).fetchone()
    if row is None or row[0] is None:
        return None
    return CycleRange(row[0], row[1], int(row[2]))


def report_period(
    con: duckdb.DuckDBPyConnection,
    start: str | None = None,
    end: str | None = None,
    last: str | None = None,
) -> Period:
    """`--from/--to/--last` with `--to` defaulting to the warehouse's latest cycle."""
    held = cycle_range(con)
    if end is None and held is None:
        raise EmptyReportError("the warehouse holds no cycle yet, so there is nothing to "
                               "report: run `stockdrift run` (or `make demo`) first")
    return resolve_period(held.last if held else None, start, end, last)


def refuse_empty(con: duckdb.DuckDBPyConnection, period: Period, path: Path) -> None:
    """Raise `EmptyReportError` unless the period holds at least one cycle."""
    if cycle_range(con, period) is not None:
        return
    held = cycle_range(con)
    holds = held.label() if held else "no cycle at all"
    raise EmptyReportError(
        f"no cycle in the period {period.label()}: the warehouse holds {holds}. Not writing "
        f"{path}{' over the report already there' if path.exists() else ''}; choose a period "
        "inside that range (the default ends at the latest cycle), or pass --force to write "
        "an empty report anyway."
    )


def publish_report(
    cfg: StockdriftConfig,
    generated_at: datetime,
    path: Path,
    export_dir: Path | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    last: str | None = None,
    force: bool = False,
) -> ReportData:
    """Resolve the period on the warehouse's cycles, refuse an empty one unless `force`,
    then write the page (and the export)."""
    con = connect(cfg.warehouse_path)
    try:
        period = report_period(con, start, end, last)
        if not force:
            refuse_empty(con, period, path)
        return build_report(con, period, generated_at, path, export_dir)
    finally:
        con.close()
