"""The SQL WMS export's optional side tables: lot/serial balances and customer returns.

Options (strings, like every connector option):
- `lots_table`: the export's lot/serial table -> `raw.wms_lots`; `lots.column.<field>` maps
  sku, location, lot_number, serial_number, expiration_date, on_hand (default: the field
  name). sku, location, on_hand and one of lot_number/serial_number are required.
- `returns_table`: the export's returns table -> `raw.wms_returns`; `returns.column.<field>`
  maps return_id, sku, location, qty, received_at, inspected_at, restocked_at, disposition.
  return_id, sku, location and qty are required.
An optional field whose default-named column is absent reads as NULL; a column named in
the options must exist. Both are read in full, keyset-paged like the main table, in the
same snapshot (an empty side table is fine: no returns is a real answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from extractors.side_tables import SideTable

LOTS = SideTable("wms_lots", (
    "sku", "location", "lot_number", "serial_number", "expiration_date", "on_hand",
))
RETURNS = SideTable("wms_returns", (
    "return_id", "sku", "location", "qty", "received_at", "inspected_at", "restocked_at",
    "disposition",
))


@dataclass(frozen=True)
class SideSpec:
    """How one side table is read: its option names, required fields, integer fields and
    the keyset key (fields; nullable ones compared as coalesce(text, ''))."""

    table: SideTable
    option: str  # e.g. lots_table; column mapping under `<prefix>.column.<field>`
    prefix: str
    required: tuple[str, ...]
    any_of: tuple[str, ...]
    integers: tuple[str, ...]
    key: tuple[str, ...]
    nullable_key: tuple[str, ...]


SPECS = (
    SideSpec(LOTS, "lots_table", "lots", ("sku", "location", "on_hand"),
             ("lot_number", "serial_number"), ("on_hand",),
             ("sku", "location", "lot_number", "serial_number"),
             ("lot_number", "serial_number")),
    SideSpec(RETURNS, "returns_table", "returns", ("return_id", "sku", "location", "qty"), (),
             ("qty",), ("return_id", "sku", "location"), ()),
)


def configured(options: dict[str, str]) -> list[tuple[SideSpec, str, dict[str, str]]]:
    """(spec, source table, explicit column mapping) of every side table turned on."""
    out = []
    for spec in SPECS:
        table = options.get(spec.option)
        if table:
            mapping = {f: options[f"{spec.prefix}.column.{f}"] for f in spec.table.columns
                       if options.get(f"{spec.prefix}.column.{f}")}
            out.append((spec, table, mapping))
    return out


def text_value(value: Any) -> str | None:
    """Dates and timestamps land as ISO-8601 text (the raw DDL's varchar columns)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
