"""Every connector x vendor fault through a whole cycle (extract -> dbt -> GX -> queue ->
alerts): the cycle completes, the system is failed with the vendor's cause, it raises no
drift, the other systems land and compare as usual, and no row or alert goes missing.

`make test` runs one fault per connector; `make test-faults` (STOCKDRIFT_FAULTS_FULL=1) runs
the whole 3 x 7 matrix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faults_harness import FULL, Deployment, alert_ledger, record, rows_lost, start_deployment

from sandbox.serve import FaultMode
from stockdrift.clock import to_naive_utc

FAULTS: dict[str, tuple[FaultMode, str]] = {
    "429 storm": (FaultMode("status_429", skip=1), "429"),
    "5xx": (FaultMode("status_500", skip=1), "after 5 attempts"),
    "timeout": (FaultMode("slow", skip=1, delay_s=1.3), "timed out"),
    "expired token": (FaultMode("expired_token"), "HTTP 401"),
    "malformed body": (FaultMode("malformed_body", skip=1), "body is not JSON"),
    "renamed field": (FaultMode("renamed_field", skip=1), "unexpected response schema"),
    "truncated page": (FaultMode("truncated_page", skip=1), "truncated"),
}
QUICK = [("erp", "5xx"), ("shopify", "429 storm"), ("shipbob", "truncated page")]
CASES = [(s, f) for f in FAULTS for s in ("erp", "shopify", "shipbob")] if FULL else QUICK


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment, servers = start_deployment(Path(tmp_path_factory.mktemp("matrix")))
    try:
        for _ in range(1):  # history: a healthy cycle before any fault
            deployment.cycle(alert_kwargs={"console": _quiet()})
        yield deployment
    finally:
        servers.stop()


def _quiet() -> object:
    import io

    from rich.console import Console

    return Console(file=io.StringIO())


@pytest.mark.parametrize(("system_id", "fault"), CASES)
def test_fault_cycle_marks_system_failed_without_false_drift(
    dep: Deployment, system_id: str, fault: str
) -> None:
    mode, expect = FAULTS[fault]
    dep.servers.set_fault(system_id, mode)
    try:
        outcome = dep.cycle(alert_kwargs={"console": _quiet()})
    finally:
        dep.servers.set_fault(system_id, None)
    at = to_naive_utc(dep.clock.now())
    by_system = {s.system_id: s for s in outcome.snapshots}
    failed = by_system[system_id]
    checks = {
        "failed with cause": failed.status == "failed" and expect in (failed.error_cause or ""),
        "freshness says failed": dep.query(
            "select last_status, last_error_cause from marts.fct_system_freshness "
            "where system_id = ?", [system_id]) == [("failed", failed.error_cause)],
        "extract_failed open": ("extract_failed",) in dep.query(
            "select cause from ops.exceptions where system_id = ? and status = 'open'",
            [system_id]),
        "no false drift": dep.query(
            "select cause from ops.exceptions where system_id = ? and cause <> 'extract_failed' "
            "and last_seen_at = ?", [system_id, at]) == [],
        # a failed master suppresses every comparison (nothing to compare against)
        "no unsuppressed rows": dep.query(
            "select count(*) from marts.fct_variance where (system_id = ? or ? = 'erp') "
            "and not is_suppressed", [system_id, system_id]) == [(0,)],
        "others landed": all(s.status == "succeeded" for k, s in by_system.items()
                             if k != system_id),
        "others compared": system_id == "erp" or dep.query(
            "select count(*) from marts.fct_variance where system_id not in (?, 'erp') "
            "and suppression_reason = 'extract_failed'", [system_id]) == [(0,)],
    }
    lost = rows_lost(dep)
    record("vendor fault x connector", f"{system_id}: {fault}", all(checks.values()), lost)
    assert all(checks.values()), (checks, failed.error_cause)
    assert lost == 0


def test_matrix_recovers_and_delivers_every_alert_once(dep: Deployment) -> None:
    outcome = dep.cycle(alert_kwargs={"console": _quiet()})  # all vendors healthy again
    assert all(s.status == "succeeded" for s in outcome.snapshots)
    open_failed = dep.query(
        "select system_id from ops.exceptions where cause = 'extract_failed' and status = 'open'")
    lost, doubled = alert_ledger(dep)
    record("vendor fault x connector", "recovery cycle", open_failed == [] and not lost,
           rows_lost(dep), lost, doubled)
    assert open_failed == []
    assert (lost, doubled) == (0, 0)
