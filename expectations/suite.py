"""A suite as code: the candidate rows (SQL over a mart), the expectations GX evaluates on
them, and how a failing row becomes a finding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from expectations.findings import Finding, Scope, SuiteOutcome
from expectations.gx_engine import validate


@dataclass(frozen=True)
class Suite:
    name: str
    mart: str
    # SQL selecting candidate rows; must not select row_id (added here).
    sql: str
    expectations: Callable[[], list[Any]]
    to_finding: Callable[[dict[str, Any]], Finding]
    scope: Callable[[duckdb.DuckDBPyConnection], Scope]
    # Table-level expectations (e.g. "no unmapped keys") return no row ids: when one fails,
    # every candidate row is a finding.
    table_level: bool = False

    def run(self, con: duckdb.DuckDBPyConnection) -> SuiteOutcome:
        frame = con.execute(f"select row_number() over () as row_id, q.* from ({self.sql}) q").df()
        outcomes = validate(self.name, frame, self.expectations()) if len(frame) else []
        failing: set[int] = set()
        for outcome in outcomes:
            failing |= outcome.unexpected_row_ids
            if self.table_level and not outcome.success:
                failing |= {int(i) for i in frame["row_id"]}
        records = frame[frame["row_id"].isin(failing)].to_dict("records") if failing else []
        findings = [self.to_finding(_clean(r)) for r in records]
        return SuiteOutcome(
            suite=self.name,
            success=all(o.success for o in outcomes),
            evaluated_rows=len(frame),
            failed_rows=len(failing),
            findings=findings,
            scope=self.scope(con),
            expectations=[
                {"type": o.expectation, "success": o.success, "failed": len(o.unexpected_row_ids)}
                for o in outcomes
            ],
        )


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    """pandas hands back NaN/NaT/numpy scalars; findings want plain Python values."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
