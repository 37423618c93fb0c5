"""Write a CSV stock export (a partner's nightly file) from the sandbox world.

Headers are a partner's own (`Item Number`, `Warehouse`, `Qty On Hand`, `Qty Available`,
`Last Updated`), mapped onto canonical fields by the connector's declared `column.*`
options. Faults produce the files a CSV feed really sends: a renamed header, bad rows, a
cp1252 file without BOM, a file cut mid-row.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Literal

from sandbox.world import World

CsvFault = Literal["renamed_field", "bad_rows", "cp1252", "truncated", "malformed"]
HEADER = ("Item Number", "Warehouse", "Qty On Hand", "Qty Available", "Last Updated")
OPTIONS = {  # the mapping a deployment declares for this file (stockdrift.example.yml)
    "column.sku": "Item Number", "column.location": "Warehouse",
    "column.on_hand": "Qty On Hand", "column.available": "Qty Available",
    "column.updated_at": "Last Updated", "pattern": "*.csv",
}


def render_csv(world: World, at: datetime | None = None) -> list[list[str]]:
    at = at or world.now
    rows = [list(HEADER)]
    for r in world.erp_rows():
        if r["location"] != "2":  # the 3PL's own export: its building only
            continue
        rows.append([r["itemid"], "CICERO", r["quantityonhand"], r["quantityavailable"],
                     at.strftime("%Y-%m-%dT%H:%M:%SZ")])
    return rows


def encode(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def partner_csv(world: World, at: datetime | None = None) -> list[list[str]]:
    """The DALLAS-3PL partner's export from its own counts (`World.holdings`)."""
    at = at or world.now
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [list(HEADER), *([h["sku"], h["location"], str(h["on_hand"]), str(h["available"]),
                             stamp] for h in world.holdings("partner_csv"))]


def write_csv(world: World, folder: Path, name: str | None = None,
              fault: CsvFault | None = None, rows: list[list[str]] | None = None) -> Path:
    """`rows` (header first) default to the 3PL export of `render_csv`."""
    rows = rows if rows is not None else render_csv(world)
    encoding = "utf-8"
    if fault == "renamed_field":
        rows[0][2] = "On Hand Qty"  # the partner changed their export template
    elif fault == "bad_rows":
        rows[2][2] = "twelve"
        rows[3] = rows[3][:2]
        rows[4][0] = ""
    elif fault == "cp1252":
        rows[1][1] = "CICERO – Bldg Ä"  # en dash + umlaut, cp1252 bytes without a BOM
        encoding = "cp1252"
    data = encode(rows, encoding)
    if fault == "truncated":
        data = data[: len(data) * 2 // 3]
    elif fault == "malformed":
        data = b"\x00\x01PK\x03\x04 this is a zip file, not a CSV\xff\xfe\x00"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"stock_{world.now:%Y%m%d%H%M}.csv")
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
