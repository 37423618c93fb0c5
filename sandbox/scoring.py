"""Compare the exception queue with the sandbox's ground truth: was each injected fault
found with the right cause and owner, and was anything raised that nobody injected?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from alerts.routing import RouteInput, route
from stockdrift.config import StockdriftConfig


@dataclass
class Score:
    found: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_alarms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def perfect(self) -> bool:
        return not self.missed and not self.false_alarms


def _matches(fault: Any, exc: dict[str, Any]) -> bool:
    if fault.system_id != exc["system_id"]:
        return False
    if fault.canonical_sku is not None and fault.canonical_sku != exc["canonical_sku"]:
        return False
    if (
        fault.canonical_location is not None
        and fault.canonical_location != exc["canonical_location"]
    ):
        return False
    external = (fault.detail or {}).get("external_sku")
    return external is None or external == exc["external_id"]


def score(con: duckdb.DuckDBPyConnection, faults: list[Any], cfg: StockdriftConfig) -> Score:
    cur = con.execute("select * from ops.exceptions")
    names = [d[0] for d in cur.description]
    exceptions = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    result = Score()
    matched: set[str] = set()
    for fault in faults:
        # Only the same cause counts: a flood of per-key alerts for a stopped sync is noise.
        hits = [e for e in exceptions if e["cause"] == fault.cause and _matches(fault, e)]
        right = hits
        expected_owner = route(
            RouteInput(
                cause=fault.cause,
                system_id=fault.system_id,
                location=fault.canonical_location,
                severity="high",
                sku=fault.canonical_sku,
            ),
            cfg,
        ).owner_id
        entry = {
            "cause": fault.cause,
            "system": fault.system_id,
            "sku": fault.canonical_sku,
            "location": fault.canonical_location,
            "expected_owner": expected_owner,
        }
        if right:
            matched.update(e["fingerprint"] for e in hits)
            entry["owner"] = right[0]["owner_id"]
            entry["owner_ok"] = right[0]["owner_id"] == expected_owner
            (result.found if entry["owner_ok"] else result.missed).append(entry)
        else:
            entry["raised_instead"] = sorted(
                {e["cause"] for e in exceptions if e["system_id"] == fault.system_id}
            )
            result.missed.append(entry)
    for exc in exceptions:
        if exc["fingerprint"] not in matched:
            result.false_alarms.append(
                {
                    k: exc[k]
                    for k in ("cause", "system_id", "canonical_sku", "canonical_location", "title")
                }
            )
    return result
