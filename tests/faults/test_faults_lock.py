"""The cycle lock (stockdrift/locking.py) between real processes: a second cycle refuses
clearly naming the holder, or waits for it; a holder killed with SIGKILL releases it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults_harness import record

from stockdrift.locking import CycleLockedError, cycle_lock, lock_path

HOLD = ("import sys, time\nfrom stockdrift.locking import cycle_lock\n"
        "with cycle_lock(sys.argv[1], label='holder'):\n"
        "    print('locked', flush=True)\n    time.sleep(float(sys.argv[2]))\n")


def holder(warehouse: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_cycle_refuses_naming_the_holder(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    proc = holder(warehouse, 30)
    try:
        with pytest.raises(CycleLockedError) as err, cycle_lock(warehouse):
            pass
    finally:
        proc.kill()
        proc.wait()
    ok = f"pid {proc.pid} holder" in str(err.value) and str(lock_path(warehouse)) in str(err.value)
    record("concurrent cycles", "lock: refuse naming holder", ok)
    assert ok, str(err.value)


def test_second_cycle_waits_for_the_first(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    proc = holder(warehouse, 1.0)
    t0 = time.monotonic()
    with cycle_lock(warehouse, wait_seconds=30, poll=0.05):
        waited = time.monotonic() - t0
    proc.wait()
    ok = 0.3 < waited < 30
    record("concurrent cycles", "lock: wait for holder", ok)
    assert ok, waited


def test_kill9_of_holder_releases_the_lock(tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    proc = holder(warehouse, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with cycle_lock(warehouse, wait_seconds=2):  # no stale lock after a crash
        ok = True
    record("kill -9 mid-cycle", "lock holder killed", ok)
