"""Re-land a snapshot from its stored payloads without calling the vendor.

The connector itself runs again, with the system's own config, against a transport that
answers every request from `raw.payloads` (gunzipped) instead of the network: requests are
matched by method, path and query, plus the request-body digest for POSTs to one URL
(`x-stockdrift-request-sha256`, stored with every answer). Token endpoints (LWA, Square
ObtainToken) get a placeholder token, and credentials are never read, so a replay needs
neither the vendor nor its secrets. The same parsing and validation run, so a replay
produces the rows the snapshot landed (or, after a parser fix, the corrected ones).

Re-landing replaces the snapshot's rows in place (same snapshot id, one transaction;
an incremental snapshot is re-merged onto its base) and stamps
`raw.snapshot_modes.replayed_at`. `check=True` only compares. Failed snapshots are not
replayed: they have no rows to re-land, and their cause is already stored.
File connectors (EDI 846, CSV drop) store every file they read as a payload: replay writes
those bytes into a scratch drop folder under their original names and runs the connector on
it (the live drop folder is never touched). SQL WMS pages store the rows they read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import httpx

from extractors.base import REQUEST_DIGEST, Connector, Exchange, Page
from extractors.cursors import Plan
from extractors.landing import merge_base_rows
from extractors.registry import build_connector
from extractors.row_insert import insert_rows
from stockdrift.clock import parse_utc, to_naive_utc
from stockdrift.config import SystemConfig

PLACEHOLDER = "stockdrift-replay"
TOKEN_PATHS = ("/auth/o2/token", "/oauth2/token")
FILE_CONNECTORS = frozenset({"edi846", "csv_drop"})
_HOP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ReplayError(ValueError):
    """A snapshot that cannot be re-landed; the message names it and why."""


@dataclass(frozen=True)
class ReplayResult:
    snapshot_id: str
    system_id: str
    rows: int
    same_rows: bool  # the replayed rows equal the rows stored for the snapshot
    written: bool


class _ReplaySystem(SystemConfig):
    def credential(self, name: str) -> str:
        return PLACEHOLDER  # stored answers need no secret; nothing is sent anywhere


@dataclass
class _Stored:
    method: str
    path: str
    digest: str | None
    status: int
    headers: dict[str, str]
    body: bytes


class ReplayTransport(httpx.MockTransport):
    """Serves stored answers; a request with no stored answer is an error naming it."""

    def __init__(self, snapshot_id: str, stored: list[_Stored]) -> None:
        self.snapshot_id = snapshot_id
        self.unused = stored
        self.served = 0
        super().__init__(self._answer)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii", "replace")
        if request.method == "POST" and request.url.path.endswith(TOKEN_PATHS):
            return httpx.Response(200, json={
                "access_token": PLACEHOLDER, "token_type": "bearer", "expires_in": 3600,
                "expires_at": "2999-01-01T00:00:00Z"})
        body = request.content if request.method != "GET" else b""
        digest = hashlib.sha256(body).hexdigest() if body else None
        for i, s in enumerate(self.unused):
            if s.method == request.method and s.path == path and \
                    (s.digest is None or s.digest == digest):
                del self.unused[i]
                self.served += 1
                return httpx.Response(s.status, headers=s.headers, content=s.body)
        raise ReplayError(f"snapshot {self.snapshot_id}: no stored answer for "
                          f"{request.method} {path} (the payloads differ from what this "
                          "connector and config ask for: was the system's config changed?)")


def replay_snapshot(con: duckdb.DuckDBPyConnection, systems: Mapping[str, SystemConfig],
                    snapshot_id: str, *, check: bool = False,
                    now: datetime | None = None) -> ReplayResult:
    """Re-land (or with `check`, only compare) one snapshot; `systems` by id is the running
    config (`{s.id: s for s in cfg.systems}`)."""
    snap = con.execute("select system_id, connector, status, error_cause from raw.snapshots "
                       "where snapshot_id = ?", [snapshot_id]).fetchone()
    if snap is None:
        raise ReplayError(f"snapshot {snapshot_id} not found in raw.snapshots")
    system_id, connector_name, status, cause = snap
    if status != "succeeded":
        raise ReplayError(f"snapshot {snapshot_id} {status} ({cause}); only succeeded "
                          "snapshots have rows to re-land")
    system = systems.get(system_id)
    if system is None:
        raise ReplayError(f"snapshot {snapshot_id}: system {system_id} is not in the config")
    if system.connector != connector_name:
        raise ReplayError(f"snapshot {snapshot_id} came from connector {connector_name}, but "
                          f"systems[{system_id}] is now {system.connector}")
    mode = con.execute("select mode, base_snapshot_id, cursor_value from raw.snapshot_modes "
                       "where snapshot_id = ?", [snapshot_id]).fetchone()
    plan = Plan("full") if mode is None or mode[0] != "incremental" else Plan(
        "incremental", since=parse_utc(mode[2]), base_snapshot_id=mode[1])
    with tempfile.TemporaryDirectory(prefix="stockdrift-replay-") as scratch:
        connector = _connector(con, system, snapshot_id, plan, Path(scratch))
        rows = [row for page in connector.pages() for row in page.rows]
    table, cols = f"raw.{connector.raw_table}", connector.columns
    same = _same(con, table, cols, snapshot_id, rows, plan)
    if check:
        return ReplayResult(snapshot_id, system_id, len(rows), same, False)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {table} where snapshot_id = ?", [snapshot_id])
        insert_rows(con, connector.raw_table, cols, snapshot_id, rows)
        total = len(rows)
        if plan.mode == "incremental" and plan.base_snapshot_id:
            total += merge_base_rows(con, connector, snapshot_id, plan.base_snapshot_id)
        con.execute("update raw.snapshots set row_count = ? where snapshot_id = ?",
                    [total, snapshot_id])
        stamp = to_naive_utc(now) if now else None
        con.execute(
            "insert into raw.snapshot_modes (snapshot_id, mode, changed_rows, replayed_at) "
            "values (?, ?, ?, coalesce(?, current_timestamp::timestamp)) "
            "on conflict (snapshot_id) do update set replayed_at = excluded.replayed_at",
            [snapshot_id, plan.mode, len(rows), stamp])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return ReplayResult(snapshot_id, system_id, len(rows), same, True)


def snapshots_in_range(con: duckdb.DuckDBPyConnection, system_id: str,
                       since: datetime | None, until: datetime | None) -> list[str]:
    """Succeeded snapshots of one system by cycle time (inclusive bounds), oldest first."""
    rows = con.execute(
        "select snapshot_id from raw.snapshots where system_id = ? and status = 'succeeded' "
        "and (? is null or cycle_at >= ?) and (? is null or cycle_at <= ?) "
        "order by cycle_at, started_at",
        [system_id, *([None if since is None else to_naive_utc(since)] * 2),
         *([None if until is None else to_naive_utc(until)] * 2)]).fetchall()
    return [str(r[0]) for r in rows]


def _connector(con: duckdb.DuckDBPyConnection, system: SystemConfig, snapshot_id: str,
               plan: Plan, scratch: Path) -> Connector:
    replay_system = _ReplaySystem.model_validate(system.model_dump())
    if system.connector in FILE_CONNECTORS:
        files = list(_stored(con, snapshot_id))
        if not files:
            raise ReplayError(f"snapshot {snapshot_id}: no stored file to re-read")
        for stored in files:  # the files as read, under their own names
            (scratch / PurePosixPath(stored.path).name).write_bytes(stored.body)
        return build_connector(replay_system.model_copy(update={"base_url": scratch.as_uri()}))
    if system.connector == "sql_wms":
        return _SqlPages(build_connector(replay_system), con, snapshot_id)
    transport = ReplayTransport(snapshot_id, list(_stored(con, snapshot_id)))
    base = system.base_url
    connector: Any = build_connector(
        replay_system, httpx.Client(base_url=base, transport=transport), since=plan.since)
    connector._async_client = httpx.AsyncClient(base_url=base, transport=transport)
    connector._sleep = lambda _s: None  # stored answers: no throttle to wait out
    return connector  # type: ignore[no-any-return]


def _stored(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> Iterator[_Stored]:
    for method, url, status, headers, body in con.execute(
            "select method, url, status_code, response_headers, body_gzip from raw.payloads "
            "where snapshot_id = ? and status_code between 200 and 299 order by seq",
            [snapshot_id]).fetchall():
        kept = {k: v for k, v in json.loads(headers or "{}").items() if k not in _HOP_HEADERS}
        yield _Stored(method, httpx.URL(url).raw_path.decode("ascii", "replace"),
                      kept.pop(REQUEST_DIGEST, None), int(status), kept,
                      gzip.decompress(body))


class _SqlPages:
    """SQL WMS pages store the rows they read (JSON): replay decodes them."""

    def __init__(self, inner: Connector, con: duckdb.DuckDBPyConnection,
                 snapshot_id: str) -> None:
        self.system_id, self.raw_table = inner.system_id, inner.raw_table
        self.columns = inner.columns
        self.key_columns = getattr(inner, "key_columns", ())
        self._con, self._snapshot_id = con, snapshot_id

    def pages(self) -> Iterator[Page]:
        for s in _stored(self._con, self._snapshot_id):
            if "x-raw-table" in s.headers:
                continue  # a side table's rows (lots, returns): replay re-lands the main one
            rows = json.loads(s.body)
            yield Page(rows, Exchange(s.method, s.path, s.status, s.headers, s.body))

    def source_as_of(self) -> datetime | None:
        return None


def _same(con: duckdb.DuckDBPyConnection, table: str, cols: tuple[str, ...],
          snapshot_id: str, rows: list[dict[str, Any]], plan: Plan) -> bool:
    """The replayed rows equal the stored ones (for an incremental snapshot: the stored
    rows minus those merged from its base are the changed rows)."""
    stored = Counter(tuple(r) for r in con.execute(
        f"select {', '.join(cols)} from {table} where snapshot_id = ?",
        [snapshot_id]).fetchall())
    replayed = Counter(tuple(r.get(c) for c in cols) for r in rows)
    if plan.mode == "full":
        return stored == replayed
    return not (replayed - stored)  # every changed row is in the stored snapshot
