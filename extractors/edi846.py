"""EDI X12 846 Inventory Inquiry/Advice from a supplier's drop folder (vendor_api_facts.md §6).

Per transaction set: BIA (purpose, report type, date/time), then LIN loops: LIN product id
pairs (qualifier 235: SK, VN, VP, UP, …), PID description, QTY (qualifier 673: 33 available
for sale, 17 on hand, …) and its SCH breakdown per warehouse (SCH04). One row per QTY (the
total; `location` from a detail-level N1 if any) plus one per SCH (`is_breakdown`). Envelope
count mismatches (SE01, GE01, IEA01) are warnings (wrong SE01 counts are common, §6.4); a bad
segment (QTY before LIN, non-numeric quantity) fails the file naming its segment position.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from extractors.base import Page
from extractors.drop_folder import DropFolder, file_exchange
from extractors.errors import ExtractionError
from extractors.x12 import Interchange, Issue, Segment, X12Error, parse_interchange
from stockdrift.config import SystemConfig

log = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "file_name", "interchange_control", "transaction_control", "sender_id", "purpose_code",
    "report_date", "report_time", "line_no", "item_id", "item_id_qualifier", "product_ids",
    "description", "quantity_qualifier", "quantity", "uom", "location", "is_breakdown",
    "segment_position",
)
# Which LIN id becomes `item_id` (element 235, §6.2): the seller's own ids first.
ID_PREFERENCE = ("SK", "VN", "VP", "BP", "IN", "MG", "VC", "UP", "EN", "UK", "UA")
LOCATION_N1 = frozenset({"WH", "ST", "SN", "RL"})  # warehouse / ship-to / store / reporting
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def parse_846(text: str, file_name: str) -> tuple[list[dict[str, Any]], list[Issue],
                                                  Interchange]:
    """Rows and issues of one file; raises X12Error when it is not X12 at all."""
    ix = parse_interchange(text)
    issues = list(ix.issues)
    rows: list[dict[str, Any]] = []
    for ts in ix.transaction_sets:
        if ts.code != "846":
            issues.append(Issue(ts.segments[0].position, "ST",
                                f"transaction set {ts.code!r} is not an 846"))
            continue
        head = {"file_name": file_name, "interchange_control": ix.isa.get(13),
                "transaction_control": ts.control, "sender_id": ix.isa.get(6)}
        rows += _transaction_rows(ts.segments, head, issues, ix.delimiters.component)
    return rows, issues, ix


def _transaction_rows(segments: list[Segment], head: dict[str, Any], issues: list[Issue],
                      component: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    qty: dict[str, Any] | None = None
    lin_at: Segment | None = None  # the open LIN loop, until its first QTY
    for seg in segments:
        if seg.tag in ("LIN", "CTT", "SE") and lin_at is not None:
            issues.append(Issue(lin_at.position, "LIN", "LIN loop without a QTY segment"))
            lin_at = None
        if seg.tag == "BIA":
            head.update(purpose_code=seg.get(1), report_date=seg.get(4),
                        report_time=seg.get(5) or None)
        elif seg.tag == "LIN":
            pairs = [(seg.get(i), seg.get(i + 1)) for i in range(2, len(seg.elements), 2)
                     if seg.get(i) and seg.get(i + 1)]
            if not pairs:
                issues.append(Issue(seg.position, "LIN", "no product id qualifier/id pair"))
                line = None
                continue
            ids = dict(pairs)
            qual = next((q for q in ID_PREFERENCE if q in ids), pairs[0][0])
            lin_at = seg
            line = {**head, "line_no": seg.get(1) or None, "item_id": ids[qual],
                    "item_id_qualifier": qual, "description": None,
                    "location": head.get("location"),
                    "product_ids": ";".join(f"{q}:{v}" for q, v in pairs)}
            qty = None
        elif seg.tag == "PID" and line is not None:
            line["description"] = seg.get(5) or None
        elif seg.tag == "N1" and seg.get(1) in LOCATION_N1:
            # in the heading: the warehouse of every line; in a LIN loop: of that line only
            (line if line is not None else head)["location"] = seg.get(4) or seg.get(2) or None
        elif seg.tag == "QTY":
            lin_at = None
            qty = _quantity(seg, line, seg.get(2), seg.get(3), issues, component) or {}
            if qty:  # {} = a bad QTY (reported): its SCH breakdown is skipped quietly
                qty.update(quantity_qualifier=seg.get(1), is_breakdown=False)
                rows.append(qty)
        elif seg.tag == "SCH":
            if qty is None:
                issues.append(Issue(seg.position, "SCH", "SCH without a preceding QTY"))
                continue
            if not qty:
                continue
            sch = _quantity(seg, line, seg.get(1), seg.get(2), issues, component)
            if sch is not None:
                sch.update(quantity_qualifier=qty["quantity_qualifier"], is_breakdown=True,
                           location=seg.get(4) or seg.get(3) or None)
                rows.append(sch)
    return rows


def _quantity(seg: Segment, line: dict[str, Any] | None, value: str, uom: str,
              issues: list[Issue], component: str | None) -> dict[str, Any] | None:
    if line is None:
        issues.append(Issue(seg.position, seg.tag, f"{seg.tag} outside a LIN loop"))
        return None
    if not _NUMBER.match(value):
        issues.append(Issue(seg.position, seg.tag, f"quantity {value!r} is not a number"))
        return None
    if component and component in uom:
        uom = uom.split(component, 1)[0]  # C001 composite: the unit code comes first
    return {**line, "quantity": value, "uom": uom or None, "segment_position": seg.position}


class Edi846Connector:
    """Drop-folder connector; options: `pattern` (default `*.edi,*.x12,*.846,*.txt`)."""

    system_id: str
    raw_table = "edi846_inventory"
    columns = COLUMNS

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None,
                 **_: Any) -> None:
        self.system, self.system_id = system, system.id
        pattern = system.options.get("pattern", "*.edi,*.x12,*.846,*.txt")
        self.folder = DropFolder(system.id, system.base_url, pattern.split(","))
        self.tz = ZoneInfo(system.timezone)  # X12 dates carry no zone: the partner's own
        self.warnings: list[str] = []
        self._as_of: datetime | None = None

    def source_as_of(self) -> datetime | None:
        return self._as_of

    def pages(self) -> Iterator[Page]:
        self._as_of, self.warnings = None, []
        new = self.folder.new_files()
        carried = not new
        files = new or [p for p in [self.folder.latest_processed()] if p is not None]
        if not files:
            raise ExtractionError(self.system_id, "connection", url=str(self.folder.root),
                                  detail="no 846 file received yet in the drop folder")
        for path in files:
            data = path.read_bytes()
            rows = self._read(path, data)
            yield Page(rows, file_exchange(path, data, carried=carried),
                       f"{'carried forward ' if carried else ''}{path.name}")
        if not carried:
            self.folder.mark_processed(files)  # only once every file was read cleanly

    def _read(self, path: Path, data: bytes) -> list[dict[str, Any]]:
        try:
            rows, issues, _ = parse_846(data.decode("latin-1"), path.name)  # X12 is ASCII
        except X12Error as exc:
            raise self._reject(path, data, [f"not an X12 file: {exc}"]) from None
        errors = [str(i) for i in issues if i.severity == "error"]
        if not rows and not errors:  # an empty advice is a broken export, not zero stock
            errors = ["no LIN/QTY inventory lines in the file"]
        if errors:
            raise self._reject(path, data, errors)
        for issue in issues:
            self.warnings.append(f"{path.name}: {issue}")
            log.warning("%s: %s: %s", self.system_id, path.name, issue)
        for row in rows:
            self._track(row.get("report_date"), row.get("report_time"))
        return rows

    def _reject(self, path: Path, data: bytes, errors: list[str]) -> ExtractionError:
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        detail = f"{path.name}: " + "; ".join(errors[:3]) + more
        exchange = file_exchange(path, data)  # kept with the failed snapshot
        if path.parent == self.folder.root:  # a new file: move it aside, once
            self.folder.reject(path, "\n".join(errors))
            detail += "; moved to rejected/"
        return ExtractionError(self.system_id, "malformed", method="READ", url=path.name,
                               page=path.name, detail=detail, exchange=exchange)

    def _track(self, date: str | None, time_: str | None) -> None:
        if not date or not date.isdigit() or len(date) not in (6, 8):
            return
        stamp = (date if len(date) == 8 else "20" + date) + (time_ or "0000")[:4].ljust(4, "0")
        try:
            when = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=self.tz)
        except ValueError:
            return
        if self._as_of is None or when > self._as_of:
            self._as_of = when
