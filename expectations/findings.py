"""A finding: one failing row of an expectation, carrying what the exception queue needs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    cause: str
    system_id: str | None
    canonical_sku: str | None
    canonical_location: str | None
    external_id: str | None
    severity: str
    severity_score: float
    title: str
    probable_cause: str
    suggested_check: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            self.cause,
            self.system_id,
            self.canonical_sku,
            self.canonical_location,
            self.external_id,
        )


def fingerprint(*parts: str | None) -> str:
    """Stable across cycles and runs: the identity of 'this problem at this key'."""
    text = "|".join("" if p is None else p for p in parts)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Scope:
    """What a suite evaluated this cycle. Open exceptions inside an evaluated scope that no
    longer fail are resolved by the data; those outside it (e.g. a system whose extraction
    failed) keep their state, because not looking is not the same as fixed."""

    causes: frozenset[str]
    system_ids: frozenset[str] | None = None  # None = every system
    # When set, only these (system, canonical location) pairs were evaluated.
    system_locations: frozenset[tuple[str, str]] | None = None

    def covers(self, cause: str, system_id: str | None, location: str | None) -> bool:
        if cause not in self.causes:
            return False
        if self.system_ids is not None and system_id not in self.system_ids:
            return False
        if self.system_locations is None:
            return True
        return (system_id or "", location or "") in self.system_locations


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated_rows: int
    failed_rows: int
    findings: list[Finding]
    scope: Scope
    expectations: list[dict[str, Any]] = field(default_factory=list)
