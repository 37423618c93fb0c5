"""kill -9 of a cycle while landing, during dbt, between the outbox write and the send, and
right after a send: the previous snapshot stays intact, the rerun of the same cycle is
idempotent, and every alert reaches the sink exactly once.

Each cycle runs in a child process (`faults_child.py`) against the sandbox servers served by
this process; the suite shares one deployment and runs its cycles in order (~3 min, so it
runs under `make test-faults` only)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from faults_harness import FULL, Deployment, alert_ledger, record, rows_lost, start_deployment

from sandbox.serve import FaultMode
from stockdrift.clock import to_naive_utc

pytestmark = pytest.mark.skipif(not FULL, reason="slow: make test-faults")
CHILD = Path(__file__).resolve().parent / "faults_child.py"


def child(dep: Deployment, at: datetime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHILD), str(dep.config_path), at.isoformat(),
                           *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployment, servers = start_deployment(Path(tmp_path_factory.mktemp("crash")))
    try:
        at = deployment.next_cycle_at()
        deployment.cycle_no += 1
        deployment.clock.set(at)
        done = child(deployment, at)
        assert done.returncode == 0, done.stderr[-3000:]
        yield deployment
    finally:
        servers.stop()


def state(dep: Deployment, at: datetime) -> dict[str, object]:
    naive = to_naive_utc(at)
    return {
        "succeeded": dep.query("select system_id, count(*) from raw.snapshots where cycle_at = ? "
                               "and status = 'succeeded' group by 1 order by 1", [naive]),
        "orphan rows": sum(dep.query(
            f"select count(*) from {t} where snapshot_id not in "
            "(select snapshot_id from raw.snapshots)")[0][0]
            for t in ("raw.netsuite_inventory", "raw.shopify_inventory_levels",
                      "raw.shipbob_inventory")),
        "variance keys": dep.query("select count(*), count(distinct system_id || canonical_sku "
                                   "|| canonical_location) from marts.fct_variance"),
        "exceptions": dep.query("select count(*), count(distinct fingerprint) "
                                "from ops.exceptions"),
    }


@pytest.mark.parametrize(("point", "faulted"), [
    ("land", None), ("dbt", None), ("before-send", "shipbob"), ("after-send", "erp"),
])
def test_kill9_then_rerun_is_idempotent(dep: Deployment, point: str, faulted: str | None) -> None:
    before_lost = rows_lost(dep)
    at = dep.next_cycle_at()
    dep.cycle_no += 1
    dep.clock.set(at)
    if faulted:
        dep.servers.set_fault(faulted, FaultMode("status_500"))
    try:
        crashed = child(dep, at, "--crash", point)
        after_crash = state(dep, at)
        rerun = child(dep, at)
    finally:
        if faulted:
            dep.servers.set_fault(faulted, None)
    assert crashed.returncode == -9, (crashed.stdout, crashed.stderr[-3000:])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    final = state(dep, at)
    lost, doubled = alert_ledger(dep)
    keys = final["variance keys"]
    exc = final["exceptions"]
    checks = {
        "previous snapshots intact": rows_lost(dep) == before_lost == 0,
        "no partial rows after crash": after_crash["orphan rows"] == 0,
        "rerun idempotent": keys[0][0] == keys[0][1] and exc[0][0] == exc[0][1],  # type: ignore[index]
        "every system landed once or failed": all(n >= 1 for _, n in final["succeeded"]),  # type: ignore[attr-defined]
    }
    record("kill -9 mid-cycle", point, all(checks.values()) and not lost and not doubled,
           rows_lost(dep), lost, doubled)
    assert all(checks.values()), (checks, final)
    assert (lost, doubled) == (0, 0)


def test_two_cycles_at_once_one_refuses_clearly(dep: Deployment) -> None:
    at = dep.next_cycle_at()
    dep.cycle_no += 1
    dep.clock.set(at)
    cmd = [sys.executable, str(CHILD), str(dep.config_path), at.isoformat()]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    refused = [err for code, _, err in results if code != 0]
    final = state(dep, at)
    ok = (codes[0] == 0 and len(refused) == 1 and "another stockdrift cycle holds" in refused[0]
          and final["orphan rows"] == 0 and rows_lost(dep) == 0)
    record("concurrent cycles", "two at once, no wait", ok, rows_lost(dep))
    assert ok, (codes, [r[-2000:] for r in refused], final)


def test_two_cycles_at_once_second_waits(dep: Deployment) -> None:
    at = dep.next_cycle_at()
    dep.cycle_no += 1
    dep.clock.set(at)
    cmd = [sys.executable, str(CHILD), str(dep.config_path), at.isoformat(), "--wait", "240"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    codes = [p.wait(timeout=400) for p in procs]
    final = state(dep, at)
    lost, doubled = alert_ledger(dep)
    keys = final["variance keys"]
    ok = codes == [0, 0] and keys[0][0] == keys[0][1] and final["orphan rows"] == 0  # type: ignore[index]
    record("concurrent cycles", "two at once, second waits", ok, rows_lost(dep), lost, doubled)
    assert ok, (codes, [p.stderr.read()[-2000:] for p in procs if p.stderr], final)
    assert (lost, doubled) == (0, 0)
