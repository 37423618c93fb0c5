"""Self-contained HTML drift and freshness report for leadership.

Charts are plotly figures with plotly.js inlined once, so the file opens with no network.
Every string that comes from data is escaped (a SKU named `<script>` renders as text).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from stockdrift.clock import to_naive_utc
from stockdrift.config import StockdriftConfig
from stockdrift.warehouse import connect

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2933}
h1{margin-bottom:0} .sub{color:#52606d;margin-top:4px}
.kpis{display:flex;gap:16px;flex-wrap:wrap;margin:20px 0}
.kpi{border:1px solid #d9e2ec;border-radius:8px;padding:12px 16px;min-width:170px}
.kpi .v{font-size:28px;font-weight:600} .kpi .l{color:#52606d;font-size:13px}
table{border-collapse:collapse;margin:8px 0 20px} th,td{border-bottom:1px solid #e4e7eb;
padding:6px 10px;text-align:left;font-size:14px} th{background:#f5f7fa}
.bad{color:#b42318;font-weight:600} .ok{color:#067647} p.note{color:#52606d;max-width:900px}
"""


def _query(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    try:
        cur = con.execute(sql, params or [])
    except duckdb.CatalogException:
        return []
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return "<p class='note'>Nothing to show.</p>"
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = []
    for row in rows:
        cells = "".join(f"<td>{escape(_fmt(row.get(key)))}</td>" for key, _ in columns)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _figure_div(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(margin={"l": 40, "r": 20, "t": 40, "b": 40}, height=320)
    html: str = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)
    return html


def collect_figures(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    acc = _query(
        con,
        """select count(*) as keys, count(*) filter (where within_tolerance) as ok,
        coalesce(sum(abs_variance_units) filter (where direction='overstated' and is_settled), 0)
            as over_units,
        coalesce(sum(abs_variance_units) filter (where direction='understated' and is_settled), 0)
            as under_units,
        coalesce(sum(value_at_risk) filter (where is_settled), 0) as value_at_risk
        from marts.fct_variance where not is_suppressed""",
    )
    a = acc[0] if acc else {}
    keys = int(a.get("keys") or 0)
    late = _query(
        con,
        "select count(*) as n from marts.fct_system_freshness where is_stale "
        "or last_status <> 'succeeded'",
    )
    queue = _query(con, "select count(*) as n from ops.exceptions where status <> 'resolved'")
    return {
        "accuracy_pct": round(100.0 * int(a.get("ok") or 0) / keys, 1) if keys else 100.0,
        "keys_compared": keys,
        "overstated_units": int(a.get("over_units") or 0),
        "understated_units": int(a.get("under_units") or 0),
        "value_at_risk": float(a.get("value_at_risk") or 0),
        "systems_late": int(late[0]["n"]) if late else 0,
        "open_exceptions": int(queue[0]["n"]) if queue else 0,
    }


def render_report(con: duckdb.DuckDBPyConnection, cycle_at: datetime) -> tuple[str, dict[str, Any]]:
    figs = collect_figures(con)
    freshness = _query(
        con,
        """select system_id, role, freshness_target_minutes, age_minutes,
        last_status, last_error_cause, is_stale from marts.fct_system_freshness order by 1""",
    )
    for row in freshness:
        row["state"] = (
            "FAILED"
            if row["last_status"] != "succeeded"
            else "LATE"
            if row["is_stale"]
            else "on time"
        )
    lag = _query(con, "select * from marts.fct_system_sync_lag order by system_id")
    by_cause = _query(
        con,
        """select cause, owner_id, count(*) as n from ops.exceptions
        where status <> 'resolved' group by 1, 2 order by 3 desc""",
    )
    top = _query(
        con,
        """select canonical_sku, canonical_location, system_id, observed_qty,
        expected_qty, variance_units, probable_cause, value_at_risk from marts.fct_variance
        where is_settled and not within_tolerance and not is_suppressed
        order by severity_score desc limit 15""",
    )
    queue_rows = _query(
        con,
        """select e.cause, e.system_id, coalesce(e.canonical_sku,
        e.external_id) as sku, e.canonical_location, e.owner_id, e.severity, e.status,
        e.first_seen_at from ops.exceptions e where status <> 'resolved'
        order by severity_score desc limit 25""",
    )
    trend = _query(
        con,
        """select cycle_at, 100.0 * avg(case when within_tolerance then 1 else 0 end)
        as accuracy from marts.fct_variance_history group by 1 order by 1""",
    )
    charts = []
    if trend:
        fig = go.Figure(
            go.Scatter(
                x=[r["cycle_at"] for r in trend],
                y=[r["accuracy"] for r in trend],
                mode="lines+markers",
            )
        )
        fig.update_layout(
            title="Inventory accuracy per cycle (% of SKU-locations matching)",
            yaxis={"range": [0, 100]},
        )
        charts.append(
            (
                _figure_div(fig, "accuracy-trend"),
                "Share of SKU-locations where each system shows what the master implies, "
                "including syncs still in flight. A falling line means drift is growing.",
            )
        )
    if by_cause:
        fig = go.Figure(
            go.Bar(
                x=[f"{r['cause']} → {r['owner_id']}" for r in by_cause],
                y=[r["n"] for r in by_cause],
            )
        )
        fig.update_layout(title="Open exceptions by cause and owner")
        charts.append(
            (
                _figure_div(fig, "queue-by-cause"),
                "Who has work waiting, and why. Each bar is open exceptions.",
            )
        )
    kpi = [
        (f"{figs['accuracy_pct']:.1f}%", f"inventory accuracy ({figs['keys_compared']} keys)"),
        (str(figs["overstated_units"]), "units overstated (oversell risk)"),
        (str(figs["understated_units"]), "units understated (lost sales)"),
        (f"${figs['value_at_risk']:,.0f}", "value at risk"),
        (str(figs["systems_late"]), "systems late or failing"),
        (str(figs["open_exceptions"]), "open exceptions"),
    ]
    kpi_html = "".join(
        f"<div class='kpi'><div class='v'>{escape(v)}</div>"
        f"<div class='l'>{escape(label)}</div></div>"
        for v, label in kpi
    )
    chart_html = "".join(
        f"<section>{div}<p class='note'>{escape(note)}</p></section>" for div, note in charts
    )
    body = f"""
<h1>Inventory drift and freshness</h1>
<p class="sub">Cycle {escape(_fmt(cycle_at))}. Generated by stockdrift.</p>
<div class="kpis">{kpi_html}</div>
<h2>Is every system on time?</h2>
<p class="note">Snapshot age against each system's freshness target. LATE means data older than
the target; FAILED means the last extraction failed (its last good snapshot is kept).</p>
{
        _table(
            freshness,
            [
                ("system_id", "system"),
                ("role", "role"),
                ("freshness_target_minutes", "target (min)"),
                ("age_minutes", "age (min)"),
                ("state", "state"),
                ("last_error_cause", "last error"),
            ],
        )
    }
<h2>Sync lag</h2>
<p class="note">Minutes from a master change to the system showing it: p50, p95 and max.</p>
{
        _table(
            lag,
            [
                ("system_id", "system"),
                ("p50_minutes", "p50"),
                ("p95_minutes", "p95"),
                ("max_minutes", "max"),
                ("freshness_target_minutes", "target"),
            ],
        )
    }
{chart_html}
<h2>Exception queue</h2>
{
        _table(
            queue_rows,
            [
                ("severity", "severity"),
                ("cause", "cause"),
                ("system_id", "system"),
                ("sku", "SKU"),
                ("canonical_location", "location"),
                ("owner_id", "owner"),
                ("status", "status"),
                ("first_seen_at", "since"),
            ],
        )
    }
<h2>Top drifting SKUs</h2>
<p class="note">Settled drift only: differences older than the system's freshness target.</p>
{
        _table(
            top,
            [
                ("canonical_sku", "SKU"),
                ("canonical_location", "location"),
                ("system_id", "system"),
                ("observed_qty", "shows"),
                ("expected_qty", "should show"),
                ("variance_units", "variance"),
                ("probable_cause", "probable cause"),
                ("value_at_risk", "value at risk"),
            ],
        )
    }
"""
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>stockdrift report</title><style>{CSS}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>{body}</body></html>"
    )
    return page, figs


def write_report(cfg: StockdriftConfig, cycle_at: datetime, path: Path) -> dict[str, Any]:
    # Same config as other in-process connections (dbt keeps its instance open).
    con = connect(cfg.warehouse_path)
    try:
        page, figs = render_report(con, to_naive_utc(cycle_at))
    finally:
        con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return figs
