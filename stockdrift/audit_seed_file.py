"""Reading a mapping seed file someone hands to `mappings check|apply`, with errors a person
can act on: which file, which column or row and field, the header expected, and the fix.

Every failure is a `SeedFileError` (a `ValueError`) with a one-line message, never a
`KeyError` naming a bare column or a traceback for a path that does not exist.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from stockdrift.audit import Row

# The mapping seeds `mappings check|apply` understand: their columns, in file order.
MAPPING_COLUMNS: dict[str, tuple[str, ...]] = {
    "sku_map": ("system_id", "external_sku", "canonical_sku"),
    "location_map": ("system_id", "external_location", "canonical_location"),
    "bundle_components": ("bundle_sku", "component_sku", "component_qty"),
}
# The column that tells a file's seed apart from the others.
MARKERS: tuple[tuple[str, str], ...] = (
    ("sku_map", "external_sku"),
    ("location_map", "external_location"),
    ("bundle_components", "component_sku"),
)


class SeedFileError(ValueError):
    """A mapping seed file that cannot be read as its seed; the message is one line."""


def header(seed: str) -> str:
    return ",".join(MAPPING_COLUMNS[seed])


def _expected_headers() -> str:
    return "; ".join(f"{seed}: {header(seed)}" for seed in MAPPING_COLUMNS)


def read_text(path: Path) -> str:
    if not path.exists():
        raise SeedFileError(f"{path}: no such file (looked in {Path.cwd()}); pass the path of "
                            f"an existing CSV with the seed's header ({_expected_headers()})")
    if path.is_dir():
        raise SeedFileError(f"{path}: is a folder, not a CSV file; pass the seed file itself")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SeedFileError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as "
                            "UTF-8 CSV and try again") from None
    except OSError as exc:
        raise SeedFileError(f"{path}: cannot be read ({exc.strerror}); check the path and "
                            "its permissions") from None


def columns_of(path: Path) -> list[str]:
    first = read_text(path).splitlines()[:1]
    return next(csv.reader(first), []) if first else []


def seed_name_for(path: Path) -> str:
    """Which seed a proposed file replaces, from its columns."""
    columns = columns_of(path)
    for seed, marker in MARKERS:
        if marker in columns:
            return seed
    raise SeedFileError(f"{path}: cannot tell which mapping seed it is from its header "
                        f"{','.join(columns) or '(empty file)'}; expected one of "
                        f"{_expected_headers()}; fix the first line or pass --seed")


def read_seed_file(path: Path, seed: str) -> list[Row]:
    """The rows of `path` read as `seed`, every required column present and filled in."""
    expected = MAPPING_COLUMNS.get(seed)
    text = read_text(path)
    if expected is None:
        raise SeedFileError(f"{path}: {seed!r} is not a mapping seed; use one of "
                            f"{', '.join(MAPPING_COLUMNS)}")
    reader = csv.DictReader(io.StringIO(text))
    columns = list(reader.fieldnames or [])
    missing = [c for c in expected if c not in columns]
    if missing:
        raise SeedFileError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"for seed {seed}; header is {','.join(columns) or '(empty file)'}, expected "
            f"{header(seed)}; fix the first line of the file"
        )
    rows = []
    for record in reader:
        rows.append(_checked_row(path, seed, reader.line_num, record))
    return rows


def _checked_row(path: Path, seed: str, line: int, record: dict[str | None, object]) -> Row:
    where = f"{path} line {line}"
    if record.get(None):
        raise SeedFileError(f"{where}: more fields than the header's {len(record) - 1} "
                            f"({header(seed)}); quote values that contain a comma or remove "
                            "the extra field")
    row = {str(k): ("" if v is None else str(v)) for k, v in record.items() if k is not None}
    for column in MAPPING_COLUMNS[seed]:
        if not row[column].strip():
            raise SeedFileError(f"{where}: field {column} is empty; every row needs "
                                f"{header(seed)}; fill it in or delete the row")
    qty = row.get("component_qty")
    if seed == "bundle_components" and qty is not None and not _positive_int(qty):
        raise SeedFileError(f"{where}: field component_qty is {qty!r}, not a whole number "
                            "above 0; write how many of the component one bundle takes")
    return row


def _positive_int(text: str) -> bool:
    return text.strip().isdigit() and int(text) > 0
