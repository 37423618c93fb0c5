"""Plotly figures for the report, built from the report tables.

Plotly renders a small HTML subset inside labels (`<b>`, `<a href>`), so every string from
data is HTML-escaped before it reaches a trace: plotly shows the entities as literal text,
and the figure JSON embedded in the page never carries a raw `<`.
"""

from __future__ import annotations

from html import escape
from typing import Any

import plotly.graph_objects as go

from reports.data import Rows

PALETTE = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2"]


def _label(value: Any) -> str:
    return escape(str(value))


def _layout(fig: go.Figure, title: str, y_title: str, **extra: Any) -> go.Figure:
    fig.update_layout(
        title=escape(title),
        yaxis_title=escape(y_title),
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        height=300,
        width=660,  # fixed: two charts side by side on a laptop, no reflow needed
        legend={"orientation": "h", "y": -0.2},
        **extra,
    )
    return fig


def to_div(fig: go.Figure, div_id: str) -> str:
    html: str = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, default_width="660px",
        config={"displaylogo": False, "responsive": False},
    )
    return html


def accuracy(rows: Rows) -> go.Figure:
    fig = go.Figure(
        go.Scatter(
            x=[r["cycle_at"] for r in rows],
            y=[r["accuracy_pct"] for r in rows],
            mode="lines+markers",
            name="accuracy %",
            line={"color": PALETTE[0]},
        )
    )
    return _layout(fig, "Inventory accuracy per cycle", "% within tolerance", yaxis_range=[0, 100])


def risk(rows: Rows) -> go.Figure:
    x = [r["cycle_at"] for r in rows]
    fig = go.Figure(
        [
            go.Bar(x=x, y=[r["overstated_units"] for r in rows], name="overstated (oversell)",
                   marker_color=PALETTE[4]),
            go.Bar(x=x, y=[r["understated_units"] for r in rows],
                   name="understated (lost sales)", marker_color=PALETTE[1]),
        ]
    )
    return _layout(fig, "Units in settled drift per cycle", "units", barmode="stack")


def _per_system(rows: Rows, x_key: str, y_key: str, dash: str | None = None) -> list[go.Scatter]:
    systems = sorted({r["system_id"] for r in rows})
    traces = []
    for i, system in enumerate(systems):
        mine = [r for r in rows if r["system_id"] == system]
        traces.append(
            go.Scatter(
                x=[r[x_key] for r in mine],
                y=[r[y_key] for r in mine],
                mode="lines+markers",
                name=_label(f"{system} {y_key.split('_')[0]}"),
                line={"color": PALETTE[i % len(PALETTE)], "dash": dash},
            )
        )
    return traces


def _targets(rows: Rows, x_key: str) -> list[go.Scatter]:
    traces = []
    systems = sorted({r["system_id"] for r in rows})
    for i, system in enumerate(systems):
        mine = [r for r in rows if r["system_id"] == system]
        traces.append(
            go.Scatter(
                x=[r[x_key] for r in mine],
                y=[r["freshness_target_minutes"] for r in mine],
                mode="lines",
                name=_label(f"{system} target"),
                line={"color": PALETTE[i % len(PALETTE)], "dash": "dot", "width": 1},
            )
        )
    return traces


def snapshot_age(rows: Rows) -> go.Figure:
    fig = go.Figure(_per_system(rows, "cycle_at", "age_minutes") + _targets(rows, "cycle_at"))
    return _layout(fig, "Snapshot age per system (dotted: its target)", "minutes")


def sync_lag(rows: Rows) -> go.Figure:
    traces = (
        _per_system(rows, "bucket", "p50_minutes")
        + _per_system(rows, "bucket", "p95_minutes", dash="dash")
        + _targets(rows, "bucket")
    )
    return _layout(go.Figure(traces), "Sync lag p50 / p95 against target", "minutes")


def queue_age(rows: Rows) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[_label(r["age_bucket"]) for r in rows],
            y=[r["open_exceptions"] for r in rows],
            marker_color=PALETTE[0],
        )
    )
    return _layout(fig, "Open exceptions by age", "exceptions")


def queue_flow(rows: Rows) -> go.Figure:
    x = [r["bucket"] for r in rows]
    fig = go.Figure(
        [
            go.Bar(x=x, y=[r["opened"] for r in rows], name="opened", marker_color=PALETTE[4]),
            go.Bar(x=x, y=[r["closed"] for r in rows], name="closed", marker_color=PALETTE[2]),
        ]
    )
    return _layout(fig, "Exceptions opened vs closed", "exceptions", barmode="group")


def queue_by_owner(rows: Rows) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=[_label(f"{r['cause']} → {r['owner_id']}") for r in rows],
            y=[r["open_exceptions"] for r in rows],
            marker_color=PALETTE[3],
        )
    )
    return _layout(fig, "Open exceptions by cause and owner", "exceptions")
