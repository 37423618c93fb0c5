"""Detection quality against ground truth: precision, recall, cause accuracy, time to detect,
for stockdrift's exception queue and for a naive diff on the same snapshots."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.scenario import Fault


@dataclass
class Tally:
    faults: int = 0
    detected: int = 0
    right_cause: int = 0
    alarms: int = 0
    true_alarms: int = 0
    on_time: int = 0          # found with the right cause within the system's target + cycle
    ttd: list[float] = field(default_factory=list)    # minutes, faults found with right cause

    def add(self, other: Tally) -> None:
        for name in ("faults", "detected", "right_cause", "alarms", "true_alarms", "on_time"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ttd += other.ttd

    @property
    def recall(self) -> float | None:
        return self.detected / self.faults if self.faults else None

    @property
    def precision(self) -> float | None:
        return self.true_alarms / self.alarms if self.alarms else None

    @property
    def cause_accuracy(self) -> float | None:
        return self.right_cause / self.detected if self.detected else None

    def ttd_quantile(self, q: float) -> float | None:
        if not self.ttd:
            return None
        if len(self.ttd) == 1:
            return self.ttd[0]
        return statistics.quantiles(self.ttd, n=100, method="inclusive")[int(q * 100) - 1]


def _naive_utc(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


def evident_at(fault: Fault) -> datetime:
    """When the fault first showed in a number, naive UTC like the queue's first_seen_at."""
    shown = (fault.detail or {}).get("evident_at")
    return _naive_utc(shown if isinstance(shown, datetime) else fault.injected_at)


def first_alarm(fault: Fault, alarms: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The earliest alarm that matches `fault` (None: not detected)."""
    hits = [a for a in alarms if matches(fault, a)]
    return min(hits, key=lambda a: a["first_seen_at"]) if hits else None


def minutes_to_detect(fault: Fault, alarm: dict[str, Any]) -> float:
    delay: timedelta = alarm["first_seen_at"] - evident_at(fault)
    return max(0.0, delay.total_seconds() / 60)


def matches(fault: Fault, alarm: dict[str, Any]) -> bool:
    """Same system and the same key: a system-level fault (no SKU) matches only system- or
    location-level alarms, so a flood of per-key alarms for a stopped sync is not credited."""
    if fault.system_id != alarm["system_id"]:
        return False
    for attr in ("canonical_sku", "canonical_location"):
        if getattr(fault, attr) != alarm.get(attr):
            return False
    external = (fault.detail or {}).get("external_sku")
    return external is None or external == alarm.get("external_id")


def score(faults: list[Fault], alarms: list[dict[str, Any]], cause_key: str | None = "cause",
          ttd_limits: dict[str, int] | None = None) -> dict[str, Tally]:
    """Per cause (of the fault for recall, of the alarm for precision) and `overall`.

    An alarm is true when it matches an injected fault on the same system and key; a fault
    is detected when any alarm matches it, with the right cause when the earliest matching
    alarm carries the fault's cause. Time to detect: that alarm's first_seen minus when the
    fault first showed in a number (`evident_at`: a stopped sync is invisible until a change
    it should have carried) or, for faults that change a number when injected, injected_at.
    `cause_key=None` scores a cause-less detector (cause accuracy 0 by construction).
    """
    tallies: dict[str, Tally] = defaultdict(Tally)
    for fault in faults:
        t = tallies[fault.cause]
        t.faults += 1
        first = first_alarm(fault, alarms)
        if first is None:
            continue
        t.detected += 1
        if cause_key is None or first[cause_key] == fault.cause:
            t.right_cause += cause_key is not None
            minutes = minutes_to_detect(fault, first)
            t.ttd.append(minutes)
            limit = (ttd_limits or {}).get(fault.system_id)
            t.on_time += limit is not None and minutes <= limit
    for alarm in alarms:
        t = tallies[str(alarm[cause_key]) if cause_key else "(no cause)"]
        t.alarms += 1
        t.true_alarms += any(matches(f, alarm) for f in faults)
    overall = Tally()
    for t in tallies.values():
        overall.add(t)
    tallies["overall"] = overall
    return dict(tallies)
