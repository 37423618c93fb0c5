"""Run the report's queries for a period; derive the key figures; export them to CSV/Parquet.

Key figures are derived only from the tables (never queried separately), so the headline,
the charts, the export and the Dagster metadata all say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from reports.figures import report_queries
from reports.period import Period

Rows = list[dict[str, Any]]


@dataclass
class ReportData:
    period: Period
    tables: dict[str, Rows]
    kpis: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # tables not built yet (fresh warehouse)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> Rows:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def collect(con: duckdb.DuckDBPyConnection, period: Period) -> ReportData:
    tables: dict[str, Rows] = {}
    missing: list[str] = []
    for name, sql in report_queries(period).items():
        try:
            tables[name] = _rows(con, sql)
        except duckdb.CatalogException:
            tables[name] = []
            missing.append(name)
    data = ReportData(period, tables, missing=missing)
    data.kpis = key_figures(data)
    return data


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def key_figures(data: ReportData) -> dict[str, Any]:
    t = data.tables
    trend = t["accuracy_trend"]
    last = trend[-1] if trend else {}
    first = trend[0] if trend else {}
    queue = t["queue_summary"][0] if t["queue_summary"] else {}
    late = [r["system_id"] for r in t["system_freshness"] if r["is_late"]]
    failing = [r["system_id"] for r in t["system_freshness"] if r["last_status"] == "failed"]
    over_target = [r["system_id"] for r in t["sync_lag_summary"] if r["p95_over_target"]]
    # a channel is late on sync when changes wait past its target, not only when its p95 is
    sync_late = [r["system_id"] for r in t["sync_lag_summary"]
                 if r["p95_over_target"] or r["waiting_past_target"] or r["synced_late"]]
    critical = [r for r in t["open_exceptions"] if r["severity"] == "critical"]
    open_start = int(queue.get("open_at_start") or 0)
    open_end = int(queue.get("open_at_end") or 0)
    return {
        "period_start": data.period.start.isoformat(sep=" "),
        "period_end": data.period.end.isoformat(sep=" "),
        "last_cycle_at": last["cycle_at"].isoformat(sep=" ") if last else None,
        "accuracy_pct": _num(last.get("accuracy_pct")) if last else None,
        "accuracy_change_pts": (
            round(_num(last.get("accuracy_pct")) - _num(first.get("accuracy_pct")), 1)
            if last
            else None
        ),
        "keys_compared": int(last.get("keys_compared") or 0),
        "overstated_units": int(last.get("overstated_units") or 0),
        "understated_units": int(last.get("understated_units") or 0),
        "overstated_value": _num(last.get("overstated_value")),
        "understated_value": _num(last.get("understated_value")),
        "systems_late": len({*late, *failing, *sync_late}),
        "late_systems": ", ".join(late),
        "failing_systems": ", ".join(failing),
        "sync_p95_over_target": ", ".join(over_target),
        "sync_late_systems": ", ".join(sync_late),
        "critical_open": len(critical),
        "open_exceptions": open_end,
        "open_at_start": open_start,
        "opened_in_period": int(queue.get("opened_in_period") or 0),
        "closed_in_period": int(queue.get("closed_in_period") or 0),
        "queue_trend": (
            "shrinking" if open_end < open_start else "growing" if open_end > open_start
            else "flat"
        ),
        "extraction_failures": len(t["extraction_failures"]),
    }


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return f"{value!r}::double"
    return "'" + str(value).replace("'", "''") + "'"


def key_figures_sql(kpis: dict[str, Any]) -> str:
    """The key figures as a one-row SELECT of literals, so COPY can write them too."""
    return "select " + ", ".join(f"{_literal(v)} as {k}" for k, v in kpis.items())


def export(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    out_dir: Path,
    kpis: dict[str, Any] | None = None,
) -> list[Path]:
    """Every report table as `<name>.csv` and `<name>.parquet`, from the same SQL (COPY),
    plus `key_figures`, the headline numbers."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    queries = report_queries(period)
    queries["key_figures"] = key_figures_sql(kpis or collect(con, period).kpis)
    for name, sql in queries.items():
        for ext, options in (("csv", "format csv, header true"), ("parquet", "format parquet")):
            path = out_dir / f"{name}.{ext}"
            literal = str(path).replace("'", "''")
            try:
                con.execute(f"copy ({sql}) to '{literal}' ({options})")
            except duckdb.CatalogException:
                break
            written.append(path)
    return written
