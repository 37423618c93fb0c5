"""A WMS database export read over SQL, keyset-paged: never the whole table in memory.

`base_url` names the database: `sqlite:///abs/path/wms.db` or `duckdb:///abs/path/wms.duckdb`
(opened read-only). Options: `table` (default `inventory`, `schema.table` allowed),
`column.<field>` for sku, location, on_hand, allocated, available, updated_at (sku, location
and one quantity required), `page_size` (default 5000).

Paging is by key, not offset: `where (sku, location) > (last page's last key) order by sku,
location limit N`, so each page is an index range scan on the server and a row inserted or
deleted mid-extraction cannot shift later pages. `(sku, location)` must be unique (a WMS
balance table's natural key); a page with a repeated key fails rather than skipping rows.
Incremental: `since` adds `updated_at > ?` (text ISO-8601 or timestamp columns).
PostgreSQL is not wired (no driver in the stack); the SQL is portable.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import duckdb
import httpx

from extractors.base import Exchange, Page
from extractors.errors import ExtractionError, Kind
from stockdrift.config import SystemConfig

FIELDS = ("sku", "location", "on_hand", "allocated", "available", "updated_at")
QUANTITIES = ("on_hand", "allocated", "available")
COLUMNS: tuple[str, ...] = FIELDS
PAGE_SIZE = 5000
MAX_PAGES = 1_000_000
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class _Cursor(Protocol):
    def execute(self, sql: str, params: list[Any]) -> Any: ...
    def fetchall(self) -> list[Any]: ...


def quote(identifier: str) -> str:
    if not _IDENT.match(identifier):
        raise ValueError(f"{identifier!r} is not a plain SQL identifier")
    return ".".join(f'"{part}"' for part in identifier.split("."))


class SqlWmsConnector:
    system_id: str
    raw_table = "wms_inventory"
    columns = COLUMNS

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None, *,
                 since: datetime | None = None, **_: Any) -> None:
        self.system, self.system_id = system, system.id
        opts = system.options
        parts = urlsplit(system.base_url)
        self.dialect = parts.scheme
        self.path = Path(unquote(parts.path))
        self.table = opts.get("table", "inventory")
        self.mapping = {f: opts[f"column.{f}"] for f in FIELDS if opts.get(f"column.{f}")}
        for f in ("sku", "location"):
            self.mapping.setdefault(f, f)  # a WMS export usually names them so
        self.page_size = max(1, int(opts.get("page_size", PAGE_SIZE)))
        self.since = since
        self.queries: list[str] = []

    def source_as_of(self) -> datetime | None:
        return None

    def pages(self) -> Iterator[Page]:
        if not any(q in self.mapping for q in QUANTITIES):
            raise ExtractionError(self.system_id, "schema", detail="options need at least "
                                  "one of column.on_hand/allocated/available")
        try:
            sql = self._sql()
        except ValueError as exc:
            raise ExtractionError(self.system_id, "schema", detail=str(exc)) from None
        con, cursor = self._connect()
        after: tuple[Any, Any] | None = None
        try:
            self._check_columns(cursor)
            for n in range(1, MAX_PAGES + 1):
                params: list[Any] = []
                if self.since is not None:
                    params.append(self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"))
                query = sql[after is not None]
                if after is not None:
                    params += [after[0], after[0], after[1]]
                params.append(self.page_size)
                records = self._fetch(cursor, query, params, n, after)
                rows = [self._row(r, n) for r in records]
                if n == 1 and not rows and self.since is None:  # never zero stock by default
                    raise ExtractionError(self.system_id, "malformed", method="SELECT",
                                          url=self.table, page=n, detail=f"{self.table} is "
                                          "empty: an export that failed, not zero stock")
                keys = [(r["sku"], r["location"]) for r in rows]
                if len(set(keys)) != len(keys):
                    raise ExtractionError(self.system_id, "schema", page=n, detail=(
                        f"({self.mapping['sku']}, {self.mapping['location']}) is not unique "
                        f"in {self.table}: keyset paging would skip rows"))
                yield Page(rows, self._exchange(query, after, rows), str(n))
                if len(rows) < self.page_size:
                    return
                after = keys[-1]
            raise ExtractionError(self.system_id, "malformed", detail=f"over {MAX_PAGES} pages")
        finally:
            con.close()

    def _sql(self) -> tuple[str, str]:
        cols = ", ".join(f"{quote(self.mapping[f])} as {f}" if f in self.mapping
                         else f"null as {f}" for f in FIELDS)
        sku, loc = quote(self.mapping["sku"]), quote(self.mapping["location"])
        where = [f"{quote(self.mapping['updated_at'])} > ?"] if self.since is not None \
            and "updated_at" in self.mapping else []
        if self.since is not None and "updated_at" not in self.mapping:
            raise ValueError("incremental extraction needs options column.updated_at")
        base = f"select {cols} from {quote(self.table)}"
        first = base + (f" where {where[0]}" if where else "")
        key = f"({sku} > ? or ({sku} = ? and {loc} > ?))"
        nxt = base + " where " + " and ".join([*where, key])
        order = f" order by {sku}, {loc} limit ?"
        return first + order, nxt + order

    def _connect(self) -> tuple[Any, _Cursor]:
        if not self.path.exists():
            raise ExtractionError(self.system_id, "connection", url=self.path.name,
                                  detail=f"database file {self.path} does not exist")
        try:
            if self.dialect == "sqlite":
                con: Any = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                           timeout=self.system.timeout_seconds)
                return con, con.cursor()
            if self.dialect == "duckdb":
                con = duckdb.connect(str(self.path), read_only=True)
                return con, con
        except (sqlite3.Error, duckdb.Error) as exc:
            raise ExtractionError(self.system_id, "connection", url=self.path.name,
                                  detail=f"{type(exc).__name__}: {exc}") from None
        raise ExtractionError(self.system_id, "schema", detail=f"unsupported database URL "
                              f"scheme {self.dialect!r}; use sqlite:/// or duckdb:///")

    def _check_columns(self, cursor: Any) -> None:
        """Name a missing column up front (SQLite would read an unknown "quoted" identifier
        as a string literal)."""
        self._fetch(cursor, f"select * from {quote(self.table)} limit 0", [], 0, None)
        have = {d[0].lower() for d in cursor.description}
        missing = sorted(c for c in self.mapping.values() if c.lower() not in have)
        if missing:
            raise ExtractionError(self.system_id, "schema", method="SELECT", url=self.table,
                                  detail=f"no such column: {', '.join(missing)} in "
                                  f"{self.table} (has: {', '.join(sorted(have))})")

    def _fetch(self, cursor: _Cursor, query: str, params: list[Any], page: int,
               after: tuple[Any, Any] | None) -> list[Any]:
        self.queries.append(query)
        label = f"{page} (after {after})" if after else str(page)
        try:
            cursor.execute(query, params)
            return cursor.fetchall()
        except sqlite3.OperationalError as exc:
            kind: Kind = "timeout" if "locked" in str(exc) or "busy" in str(exc) else "schema"
            raise ExtractionError(self.system_id, kind, method="SELECT", url=self.table,
                                  page=label, detail=f"{exc}") from None
        except duckdb.Error as exc:
            raise ExtractionError(self.system_id, "schema", method="SELECT", url=self.table,
                                  page=label, detail=f"{type(exc).__name__}: {exc}") from None

    def _row(self, record: Any, page: int) -> dict[str, Any]:
        row = dict(zip(FIELDS, record, strict=True))
        if row["sku"] is None or row["location"] is None:
            raise ExtractionError(self.system_id, "malformed", page=page,
                                  detail=f"null sku/location in {self.table}: {row}")
        for q in QUANTITIES:
            value = row[q]
            if value is not None and not isinstance(value, int):
                try:
                    as_float = float(value)
                except (TypeError, ValueError):
                    as_float = float("nan")
                if not as_float.is_integer():
                    raise ExtractionError(self.system_id, "malformed", page=page, detail=(
                        f"{self.mapping.get(q, q)} {value!r} for {row['sku']}@"
                        f"{row['location']} is not a whole number"))
                row[q] = int(as_float)
        row["sku"], row["location"] = str(row["sku"]), str(row["location"])
        if row["updated_at"] is not None and not isinstance(row["updated_at"], str):
            row["updated_at"] = str(row["updated_at"])
        return row

    def _exchange(self, query: str, after: tuple[Any, Any] | None,
                  rows: list[dict[str, Any]]) -> Exchange:
        body = json.dumps(rows, separators=(",", ":"), default=str).encode()
        headers = {"x-sql": query, "x-keyset-after": json.dumps(after, default=str)}
        return Exchange("SELECT", f"{self.dialect}:///{self.path.name}#{self.table}", 200,
                        headers, body)
