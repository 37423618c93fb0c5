"""A WMS database export read over SQL, keyset-paged: never the whole table in memory.

`base_url` names the database: `sqlite:///abs/path/wms.db`, `duckdb:///abs/path/wms.duckdb`
(both opened read-only) or `postgresql://user@host:5432/dbname` (psycopg 3, read-only
transaction, `statement_timeout` = `timeout_seconds`; the password comes from
`credentials.password`, never from the URL in the config file). Options: `table` (default
`inventory`, `schema.table` allowed), `column.<field>` for sku, location, on_hand,
allocated, available, updated_at (sku, location and one quantity required), `page_size`
(default 5000). `lots_table` / `returns_table` also land the export's lot/serial and
returns tables into `raw.wms_lots` / `raw.wms_returns` in the same snapshot
(extractors/sql_wms_side.py).

Paging is by key, not offset: `where (sku, location) > (last page's last key) order by sku,
location limit N`, so each page is an index range scan on the server and a row inserted or
deleted mid-extraction cannot shift later pages. `(sku, location)` must be unique (a WMS
balance table's natural key); a page with a repeated key fails rather than skipping rows.
Incremental: `since` adds `updated_at > ?` (text ISO-8601 or timestamp columns).
Every page is one bounded `limit N` query answered by the server (never the whole table).
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
from extractors.errors import ExtractionError, Kind, redact
from extractors.side_tables import SidePage
from extractors.sql_wms_side import SideSpec, configured, text_value
from stockdrift.clock import parse_utc
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
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("sku", "location")

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None, *,
                 since: datetime | None = None, **_: Any) -> None:
        self.system, self.system_id = system, system.id
        opts = system.options
        parts = urlsplit(system.base_url)
        self.dialect = "postgresql" if parts.scheme in ("postgres", "postgresql") \
            else parts.scheme
        self.path = Path(unquote(parts.path))
        self.table = opts.get("table", "inventory")
        self.mapping = {f: opts[f"column.{f}"] for f in FIELDS if opts.get(f"column.{f}")}
        for f in ("sku", "location"):
            self.mapping.setdefault(f, f)  # a WMS export usually names them so
        self.page_size = max(1, int(opts.get("page_size", PAGE_SIZE)))
        self.since = since
        self.high_water_mark: datetime | None = None
        self.queries: list[str] = []
        self._secrets: tuple[str, ...] = ()

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
        try:
            self._check_columns(cursor)
            yield from self._main_pages(cursor, sql)
            for spec, table, mapping in configured(self.system.options):
                yield from self._side_pages(cursor, spec, table, mapping)
        finally:
            con.close()

    def _main_pages(self, cursor: _Cursor, sql: tuple[str, str]) -> Iterator[Page]:
        after: tuple[Any, Any] | None = None
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

    def _side_pages(self, cursor: _Cursor, spec: SideSpec, table: str,
                    explicit: dict[str, str]) -> Iterator[Page]:
        """One side table (lots, returns), keyset-paged on its key like the main table."""
        mapping = self._side_mapping(cursor, spec, table, explicit)
        try:
            cols = [f"{quote(mapping[f])} as {f}" if f in mapping else f"null as {f}"
                    for f in spec.table.columns]
            keys = [f"coalesce(cast({quote(mapping[f])} as varchar), '')"
                    if f in spec.nullable_key else quote(mapping[f])
                    for f in spec.key if f in mapping]
        except ValueError as exc:
            raise ExtractionError(self.system_id, "schema", url=table,
                                  detail=f"options.{spec.option}: {exc}") from None
        base = f"select {', '.join(cols + keys)} from {quote(table)}"
        # (k0 > ?) or (k0 = ? and k1 > ?) or ...: portable keyset on any number of keys
        later = " or ".join("(" + " and ".join([*(f"{k} = ?" for k in keys[:i]),
                                                  f"{keys[i]} > ?"]) + ")"
                            for i in range(len(keys)))
        order = f" order by {', '.join(keys)} limit ?"
        first, nxt = base + order, f"{base} where ({later}){order}"
        if self.dialect == "postgresql":
            first, nxt = first.replace("?", "%s"), nxt.replace("?", "%s")
        width = len(spec.table.columns)
        after: tuple[Any, ...] | None = None
        for n in range(1, MAX_PAGES + 1):
            params: list[Any] = []
            if after is not None:
                for i in range(len(keys)):
                    params += [*after[:i], after[i]]
            params.append(self.page_size)
            query = first if after is None else nxt
            label = f"{spec.prefix} {n}"
            records = self._fetch(cursor, query, params, n, None, table=table, label=label)
            rows = [self._side_row(spec, table, r[:width], label) for r in records]
            page_keys = [tuple(r[width:]) for r in records]
            if len(set(page_keys)) != len(page_keys):
                raise ExtractionError(self.system_id, "schema", url=table, page=label, detail=(
                    f"({', '.join(mapping[f] for f in spec.key if f in mapping)}) is not "
                    f"unique in {table}: keyset paging would skip rows"))
            exchange = self._exchange(query, after, rows, table=spec.table.name)
            yield SidePage([], exchange, label, {spec.table: rows})
            if len(rows) < self.page_size:
                return
            after = page_keys[-1]
        raise ExtractionError(self.system_id, "malformed", url=table,
                              detail=f"over {MAX_PAGES} pages")

    def _side_mapping(self, cursor: _Cursor, spec: SideSpec, table: str,
                      explicit: dict[str, str]) -> dict[str, str]:
        """Field -> column: an explicit `<prefix>.column.<field>` must exist, a required
        field must be found, an optional default-named column may be absent (NULL)."""
        try:
            self._fetch(cursor, f"select * from {quote(table)} limit 0", [], 0, None,
                        table=table)
        except ValueError as exc:
            raise ExtractionError(self.system_id, "schema", url=table,
                                  detail=f"options.{spec.option}: {exc}") from None
        have = {d[0].lower() for d in cursor.description}  # type: ignore[attr-defined]
        mapping: dict[str, str] = {}
        for f in spec.table.columns:
            column = explicit.get(f, f)
            if column.lower() in have:
                mapping[f] = column
            elif f in explicit or f in spec.required:
                raise ExtractionError(self.system_id, "schema", method="SELECT", url=table,
                                      detail=f"no such column: {column} in {table} (has: "
                                      f"{', '.join(sorted(have))}); set options."
                                      f"{spec.prefix}.column.{f}")
        if spec.any_of and not any(f in mapping for f in spec.any_of):
            raise ExtractionError(self.system_id, "schema", method="SELECT", url=table,
                                  detail=f"{table} has none of "
                                  f"{', '.join(spec.any_of)}; set options."
                                  f"{spec.prefix}.column.{spec.any_of[0]}")
        return mapping

    def _side_row(self, spec: SideSpec, table: str, record: Any, label: str
                  ) -> dict[str, Any]:
        row = dict(zip(spec.table.columns, record, strict=True))
        for f in spec.required:
            if row[f] is None:
                raise ExtractionError(self.system_id, "malformed", url=table, page=label,
                                      detail=f"null {f} in {table}: {row}")
        for f in spec.table.columns:
            if f in spec.integers:
                row[f] = self._whole(row[f], f"{table}.{f}", row, label)
            else:
                row[f] = text_value(row[f])
        return row

    def _whole(self, value: Any, what: str, row: dict[str, Any], page: int | str) -> int | None:
        if value is None or isinstance(value, int):
            return value
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            as_float = float("nan")
        if not as_float.is_integer():
            raise ExtractionError(self.system_id, "malformed", page=page, detail=(
                f"{what} {value!r} for {row['sku']}@{row['location']} is not a whole number"))
        return int(as_float)

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
        if self.dialect == "postgresql":  # psycopg's placeholder
            return (first + order).replace("?", "%s"), (nxt + order).replace("?", "%s")
        return first + order, nxt + order

    def _connect(self) -> tuple[Any, _Cursor]:
        if self.dialect == "postgresql":
            return self._connect_postgres()
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
                              f"scheme {self.dialect!r}; use sqlite:///, duckdb:/// or "
                              "postgresql://")

    def _connect_postgres(self) -> tuple[Any, _Cursor]:
        import psycopg

        password = self.system.credential("password") \
            if "password" in self.system.credentials else None
        self._secrets = (password,) if password else ()
        timeout_ms = int(self.system.timeout_seconds * 1000)
        try:
            con = psycopg.connect(
                self.system.base_url, password=password,
                connect_timeout=max(1, int(self.system.timeout_seconds)),
                options=f"-c statement_timeout={timeout_ms}",
            )
            con.read_only = True  # a monitor never writes to the WMS
        except psycopg.Error as exc:
            raise ExtractionError(self.system_id, "connection", url=self._where(),
                                  detail=redact(f"{type(exc).__name__}: {exc}",
                                                self._secrets)) from None
        return con, con.cursor()

    def _where(self) -> str:
        """Database and table for errors and stored exchanges: never the user or host."""
        name = self.path.name or self.path.as_posix().strip("/")
        return f"{self.dialect}:///{name}#{self.table}"

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
               after: tuple[Any, Any] | None, *, table: str | None = None,
               label: str | None = None) -> list[Any]:
        self.queries.append(query)
        label = label or (f"{page} (after {after})" if after else str(page))
        table = table or self.table
        try:
            cursor.execute(query, params)
            return cursor.fetchall()
        except sqlite3.OperationalError as exc:
            kind: Kind = "timeout" if "locked" in str(exc) or "busy" in str(exc) else "schema"
            raise ExtractionError(self.system_id, kind, method="SELECT", url=table,
                                  page=label, detail=f"{exc}") from None
        except duckdb.Error as exc:
            raise ExtractionError(self.system_id, "schema", method="SELECT", url=table,
                                  page=label, detail=f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:
            if type(exc).__module__.split(".")[0] != "psycopg":
                raise
            import psycopg

            pg_kind: Kind = "timeout" if isinstance(exc, psycopg.errors.QueryCanceled) \
                else "connection" if isinstance(exc, psycopg.OperationalError) else "schema"
            raise ExtractionError(self.system_id, pg_kind, method="SELECT", url=table,
                                  page=label, detail=redact(
                                      f"{type(exc).__name__}: {exc}".strip(),
                                      self._secrets)) from None

    def _row(self, record: Any, page: int) -> dict[str, Any]:
        row = dict(zip(FIELDS, record, strict=True))
        if row["sku"] is None or row["location"] is None:
            raise ExtractionError(self.system_id, "malformed", page=page,
                                  detail=f"null sku/location in {self.table}: {row}")
        for q in QUANTITIES:
            row[q] = self._whole(row[q], self.mapping.get(q, q), row, page)
        row["sku"], row["location"] = str(row["sku"]), str(row["location"])
        if row["updated_at"] is not None and not isinstance(row["updated_at"], str):
            row["updated_at"] = str(row["updated_at"])
        if row["updated_at"]:
            try:  # the next incremental cursor: the newest updated_at seen
                when = parse_utc(row["updated_at"].replace(" ", "T"))
            except ValueError:
                when = None
            if when is not None and (self.high_water_mark is None
                                     or when > self.high_water_mark):
                self.high_water_mark = when
        return row

    def _exchange(self, query: str, after: tuple[Any, ...] | None,
                  rows: list[dict[str, Any]], *, table: str | None = None) -> Exchange:
        body = json.dumps(rows, separators=(",", ":"), default=str).encode()
        headers = {"x-sql": query, "x-keyset-after": json.dumps(after, default=str)}
        if table is not None:
            headers["x-raw-table"] = table  # a side table's rows (replay skips them)
        return Exchange("SELECT", self._where(), 200, headers, body)
