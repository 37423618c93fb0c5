"""One monitoring cycle per warehouse at a time.

DuckDB already refuses a second writer process, but a cycle opens and closes the warehouse
between stages (dbt runs in between), so two cycles could interleave stage by stage: one
cycle's dbt build reading the other's half-landed snapshots. An advisory `fcntl` lock on a
file beside the warehouse (`<warehouse>.cycle.lock`) is held for the whole cycle; the kernel
drops it when the holder dies (also on kill -9), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class CycleLockedError(RuntimeError):
    """Another cycle holds the warehouse; the message names the holder."""


def lock_path(warehouse: str | Path) -> Path:
    return Path(f"{Path(warehouse).resolve()}.cycle.lock")


def holder_of(warehouse: str | Path) -> str:
    try:
        return lock_path(warehouse).read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def cycle_lock(
    warehouse: str | Path, *, wait_seconds: float = 0.0, label: str = "cycle", poll: float = 0.2
) -> Iterator[Path]:
    """Hold the warehouse's cycle lock; wait up to `wait_seconds`, then refuse clearly."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CycleLockedError(
                        f"another stockdrift cycle holds {path} ({holder_of(warehouse)}); "
                        f"waited {wait_seconds:.0f}s. Let it finish, or if no stockdrift "
                        "process is running, retry (the lock is released when its holder exits)."
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} {label}\n".encode())
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the flock
