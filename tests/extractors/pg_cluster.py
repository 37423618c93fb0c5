"""A throwaway PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl start on a free
port (loopback + a socket in the temp dir), trust auth, stopped and deleted afterwards.

Binaries: PATH (e.g. /usr/local/bin), else Debian's /usr/lib/postgresql/<ver>/bin. Without
them the test skips, unless STOCKDRIFT_REQUIRE_POSTGRES=1 (CI), where it fails. PostgreSQL
refuses to run as root: as root the cluster runs as an unprivileged user (`postgres` if it
exists, else `nobody`) via runuser, in a temp dir that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    debian = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                    key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return debian[-1] if debian else None


def _unavailable(reason: str) -> None:
    if os.environ.get("STOCKDRIFT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required (STOCKDRIFT_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Yields a connection URL `postgresql://postgres@127.0.0.1:<port>/postgres`."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not initdb or not pg_ctl:
        _unavailable("initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin")
    assert initdb and pg_ctl
    prefix: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            try:
                owner = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if owner is None or not shutil.which("runuser"):
            _unavailable("running as root without a postgres/nobody user or runuser")
        assert owner is not None
        prefix = ["runuser", "-u", owner.pw_name, "--"]
    root = Path(tempfile.mkdtemp(prefix="stockdrift-pg-"))
    data = root / "data"
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust",
                        "--no-sync", "-E", "UTF8"], check=True, capture_output=True,
                       timeout=120)
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60",
                        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True, timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"could not start PostgreSQL: {detail.decode(errors='replace')} {text}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
