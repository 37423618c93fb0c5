"""Self-contained HTML drift and freshness report for leadership, for one period.

plotly.js is inlined once, so the file opens with no network. Every string from data is
escaped (a SKU named `<script>` renders as text); key figures carry `data-kpi`/`data-value`
attributes and tables `id`/`data-col`, so a browser test can read exactly what is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from reports import charts
from reports.data import ReportData, Rows, collect, export
from reports.headline import headline
from reports.period import Period
from stockdrift.config import StockdriftConfig
from stockdrift.warehouse import connect

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2933}
h1{margin-bottom:0} .sub{color:#52606d;margin-top:4px}
.glance{background:#f5f7fa;border-radius:8px;padding:12px 20px;max-width:980px}
.glance li{margin:4px 0}
.kpis{display:flex;gap:16px;flex-wrap:wrap;margin:20px 0}
.kpi{border:1px solid #d9e2ec;border-radius:8px;padding:12px 16px;min-width:170px}
.kpi .v{font-size:28px;font-weight:600} .kpi .l{color:#52606d;font-size:13px}
.row{display:grid;gap:24px;grid-template-columns:repeat(auto-fit,minmax(660px,1fr))}
.chart{min-width:0}
table{border-collapse:collapse;margin:8px 0 20px} th,td{border-bottom:1px solid #e4e7eb;
padding:6px 10px;text-align:left;font-size:14px} th{background:#f5f7fa}
.bad{color:#b42318;font-weight:600} .ok{color:#067647} p.note{color:#52606d;max-width:900px}
"""

Column = tuple[str, str]
OPEN_SHOWN = 20  # open exceptions listed on the page, most severe first (the export has all)


def fmt(value: Any) -> str:
    """How a value is shown: the browser test reads numbers back through this same shape."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def table(name: str, rows: Rows, columns: list[Column], empty: str = "Nothing to show.") -> str:
    if not rows:
        return f"<p class='note' id='t-{name}-empty'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td data-col='{escape(key)}'>{escape(fmt(row.get(key)))}</td>" for key, _ in columns
        )
        + "</tr>"
        for row in rows
    )
    return f"<table id='t-{name}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def chart(
    name: str, rows: Rows, build: Callable[[Rows], go.Figure], note: str, empty: str
) -> str:
    if not rows:
        return f"<div class='chart'><p class='note'>{escape(empty)}</p></div>"
    div = charts.to_div(build(rows), f"c-{name}")
    return f"<div class='chart'>{div}<p class='note'>{escape(note)}</p></div>"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def kpis(k: dict[str, Any]) -> str:
    cards = [
        ("accuracy_pct", "—" if k["accuracy_pct"] is None else f"{k['accuracy_pct']:.1f}%",
         f"inventory accuracy ({k['keys_compared']} SKU-locations)"),
        ("overstated_units", str(k["overstated_units"]), "units overstated (oversell risk)"),
        ("understated_units", str(k["understated_units"]), "units understated (lost sales)"),
        ("overstated_value", _money(k["overstated_value"]), "value at risk, overstated"),
        ("understated_value", _money(k["understated_value"]), "value at risk, understated"),
        ("systems_late", str(k["systems_late"]), "systems behind (stale, failing, syncing late)"),
        ("open_exceptions", str(k["open_exceptions"]), f"open exceptions ({k['queue_trend']})"),
        ("extraction_failures", str(k["extraction_failures"]), "failed extractions"),
    ]
    return "".join(
        f"<div class='kpi' data-kpi='{key}' data-value='{escape(str(k[key]))}'>"
        f"<div class='v'>{escape(shown)}</div><div class='l'>{escape(label)}</div></div>"
        for key, shown, label in cards
    )


def render(data: ReportData, generated_at: datetime) -> str:
    t, k = data.tables, data.kpis
    freshness = [
        {**r, "state": "FAILED" if r["last_status"] == "failed" else
         "LATE" if r["is_late"] else "on time"} for r in t["system_freshness"]
    ]
    queue = t["queue_summary"][0] if t["queue_summary"] else {}
    items = "".join(f"<li>{escape(line)}</li>" for line in headline(data))
    body = f"""
<h1>Inventory drift and freshness</h1>
<p class="sub" id="period">Period {escape(data.period.label())}; last cycle
{escape(k["last_cycle_at"] or "none")}. Generated {escape(fmt(generated_at))} UTC by stockdrift.</p>
<ul class="glance" id="glance">{items}</ul>
<div class="kpis">{kpis(k)}</div>
<h2>Is inventory accurate?</h2>
<div class="row">
{chart("accuracy", t["accuracy_trend"], charts.accuracy,
       "Share of SKU-locations (per system) within tolerance of what the master implies, per "
       "cycle, syncs in flight included. A falling line means drift is growing.",
       "No comparisons in this period.")}
{chart("risk", t["accuracy_trend"], charts.risk,
       "Units off by more than tolerance for longer than the system's freshness target "
       "(settled drift). Overstated risks overselling; understated hides sellable stock.",
       "No comparisons in this period.")}
</div>
<h2>Which systems are late?</h2>
<p class="note">Age of each system's newest good snapshot at the end of the period against its
freshness target. LATE: older than the target; FAILED: the last extraction failed (its last good
snapshot is kept, never read as zero stock).</p>
{table("system_freshness", freshness, [
    ("system_id", "system"), ("role", "role"), ("freshness_target_minutes", "target (min)"),
    ("age_minutes", "age (min)"), ("state", "state"),
    ("failures_in_period", "failed extractions"), ("last_error_cause", "last error")])}
<div class="row">
{chart("snapshot-age", t["snapshot_age_trend"], charts.snapshot_age,
       "How old each system's data was at every cycle; above its dotted target line it is late.",
       "No cycles in this period.")}
{chart("sync-lag", t["sync_lag_trend"], charts.sync_lag,
       "Minutes from a master change to the system showing it, p50 (solid) and p95 (dashed), "
       "by the time of the change. Above the dotted target, customers see stale stock.",
       "No master changes caught up in this period.")}
</div>
{table("sync_lag_summary", t["sync_lag_summary"], [
    ("system_id", "system"), ("freshness_target_minutes", "target (min)"),
    ("p50_minutes", "p50 (min)"), ("p95_minutes", "p95 (min)"), ("max_minutes", "max (min)"),
    ("changes_synced", "changes synced"), ("changes_waiting", "still waiting"),
    ("waiting_past_target", "waiting past target"), ("synced_late", "synced late"),
    ("breaches", "over target"), ("p95_over_target", "p95 over target")])}
<h2>Is the exception queue shrinking?</h2>
<p class="note">Replayed from the transition log: open at the start and end of the period,
decisions in it, and how long people took to acknowledge and to resolve.</p>
{table("queue_summary", [queue] if queue else [], [
    ("open_at_start", "open at start"), ("open_at_end", "open at end"),
    ("opened_in_period", "opened"), ("closed_in_period", "closed"),
    ("ack_p50_minutes", "ack p50 (min)"), ("ack_p90_minutes", "ack p90 (min)"),
    ("resolve_p50_minutes", "resolve p50 (min)"), ("resolve_p90_minutes", "resolve p90 (min)")])}
<div class="row">
{chart("queue-flow", t["queue_flow"], charts.queue_flow,
       f"Exceptions opened (detected or reopened) and closed per {data.period.bucket}. More "
       "green than red means the queue is shrinking.", "No queue activity in this period.")}
{chart("queue-age", t["queue_age"], charts.queue_age,
       "How long the exceptions still open at the end of the period have been open.",
       "No open exceptions.")}
{chart("queue-owner", t["queue_by_owner"], charts.queue_by_owner,
       "Who has work waiting, and why: open exceptions by cause and owner.",
       "No open exceptions.")}
</div>
<p class="note">Open at the end of the period, most severe first (the headline names the
worst); the export lists them all.</p>
{table("open_exceptions", t["open_exceptions"][:OPEN_SHOWN], [
    ("severity", "severity"), ("cause", "cause"), ("system_id", "system"),
    ("canonical_location", "location"), ("canonical_sku", "SKU"), ("owner_id", "owner"),
    ("status", "status"), ("first_seen_at", "since"), ("title", "what")],
    "No open exceptions.")}
{table("queue_by_owner", t["queue_by_owner"], [
    ("cause", "cause"), ("owner_id", "owner"), ("open_exceptions", "open"),
    ("oldest_first_seen_at", "oldest since")], "No open exceptions.")}
<h2>Top drifting SKUs</h2>
<p class="note">SKU-locations in settled drift at their latest comparison, largest value at risk
first, with the cause and owner of the exception covering them.</p>
{table("top_drifting", t["top_drifting"], [
    ("canonical_sku", "SKU"), ("canonical_location", "location"), ("system_id", "system"),
    ("observed_qty", "shows"), ("expected_qty", "should show"), ("variance_units", "variance"),
    ("direction", "direction"), ("value_at_risk", "value at risk"), ("cause", "cause"),
    ("owner_id", "owner")], "No settled drift in this period.")}
<h2>Extraction failures</h2>
<p class="note">Every failed extraction attempt in the period with the vendor's error; the
system's drift is suppressed until it succeeds again.</p>
{table("extraction_failures", t["extraction_failures"], [
    ("cycle_at", "cycle"), ("system_id", "system"), ("attempts", "attempts"),
    ("pages", "pages received"), ("error_cause", "cause")], "No failed extractions.")}
"""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>stockdrift report</title>"
        "<link rel='icon' href='data:,'>"  # no favicon request, no console error offline
        f"<style>{CSS}</style><script>{get_plotlyjs()}</script></head>"
        f"<body>{body}</body></html>"
    )


def build_report(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    generated_at: datetime,
    path: Path,
    export_dir: Path | None = None,
) -> ReportData:
    """Write the HTML page (and the CSV/Parquet export when `export_dir` is given)."""
    data = collect(con, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data, generated_at), encoding="utf-8")
    if export_dir is not None:
        export(con, period, export_dir, data.kpis)
    return data


def write_report(
    cfg: StockdriftConfig,
    period: Period,
    generated_at: datetime,
    path: Path,
    export_dir: Path | None = None,
) -> ReportData:
    # Same connection config as other in-process connections (dbt keeps its instance open).
    con = connect(cfg.warehouse_path)
    try:
        return build_report(con, period, generated_at, path, export_dir)
    finally:
        con.close()
