"""A second process waits for the warehouse file instead of failing (multiprocess steps)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from stockdrift.warehouse import connect

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); " \
       "time.sleep(float(sys.argv[2])); c.close()"


def hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_waits_for_another_writer(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    proc = hold(path, 1.5)
    started = time.monotonic()
    con = connect(path, wait_seconds=20)
    assert time.monotonic() - started > 0.5
    con.close()
    proc.wait()


def test_gives_up_with_duckdbs_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    proc = hold(path, 5)
    with pytest.raises(duckdb.IOException, match="lock"):
        connect(path, wait_seconds=0.5)
    proc.kill()
    proc.wait()
