"""Land one snapshot atomically: rows, payloads and the raw.snapshots row in one transaction.

On any failure the rows roll back and a `failed` snapshot row is written in a second
transaction, together with the payloads received so far (forensics). A failed extraction is
never zero stock: downstream sees "failed", not an empty inventory.
"""

from __future__ import annotations

import gzip
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import duckdb

from extractors.base import Connector, Exchange, Page
from extractors.cursors import Plan, advance_cursor
from extractors.errors import ExtractionError, redact, redact_bytes
from extractors.row_insert import insert_rows
from extractors.side_tables import insert_side_rows
from stockdrift.clock import Clock, to_naive_utc
from stockdrift.config import ConfigError, SystemConfig

log = logging.getLogger(__name__)

Status = Literal["succeeded", "failed"]


@dataclass(frozen=True)
class SnapshotResult:
    snapshot_id: str
    system_id: str
    status: Status
    row_count: int
    pages: int
    attempts: int  # HTTP requests sent, retries included
    started_at: datetime
    finished_at: datetime
    source_as_of: datetime | None
    error_cause: str | None
    mode: str = "full"  # full | incremental (extractors/cursors.py)


def new_snapshot_id(system_id: str, cycle_at: datetime) -> str:
    return f"{system_id}-{to_naive_utc(cycle_at):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def system_secrets(system: SystemConfig) -> tuple[str, ...]:
    """Every credential value this system can see, for redaction (unset ones are skipped)."""
    values = []
    for name in system.credentials:
        try:
            values.append(system.credential(name))
        except ConfigError:
            continue
    return tuple(values)


def land_snapshot(
    con: duckdb.DuckDBPyConnection,
    system: SystemConfig,
    connector: Connector,
    cycle_at: datetime,
    clock: Clock,
    plan: Plan | None = None,
) -> SnapshotResult:
    """Extract and land one snapshot. Never raises for extraction failures.

    `plan` (extractors/cursors.py) says full or incremental; an incremental snapshot is
    landed complete: the changed rows plus every row of the base snapshot they do not
    replace. The system's cursor advances in the same transaction."""
    plan = plan or Plan("full")
    snapshot_id = new_snapshot_id(system.id, cycle_at)
    secrets = system_secrets(system)
    started_at = clock.now()
    received: list[Exchange] = []
    row_count = 0
    pages: Iterator[Page] | None = None
    con.execute("begin transaction")
    try:
        pages = connector.pages()
        for page in pages:
            received.append(page.exchange)
            insert_rows(con, connector.raw_table, connector.columns, snapshot_id, page.rows)
            insert_side_rows(con, snapshot_id, page)  # lots/returns: same transaction
            _insert_payload(con, snapshot_id, len(received), page.exchange, secrets)
            row_count += len(page.rows)
        finished_at = clock.now()
        source_as_of = connector.source_as_of() or finished_at
        attempts = sum(e.attempts for e in received)
        changed = row_count
        if plan.mode == "incremental":
            assert plan.base_snapshot_id is not None
            row_count += merge_base_rows(con, connector, snapshot_id, plan.base_snapshot_id)
        con.execute("insert into raw.snapshot_modes values (?, ?, ?, ?, ?, null)", [
            snapshot_id, plan.mode, plan.base_snapshot_id, changed,
            None if plan.since is None else plan.since.isoformat()])
        advance_cursor(con, system.id, plan, snapshot_id,
                       getattr(connector, "high_water_mark", None), finished_at)
        _insert_snapshot(
            con, snapshot_id, system, cycle_at, started_at, finished_at, source_as_of,
            "succeeded", row_count, len(received), attempts, None,
        )
        con.execute("commit")
    except Exception as exc:  # any connector or insert failure fails this snapshot only
        con.execute("rollback")
        close = getattr(pages, "close", None)
        if close is not None:
            close()  # a generator suspended by an insert error releases its HTTP client
        finished_at = clock.now()
        attempts = sum(e.attempts for e in received)
        if isinstance(exc, ExtractionError):
            cause = exc.redacted(secrets)
            if exc.exchange is not None and exc.exchange not in received:
                received.append(exc.exchange)  # the failing response is evidence too
                attempts += exc.attempts
            elif exc.exchange is None:
                attempts += exc.attempts  # transport failures: no response to keep
        else:
            cause = redact(f"{system.id}: {type(exc).__name__}: {exc}", secrets)
        log.warning("snapshot %s failed: %s", snapshot_id, cause)
        _write_failed(
            con, snapshot_id, system, cycle_at, started_at, finished_at, received, attempts,
            cause, secrets,
        )
        return SnapshotResult(
            snapshot_id, system.id, "failed", 0, len(received), attempts,
            started_at, finished_at, None, cause, plan.mode,
        )
    return SnapshotResult(
        snapshot_id, system.id, "succeeded", row_count, len(received), attempts,
        started_at, finished_at, source_as_of, None, plan.mode,
    )


def merge_base_rows(con: duckdb.DuckDBPyConnection, connector: Connector, snapshot_id: str,
                    base_snapshot_id: str) -> int:
    """Copy the base snapshot's rows whose key the incremental answer did not send (set
    based, one statement); returns how many were copied."""
    keys = getattr(connector, "key_columns", None)
    if not keys:
        raise ValueError(f"{connector.system_id}: connector has no key_columns; it cannot "
                         "land an incremental snapshot")
    table, cols = f"raw.{connector.raw_table}", ", ".join(connector.columns)
    same = " and ".join(f"n.{k} is not distinct from b.{k}" for k in keys)
    before = _count(con, table, snapshot_id)
    con.execute(
        f"insert into {table} (snapshot_id, {cols}) select ?, {cols} from {table} b "
        f"where b.snapshot_id = ? and not exists (select 1 from {table} n "
        f"where n.snapshot_id = ? and {same})",
        [snapshot_id, base_snapshot_id, snapshot_id])
    return _count(con, table, snapshot_id) - before


def _count(con: duckdb.DuckDBPyConnection, table: str, snapshot_id: str) -> int:
    row = con.execute(f"select count(*) from {table} where snapshot_id = ?",
                      [snapshot_id]).fetchone()
    return int(row[0]) if row else 0


def _write_failed(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    system: SystemConfig,
    cycle_at: datetime,
    started_at: datetime,
    finished_at: datetime,
    received: Sequence[Exchange],
    attempts: int,
    cause: str,
    secrets: Sequence[str],
) -> None:
    con.execute("begin transaction")
    try:
        for seq, exchange in enumerate(received, 1):
            _insert_payload(con, snapshot_id, seq, exchange, secrets)
        _insert_snapshot(
            con, snapshot_id, system, cycle_at, started_at, finished_at, None,
            "failed", 0, len(received), attempts, cause,
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise  # the warehouse itself is broken: that is not an extraction failure


def _insert_payload(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    seq: int,
    exchange: Exchange,
    secrets: Sequence[str],
) -> None:
    # Redacted again here: a vendor error body could echo a token back.
    headers = {k: redact(v, secrets) for k, v in exchange.headers.items()}
    con.execute(
        "insert into raw.payloads values (?, ?, ?, ?, ?, ?, ?)",
        [
            snapshot_id, seq, exchange.method, redact(exchange.url, secrets),
            exchange.status_code, json.dumps(headers),
            gzip.compress(redact_bytes(exchange.body, secrets), mtime=0),
        ],
    )


def _insert_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    system: SystemConfig,
    cycle_at: datetime,
    started_at: datetime,
    finished_at: datetime,
    source_as_of: datetime | None,
    status: Status,
    row_count: int,
    pages: int,
    attempts: int,
    error_cause: str | None,
) -> None:
    con.execute(
        "insert into raw.snapshots (snapshot_id, system_id, connector, cycle_at, started_at, "
        "finished_at, source_as_of, status, row_count, pages, attempts, error_cause) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            snapshot_id, system.id, system.connector, to_naive_utc(cycle_at),
            to_naive_utc(started_at), to_naive_utc(finished_at),
            None if source_as_of is None else to_naive_utc(source_as_of),
            status, row_count, pages, attempts, error_cause,
        ],
    )
