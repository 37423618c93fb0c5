"""Write the sandbox supplier's X12 846 (004010) inventory advice into a drop folder.

Shape follows the public Ingram sample (vendor_api_facts.md §6.3): ISA/GS(IB)/ST 846/BIA/DTM
097/N1, then per SKU `LIN*n*VP*<supplier part>*SK*<sku>`, `PID*F****<name>`, `QTY*33*<qty>*EA`
and one `SCH` per supplier warehouse, CTT, SE (correct count), GE, IEA. Delimiters default to
`*` `~` `>` (§6.1); faults produce the broken files the connector must name.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from sandbox.world import World

FileFault = Literal["malformed", "truncated", "renamed_field", "bad_segment", "wrong_se_count"]
WAREHOUSES = ("RENO", "MEMPHIS")


def supplier_quantities(world: World) -> list[tuple[str, str, list[int]]]:
    """(sku, name, qty per supplier warehouse): deterministic per SKU and simulated hour."""
    hour = int((world.now - world.start).total_seconds() // 3600)
    out = []
    for sku in world.skus:
        base = zlib.crc32(sku.sku.encode())
        qtys = [(base >> (4 * i)) % 90 + (hour * (i + 1)) % 7 for i in range(len(WAREHOUSES))]
        out.append((sku.sku, sku.name, qtys))
    return out


def render_846(items: Sequence[tuple[str, str, list[int]]], at: datetime, control: int,
               *, element: str = "*", segment: str = "~", component: str = ">",
               newline: bool = True, warehouses: Sequence[str] = WAREHOUSES,
               qualifiers: Sequence[str] = ("33",), buyer_sku: bool = True) -> str:
    """`items` are (id, description, qty per warehouse). `buyer_sku` sends our SKU (`SK`)
    beside the supplier part `SUP-<id>`; off, the id is the supplier's own part (`VP`) only.
    Each QTY01 in `qualifiers` (33 available for sale, 17 on hand, §6.2) gets the total and
    one SCH per warehouse."""
    ctl = f"{control:09d}"
    isa = element.join([
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SANDBOXSUPPLY".ljust(15), "ZZ",
        "STOCKDRIFT".ljust(15), at.strftime("%y%m%d"), at.strftime("%H%M"), "U", "00401",
        ctl, "0", "T", component,
    ])
    body = [
        ["BIA", "00", "SI", f"INV{control}", at.strftime("%Y%m%d"), at.strftime("%H%M")],
        ["DTM", "097", at.strftime("%Y%m%d")],
        ["N1", "SU", "SANDBOX SUPPLY CO", "92", "SUP01"],
    ]
    for n, (sku, name, qtys) in enumerate(items, 1):
        ids = ["VP", f"SUP-{sku}", "SK", sku] if buyer_sku else ["VP", sku]
        body += [["LIN", str(n), *ids], ["PID", "F", "", "", "", name]]
        for qualifier in qualifiers:
            body.append(["QTY", qualifier, str(sum(qtys)), "EA"])
            body += [["SCH", str(q), "EA", "WH", wh, "097", at.strftime("%Y%m%d")]
                     for q, wh in zip(qtys, warehouses, strict=True)]
    body.append(["CTT", str(len(items))])
    st = [["ST", "846", ctl[-4:]], *body]
    st.append(["SE", str(len(st) + 1), ctl[-4:]])
    segments = [isa, element.join(["GS", "IB", "SANDBOXSUPPLY", "STOCKDRIFT",
                                   at.strftime("%Y%m%d"), at.strftime("%H%M"), str(control),
                                   "X", "004010"])]
    segments += [element.join(s) for s in st]
    segments += [element.join(["GE", "1", str(control)]), element.join(["IEA", "1", ctl])]
    sep = segment + ("\n" if newline and segment != "\n" else "")
    return sep.join(segments) + segment + "\n"


def break_846(text: str, fault: FileFault) -> str:
    if fault == "malformed":
        return "<html><body>502 Bad Gateway</body></html>\n"  # an SFTP relay's error page
    if fault == "truncated":
        return text[: text.index("LIN*3")]  # cut mid-transfer: no SE/GE/IEA
    if fault == "renamed_field":
        return text.replace("QTY*", "QTX*", 1)  # a partner's map drops/renames QTY
    if fault == "bad_segment":
        return text.replace("QTY*33*", "QTY*33*N/A", 1)
    if fault == "wrong_se_count":
        return text.replace("~\nSE*", "~\nSE*9", 1)  # tolerated (§6.4): a warning only
    raise ValueError(fault)


def write_846(world: World, folder: Path, control: int, fault: FileFault | None = None,
              *, at: datetime | None = None) -> Path:
    """Write one 846 for the world's state now; the name carries the control number."""
    at = at or world.now
    text = render_846(supplier_quantities(world), at, control)
    if fault is not None:
        text = break_846(text, fault)
    return drop_846(folder, text, at, control)


def drop_846(folder: Path, text: str, at: datetime, control: int) -> Path:
    """Put one 846 into the drop folder; the name carries report time and control number."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"846_{at:%Y%m%d%H%M}_{control:09d}.edi"
    tmp = path.with_suffix(".part")  # written aside, renamed in: never read half-written
    tmp.write_bytes(text.encode("ascii", "replace"))
    tmp.replace(path)
    return path
