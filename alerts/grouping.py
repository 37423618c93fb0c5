"""From exception rows to alert messages: one message per (owner, cause, system) group.

A flood (a channel stops syncing, 300 SKUs drift at once) becomes one message listing the
worst items and counting the rest, never 300 posts. Alert ids are deterministic so a rerun of
the same cycle produces the same ids and the outbox ignores the duplicates.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from alerts.model import AlertItem, AlertKind, AlertMessage
from alerts.routing import RouteDecision, RouteInput, route
from stockdrift.clock import to_naive_utc
from stockdrift.config import StockdriftConfig

MAX_LISTED_ITEMS = 10
# Causes grouped by the key itself across systems: a new SKU seen in nine systems is one
# message listing them (the queue keeps one exception per system for the owner to resolve).
PER_SKU_CAUSES = frozenset({"unmapped_sku"})
# (owner, cause, system, external key): system is "" for a digest and a per-SKU group.
GroupKey = tuple[str, str, str, str]
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
# Reminders and digests repeat by design, so their id includes the cycle; state changes
# (opened/resolved/escalated) happen once per set of fingerprints.
_PER_CYCLE_KINDS = frozenset({"reminder", "digest"})

_CONNECTOR_NAMES = {"netsuite_suiteql": "NetSuite", "shopify_rest": "Shopify", "shipbob": "ShipBob"}
_KIND_PREFIX = {
    "opened": "", "resolved": "Resolved: ", "escalated": "Escalated: ",
    "reminder": "Still open: ", "digest": "Digest: ", "worsened": "Worse: ",
}
# What is wrong, in words. {sys} system name, {for_n} " for 3 SKUs", {where} " at East DC".
_CAUSE_TEXT = {
    "extract_failed": "{sys} extraction failed{where}",
    "stale_system": "{sys} data is older than its freshness target{where}",
    "sync_stopped": "{sys} stopped following the master{for_n}{where}",
    "sync_lag_breach": "{sys} is out of sync with the master{for_n}{where}",
    "oversell_risk": "{sys} shows more than the master has{for_n}{where}",
    "negative_available": "{sys} shows negative available stock{for_n}{where}",
    "bundle_overstated": "{sys} shows more bundles than the components allow{for_n}{where}",
    "unmapped_sku": "{sys} reports{n} SKU{s} that no SKU mapping knows{where}",
    "unmapped_location": "{sys} reports{n} location{s} that no location mapping knows",
    "missing_listing": "{sys} has no listing{for_n}{where}",
    "duplicate_record": "{sys} returned duplicate records{for_n}{where}",
    "return_restock_delayed": "Returns are overdue to restock in {sys}{for_n}{where}",
    "lot_serial_mismatch": "{sys} lot or serial ids differ from the master{for_n}{where}",
    "canceled_order_not_released": "{sys} still holds stock for canceled orders{for_n}{where}",
    "on_hand_pushed_as_available": "{sys} lists on-hand instead of available{for_n}{where}",
    "channel_edited_directly": "{sys} stock was edited directly, not by the master{for_n}{where}",
    "unexplained_increase": "{sys} stock rose with no receipt or return{for_n}{where}",
    "incoming_stuck": "{sys} shows incoming stock no open purchase order explains{for_n}{where}",
    "alert_delivery_failed": "{sys} alerts cannot be delivered to {n_raw} owner{s}",
}
_PER_SKU_TEXT = {"unmapped_sku": "{who} SKU {key} that no SKU mapping knows"}
_PER_SKU_CHECK = {
    "unmapped_sku": "Add a row per system listed to dbt/seeds/sku_map.csv (system_id, "
                    "external_sku, canonical_sku), or retire the SKU where it should not exist.",
}


def build_messages(
    rows: list[dict[str, Any]],
    cfg: StockdriftConfig,
    cycle_at: datetime,
    kind: AlertKind = "opened",
    report_url: str = "",
    run_url: str = "",
) -> list[AlertMessage]:
    """Group `ops.exceptions` rows (as dicts) into one message per owner, cause and system.

    A digest is one message per owner for the whole cycle.
    """
    cycle_at = to_naive_utc(cycle_at) if cycle_at.tzinfo else cycle_at
    groups: dict[GroupKey, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        owner, cause, system = row["owner_id"], row["cause"], row.get("system_id") or ""
        if kind == "digest":
            key = (owner, "digest", "", "")
        elif cause in PER_SKU_CAUSES:  # one message per new SKU, whichever systems show it
            key = (owner, cause, "", str(row.get("external_id") or ""))
        else:
            key = (owner, cause, system, "")
        groups[key].append(row)
    return [
        _message(key, grouped, cfg, cycle_at, kind, report_url, run_url)
        for key, grouped in sorted(groups.items())
    ]


def alert_id_for(
    kind: str, owner: str, cause: str, system: str, fingerprints: Iterable[str],
    cycle_at: datetime | None = None,
) -> str:
    parts = [kind, owner, cause, system, ",".join(sorted(fingerprints))]
    if kind in _PER_CYCLE_KINDS and cycle_at is not None:
        naive = to_naive_utc(cycle_at) if cycle_at.tzinfo else cycle_at
        parts.append(naive.isoformat())
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:16]


def system_label(cfg: StockdriftConfig, system_id: str) -> str:
    for s in cfg.systems:
        if s.id == system_id:
            return _CONNECTOR_NAMES.get(s.connector, s.id.replace("_", " ").title())
    return system_id.replace("_", " ").title() if system_id else "stockdrift"


def location_label(cfg: StockdriftConfig, location_id: str) -> str:
    return next((loc.name for loc in cfg.locations if loc.id == location_id), location_id)


def _message(
    key: GroupKey, rows: list[dict[str, Any]], cfg: StockdriftConfig,
    cycle_at: datetime, kind: AlertKind, report_url: str, run_url: str,
) -> AlertMessage:
    owner, cause, system, _ = key
    rows = sorted(rows, key=_item_order)
    top = rows[0]
    severity = min((r["severity"] for r in rows), key=lambda s: SEVERITY_RANK.get(s, 9))
    decision = _route(top, cfg)
    if kind == "escalated" and decision is not None and decision.escalate_to:
        owner = decision.escalate_to
    if owner not in cfg.owners:  # owner left the config since the exception opened
        owner = decision.owner_id if decision else cfg.routing.default_owner
    # A reopened exception is a new incident: the id must differ from the first opening.
    id_parts = [
        r["fingerprint"] if int(r.get("times_opened") or 1) == 1
        else f"{r['fingerprint']}#{r['times_opened']}"
        for r in rows
    ]
    fingerprints = sorted(r["fingerprint"] for r in rows)
    evidence = {
        "severity_counts": dict(Counter(r["severity"] for r in rows)),
        "locations": sorted({r["canonical_location"] for r in rows if r.get("canonical_location")}),
        "worst": _evidence(top),
        "routing": decision.reason if decision else "",
        # whose exceptions these are: who may ack them (an escalation goes to someone else)
        "exception_owner": str(rows[0]["owner_id"]),
        # What each exception's severity was when this went out ("materially worse" later).
        "severities": {r["fingerprint"]: r["severity"] for r in rows},
        **_incident_evidence(rows),
    }
    suggested_check = str(top.get("suggested_check") or "")
    if not system and kind != "digest":  # a per-SKU group: the systems that show the key
        evidence["systems"] = sorted({str(r.get("system_id") or "") for r in rows} - {""})
        if len(evidence["systems"]) > 1:
            suggested_check = _PER_SKU_CHECK.get(cause, suggested_check)
    items = [item for r in rows for item in _items_of(r)]
    return AlertMessage(
        alert_id=alert_id_for(kind, owner, cause, system, id_parts, cycle_at),
        kind=kind,
        owner_id=owner,
        slack_target=cfg.owners[owner].slack,
        cause=cause,
        system_id=system,
        severity=severity,
        title=_title(kind, cause, system, rows, cfg),
        summary=_summary(rows, severity, cfg),
        probable_cause=str(top.get("probable_cause") or ""),
        suggested_check=suggested_check,
        since=min(_dt(r["first_seen_at"]) or cycle_at for r in rows),
        items=items[:MAX_LISTED_ITEMS],
        total_items=max(sum(_keys_listed(r) for r in rows), len(items)),
        evidence=json.loads(json.dumps(evidence, default=str)),
        fingerprints=fingerprints,
        report_url=report_url or cfg.slack.report_url or "",
        run_url=run_url,
        thread_of=_thread_of(rows) if kind != "opened" else None,
    )


def _item_order(row: dict[str, Any]) -> tuple[float, str, str, str]:
    return (
        -float(row.get("severity_score") or 0),
        str(row.get("canonical_sku") or row.get("external_id") or ""),
        str(row.get("canonical_location") or ""),
        str(row["fingerprint"]),
    )


def _route(row: dict[str, Any], cfg: StockdriftConfig) -> RouteDecision | None:
    item = RouteInput(
        row["cause"], row.get("system_id"), row.get("canonical_location"), row["severity"],
        row.get("canonical_sku"),
    )
    try:
        return route(item, cfg)
    except KeyError:
        return None


def _title(
    kind: str, cause: str, system: str, rows: list[dict[str, Any]], cfg: StockdriftConfig
) -> str:
    if cause == "digest":
        owner = rows[0]["owner_id"]
        name = cfg.owners[owner].name if owner in cfg.owners else owner
        return f"Digest: {_count(len(rows), 'open exception')} for {name or owner}"
    if cause in PER_SKU_CAUSES:
        return _per_sku_title(kind, cause, rows, cfg)
    skus = {r.get("canonical_sku") or r.get("external_id") for r in rows} - {None, ""}
    n, per_sku = (len(skus), True) if skus else (len(rows), False)
    behind = [keys_behind(r) for r in rows]
    if not skus and any(k is not None for k in behind):  # an incident: the keys behind it
        n, per_sku = sum(k or 0 for k in behind), True
    locations = sorted({r["canonical_location"] for r in rows if r.get("canonical_location")})
    where = ""
    if len(locations) == 1:
        where = f" at {location_label(cfg, locations[0])}"
    elif locations:
        where = f" at {len(locations)} locations"
    template = _CAUSE_TEXT.get(cause, "{sys}: " + cause.replace("_", " ") + "{for_n}{where}")
    text = template.format(
        sys=system_label(cfg, system), for_n=f" for {_count(n, 'SKU')}" if per_sku else "",
        where=where, n=f" {n}", n_raw=n, s="" if n == 1 else "s",
    )
    return f"{_KIND_PREFIX.get(kind, '')}{text} ({cause.replace('_', ' ')})"


def _per_sku_title(kind: str, cause: str, rows: list[dict[str, Any]],
                   cfg: StockdriftConfig) -> str:
    systems = sorted({str(r.get("system_id") or "") for r in rows})
    who = (f"{len(systems)} systems report" if len(systems) > 1
           else f"{system_label(cfg, systems[0])} reports")
    key = str(rows[0].get("external_id") or rows[0].get("canonical_sku") or "")
    text = _PER_SKU_TEXT[cause].format(who=who, key=key)
    return f"{_KIND_PREFIX.get(kind, '')}{text} ({cause.replace('_', ' ')})"


def _summary(rows: list[dict[str, Any]], severity: str, cfg: StockdriftConfig) -> str:
    text = f"{_count(len(rows), 'exception')}, highest severity {severity}."
    if rows[0]["cause"] in PER_SKU_CAUSES and len({r.get("system_id") for r in rows}) > 1:
        return (f"{_count(len(rows), 'exception')} (one per system, each resolved on its "
                f"own), highest severity {severity}.")
    worst = _item(rows[0])
    if worst.observed is not None and worst.expected is not None:
        where = location_label(cfg, worst.canonical_location) if worst.canonical_location else ""
        variance = worst.variance if worst.variance is not None else worst.observed - worst.expected
        text += (
            f" Worst: {worst.canonical_sku}{' at ' + where if where else ''} shows "
            f"{_num(worst.observed)}, expected {_num(worst.expected)} "
            f"({_num(variance, sign=True)})."
        )
    elif rows[0].get("title"):  # no quantities (e.g. a failed extraction): say what it is
        text += f" {'Worst: ' if len(rows) > 1 else ''}{str(rows[0]['title']).rstrip('.')}."
    return text


def _item(row: dict[str, Any]) -> AlertItem:
    ev = _evidence(row)
    return AlertItem(
        canonical_sku=str(row.get("canonical_sku") or row.get("external_id") or ""),
        canonical_location=str(row.get("canonical_location") or ""),
        system_id=str(row.get("system_id") or ""),
        observed=_float(_first(ev, "observed_qty", "observed")),
        expected=_float(_first(ev, "expected_qty", "expected")),
        variance=_float(_first(ev, "variance_units", "variance")),
        observed_at=_dt(_first(ev, "observed_at")),
        detail=str(ev.get("detail") or row.get("title") or ""),
        master_changed_at=_dt(_first(ev, "last_master_change_at", "master_changed_at")),
        fingerprint=str(row["fingerprint"]),
    )


def keys_behind(row: dict[str, Any]) -> int | None:
    """How many keys an incident row (sync_stopped) stands for; None for a per-key row."""
    value = _evidence(row).get("keys_behind")
    return None if value is None else int(value)


def _keys_listed(row: dict[str, Any]) -> int:
    return max(keys_behind(row) or 1, len(_evidence(row).get("examples") or []))


def _items_of(row: dict[str, Any]) -> list[AlertItem]:
    """The row's own item, or for an incident the example keys behind it (worst first)."""
    examples = _evidence(row).get("examples") or []
    if not examples:
        return [_item(row)]
    return [
        AlertItem(
            canonical_sku=str(e.get("canonical_sku") or ""),
            canonical_location=str(row.get("canonical_location") or ""),
            system_id=str(row.get("system_id") or ""),
            observed=_float(e.get("observed_qty")),
            expected=_float(e.get("expected_qty")),
            variance=_float(e.get("variance_units")),
            observed_at=_dt(e.get("observed_at")),
            detail="behind past its freshness target" if e.get("settled")
            else "behind, still within its freshness target",
            master_changed_at=_dt(e.get("last_master_change_at")),
        )
        for e in examples
    ]


def _incident_evidence(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per incident: keys behind (a later, larger count is a thread update) and when the
    channel last took a write at its location (None: the vendor reports no write times)."""
    incidents = [(r, _evidence(r)) for r in rows if keys_behind(r) is not None]
    if not incidents:
        return {}
    return {
        "keys_behind": {r["fingerprint"]: keys_behind(r) for r, _ in incidents},
        "channel_last_write": {
            str(r.get("canonical_location") or ""): ev.get("channel_last_write_at")
            for r, ev in incidents if "channel_last_write_at" in ev
        },
    }


def _thread_of(rows: list[dict[str, Any]]) -> str | None:
    ids = Counter(str(r["alert_id"]) for r in rows if r.get("alert_id"))
    if not ids:
        return None
    return min(ids, key=lambda a: (-ids[a], a))


def _evidence(row: dict[str, Any]) -> dict[str, Any]:
    ev = row.get("evidence") or {}
    if isinstance(ev, str | bytes):
        ev = json.loads(ev)
    return ev if isinstance(ev, dict) else {"value": ev}


def _first(ev: dict[str, Any], *names: str) -> Any:
    return next((ev[n] for n in names if ev.get(n) is not None), None)


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return to_naive_utc(parsed) if parsed.tzinfo else parsed


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _num(value: float, sign: bool = False) -> str:
    text = f"{value:+g}" if sign else f"{value:g}"
    return text
