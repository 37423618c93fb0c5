"""The report's headline: plain sentences, worst news first.

Open exceptions come first (critical before high, medium, low), then every system that is
behind (failing, stale or syncing late), then accuracy, value at risk and the queue. "All is
well" is only said when no exception is open and no system is behind on its freshness or
sync-lag target: a stopped sync at one location with an on-time snapshot and a p95 lag that
the other locations keep low is still a late channel.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reports.data import ReportData, Rows
from reports.queue_figures import SEVERITY_ORDER

NAMED_EXCEPTIONS = 3  # the worst ones the headline names; the rest are counted


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _where(row: dict[str, Any]) -> str:
    """"shopify at CICERO-3PL, owner ecommerce"; a key's SKU after its location."""
    place = " at ".join(str(row[c]) for c in ("system_id", "canonical_location") if row[c])
    parts = [place, str(row["canonical_sku"] or ""), f"owner {row['owner_id']}"]
    return ", ".join(p for p in parts if p)


def exceptions_sentence(open_rows: Rows) -> str | None:
    """`open_rows` most severe first (reports.queue_figures.open_exceptions)."""
    if not open_rows:
        return None
    counts = Counter(str(r["severity"]) for r in open_rows)
    order = [s for s in SEVERITY_ORDER if s in counts] + sorted(set(counts) - {*SEVERITY_ORDER})
    by_severity = ", ".join(f"{counts[s]} {s}" for s in order)
    named = "; ".join(
        f"{str(r['severity']).upper()} {r['cause']} ({_where(r)}): "
        f"{r['title']}"
        for r in open_rows[:NAMED_EXCEPTIONS]
    )
    rest = len(open_rows) - NAMED_EXCEPTIONS
    more = f"; and {rest} more" if rest > 0 else ""
    return (f"{_plural(len(open_rows), 'exception')} open at the end of the period "
            f"({by_severity}): {named}{more}.")


def _freshness_problem(row: dict[str, Any]) -> str | None:
    target = row["freshness_target_minutes"]
    if row["last_status"] == "failed":
        cause = f": {row['last_error_cause']}" if row["last_error_cause"] else ""
        return f"its last extraction failed{cause}"
    if row["is_late"]:
        if row["age_minutes"] is None:
            return "no good snapshot yet"
        return (f"its newest good snapshot is {row['age_minutes']:.0f} min old against a "
                f"{target}-minute target")
    return None


def _sync_problem(row: dict[str, Any]) -> str | None:
    target = row["freshness_target_minutes"]
    waiting, late = int(row["waiting_past_target"] or 0), int(row["synced_late"] or 0)
    problems = []
    if waiting:
        problems.append(f"{_plural(waiting, 'master change')} not shown after more than its "
                        f"{target}-minute target")
    if late:
        problems.append(f"{late} of {row['changes_synced']} synced changes took longer than "
                        f"{target} min")
    if row["p95_over_target"]:
        problems.append(f"sync lag p95 {row['p95_minutes']} min against {target}")
    return "; ".join(problems) or None


def behind(tables: dict[str, Rows]) -> list[tuple[str, str]]:
    """(system, what is wrong) for every system behind, failing and stale ones first."""
    found: dict[str, list[str]] = {}
    freshness = sorted(tables["system_freshness"], key=lambda r: r["last_status"] != "failed")
    for row in freshness:
        if problem := _freshness_problem(row):
            found.setdefault(row["system_id"], []).append(problem)
    for row in tables["sync_lag_summary"]:
        if problem := _sync_problem(row):
            found.setdefault(row["system_id"], []).append(problem)
    return [(system, "; ".join(problems)) for system, problems in found.items()]


def headline(data: ReportData) -> list[str]:
    """The answers leadership asks for, in plain sentences, worst news first."""
    k, t = data.kpis, data.tables
    lines: list[str] = []
    if sentence := exceptions_sentence(t["open_exceptions"]):
        lines.append(sentence)
    late = behind(t)
    if late:
        lines.append("Behind: " + "; ".join(f"{s} ({why})" for s, why in late) + ".")
    elif t["open_exceptions"]:
        lines.append("No system is behind its freshness or sync-lag target.")
    else:
        lines.append("All is well: no exception is open and every system is within its "
                     "freshness and sync-lag targets.")
    if k["accuracy_pct"] is None:
        lines.append("No comparisons were made in this period.")
    else:
        change = k["accuracy_change_pts"]
        trend = (
            "unchanged" if change == 0
            else f"{'up' if change > 0 else 'down'} {abs(change)} points"
        )
        lines.append(
            f"Inventory is {k['accuracy_pct']:.1f}% accurate: that share of "
            f"{k['keys_compared']} SKU-locations shows what the master implies "
            f"({trend} over the period)."
        )
    lines.append(
        f"{k['overstated_units']} units are overstated ({_money(k['overstated_value'])} at "
        f"risk of overselling) and {k['understated_units']} understated "
        f"({_money(k['understated_value'])} of possible lost sales)."
    )
    lines.append(
        f"The exception queue is {k['queue_trend']}: {k['open_exceptions']} open now, "
        f"{k['open_at_start']} at the start; {k['opened_in_period']} opened, "
        f"{k['closed_in_period']} closed."
    )
    return lines
