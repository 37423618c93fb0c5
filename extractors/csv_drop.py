"""CSV files from a drop folder with a declared column mapping, each file processed once.

Options (all strings, `stockdrift.example.yml`):
- `column.<field>`: the CSV header holding a canonical field; `column.sku` and at least one
  quantity (`on_hand`, `available`, `committed`, `incoming`) are required; `location` and
  `updated_at` are optional (`default_location` fills a missing location).
- `encoding`: `auto` (BOM, then strict UTF-8, then cp1252) or a declared codec (strict).
- `delimiter`: one character, or `auto` (sniffed among `,` `;` tab `|`).
- `pattern`: file name patterns (default `*.csv`); `max_bad_row_share` (default 0.5).

Header check: every mapped column must be present, exactly once. A file failing it (or
undecodable, or with more bad rows than `max_bad_row_share`, i.e. probably a wrong mapping)
is moved to `rejected/` and fails the snapshot naming the file and the problem. Otherwise a
bad row (wrong field count, empty sku, non-integer quantity) is quarantined: one JSON line in
`quarantine/<file>.rejects.jsonl` with file, row, field, error and the raw line kept.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from extractors.base import Page
from extractors.drop_folder import DropFolder, file_exchange
from extractors.errors import ExtractionError
from stockdrift.clock import parse_utc
from stockdrift.config import SystemConfig

QUANTITIES = ("on_hand", "available", "committed", "incoming")
FIELDS = ("sku", "location", *QUANTITIES, "updated_at")
COLUMNS: tuple[str, ...] = ("file_name", "row_number", *FIELDS)


class FileRejected(ValueError):
    pass


def decode(data: bytes, encoding: str) -> tuple[str, str]:
    """(text, codec used). Declared encodings are strict: a wrong byte names its offset."""
    candidates = [encoding] if encoding != "auto" else []
    if not candidates:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            candidates = ["utf-16"]
        else:
            candidates = ["utf-8-sig", "cp1252"]
    last: UnicodeDecodeError | None = None
    for codec in candidates:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError as exc:
            last = exc
        except LookupError:
            raise FileRejected(f"unknown encoding {codec!r} in options.encoding") from None
    assert last is not None
    raise FileRejected(f"not {'/'.join(candidates)}: byte {last.object[last.start]:#04x} at "
                       f"offset {last.start} ({last.reason})")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str], str]]:
    """(physical line number, fields, raw text) per CSV record, quoted newlines included."""
    lines = text.splitlines(keepends=True)
    consumed: list[str] = []
    line_no = 0

    def feed() -> Iterator[str]:
        nonlocal line_no
        for line in lines:
            line_no += 1
            consumed.append(line)
            yield line

    for fields in csv.reader(feed(), delimiter=delimiter):
        raw = "".join(consumed).rstrip("\r\n")
        start = line_no - len(consumed) + 1
        consumed.clear()
        yield start, fields, raw


class CsvDropConnector:
    system_id: str
    raw_table = "csv_drop_inventory"
    columns = COLUMNS

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None,
                 **_: Any) -> None:
        self.system, self.system_id = system, system.id
        opts = system.options
        patterns = opts.get("pattern", "*.csv").split(",")
        self.folder = DropFolder(system.id, system.base_url, patterns)
        self.mapping = {f: opts[f"column.{f}"] for f in FIELDS if opts.get(f"column.{f}")}
        self.encoding = opts.get("encoding", "auto")
        self.delimiter = opts.get("delimiter", "auto")
        self.default_location = opts.get("default_location")
        self.max_bad = float(opts.get("max_bad_row_share", "0.5"))
        self.quarantined = 0
        self._as_of: datetime | None = None

    def source_as_of(self) -> datetime | None:
        return self._as_of

    def pages(self) -> Iterator[Page]:
        if "sku" not in self.mapping or not any(q in self.mapping for q in QUANTITIES):
            raise ExtractionError(self.system_id, "schema", detail="options need column.sku "
                                  "and at least one of column.on_hand/available/committed/"
                                  "incoming (the declared mapping)")
        self._as_of, self.quarantined = None, 0
        new = self.folder.new_files()
        carried = not new
        files = new or [p for p in [self.folder.latest_processed()] if p is not None]
        if not files:
            raise ExtractionError(self.system_id, "connection", url=str(self.folder.root),
                                  detail="no CSV file received yet in the drop folder")
        for path in files:
            data = path.read_bytes()
            exchange = file_exchange(path, data, carried=carried)
            try:
                rows, bad = self._parse(path.name, data)
            except FileRejected as exc:
                detail = f"{path.name}: {exc}"
                if not carried:
                    self.folder.reject(path, str(exc))
                    detail += "; moved to rejected/"
                raise ExtractionError(self.system_id, "schema", method="READ", url=path.name,
                                      page=path.name, detail=detail, exchange=exchange) from None
            if bad and not carried:
                self._quarantine(path.name, bad)
            yield Page(rows, exchange, f"{'carried forward ' if carried else ''}{path.name}")
        if not carried:
            self.folder.mark_processed(files)

    def _parse(self, name: str, data: bytes) -> tuple[list[dict[str, Any]],
                                                      list[dict[str, Any]]]:
        text, _ = decode(data, self.encoding)
        delimiter = self.delimiter if self.delimiter != "auto" else _sniff(text)
        records = _records(text, delimiter)
        header_line = next(records, None)
        if header_line is None:
            raise FileRejected("empty file (no header)")
        header = [h.strip() for h in header_line[1]]
        index: dict[str, int] = {}
        for field, column in self.mapping.items():
            hits = [i for i, h in enumerate(header) if h == column]
            if len(hits) != 1:
                problem = "missing" if not hits else "present more than once"
                raise FileRejected(f"header column {column!r} (mapped to {field}) is {problem}; "
                                   f"header is {header}")
            index[field] = hits[0]
        rows, bad = [], []
        for n, (line_no, fields, raw) in enumerate(records, 1):
            if not any(f.strip() for f in fields):
                continue
            row, error = self._row(name, n, fields, index, len(header))
            if error is not None:
                bad.append({"file": name, "row": n, "line": line_no, "field": error[0],
                            "error": error[1], "raw_line": raw})
            else:
                rows.append(row)
        total = len(rows) + len(bad)
        if not total:  # a header-only export is a failed export, not zero stock
            raise FileRejected("header only: no data rows")
        if len(bad) / total > self.max_bad:
            first = bad[0]
            raise FileRejected(f"{len(bad)} of {total} rows are bad (over max_bad_row_share "
                               f"{self.max_bad}); first: row {first['row']} field "
                               f"{first['field']}: {first['error']} — wrong column mapping?")
        return rows, bad

    def _row(self, name: str, n: int, fields: list[str], index: dict[str, int],
             width: int) -> tuple[dict[str, Any], tuple[str, str] | None]:
        if len(fields) != width:
            return {}, ("(row)", f"{len(fields)} fields, header has {width}")
        row: dict[str, Any] = {"file_name": name, "row_number": n}
        for field, i in index.items():
            value = fields[i].strip()
            if field in QUANTITIES:
                number = _integer(value)
                if value and number is None:
                    return {}, (self.mapping[field], f"{value!r} is not a whole number")
                row[field] = number
            else:
                row[field] = value or None
        if not row.get("sku"):
            return {}, (self.mapping["sku"], "empty sku")
        row["location"] = row.get("location") or self.default_location
        if row.get("updated_at"):
            try:
                when = parse_utc(row["updated_at"])
            except ValueError:
                return {}, (self.mapping["updated_at"], f"{row['updated_at']!r} is not ISO-8601")
            self._as_of = when if self._as_of is None else max(self._as_of, when)
        return row, None

    def _quarantine(self, name: str, bad: list[dict[str, Any]]) -> Path:
        path = self.folder.quarantine_path(f"{name}.rejects.jsonl")
        with path.open("a", encoding="utf-8") as out:
            for entry in bad:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.quarantined += len(bad)
        return path


def _integer(value: str) -> int | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _sniff(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


__all__ = ["COLUMNS", "CsvDropConnector", "decode"]
