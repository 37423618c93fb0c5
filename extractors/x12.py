"""ASC X12 tokenizer and envelope checks (ISA/GS/ST … SE/GE/IEA), format-agnostic.

Delimiters come from the ISA segment itself (vendor_api_facts.md §6.1, §9.7): the element
separator is the character right after `ISA` (index 3), ISA16 is the one-character component
separator, and the character after ISA16 terminates segments. Both `*`/`~` and `|`/newline
variants (the public Ingram sample, §6.3) therefore parse with the same code. Line breaks
after a terminator are ignored. Issues carry the 1-based segment position in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Segment:
    position: int  # 1-based, counting every segment in the file
    tag: str
    elements: tuple[str, ...]  # elements[0] is the tag's first element (XXX01)

    def get(self, n: int) -> str:
        """Element XXXnn (1-based), '' when absent."""
        return self.elements[n - 1].strip() if 0 < n <= len(self.elements) else ""


@dataclass(frozen=True)
class Issue:
    position: int
    tag: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"segment {self.position} ({self.tag}): {self.message}"


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str | None
    segment: str


@dataclass
class TransactionSet:
    code: str  # ST01, e.g. "846"
    control: str  # ST02
    segments: list[Segment] = field(default_factory=list)  # ST .. SE inclusive


@dataclass
class Interchange:
    delimiters: Delimiters
    isa: Segment
    transaction_sets: list[TransactionSet]
    issues: list[Issue]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


class X12Error(ValueError):
    """The file cannot be read as X12 at all (no ISA, cut before the delimiters)."""


def delimiters(text: str) -> Delimiters:
    if not text.startswith("ISA") or len(text) < 4:
        raise X12Error("does not start with an ISA segment")
    element = text[3]
    positions = [i for i, ch in enumerate(text[:300]) if ch == element][:16]
    if len(positions) < 16:
        raise X12Error("ISA segment has fewer than 16 elements")
    at = positions[15] + 1  # ISA16: exactly one character
    if at + 1 >= len(text):
        raise X12Error("file ends inside the ISA segment")
    component, segment = text[at], text[at + 1]
    # A component separator equal to the element separator (or a blank) is no separator.
    return Delimiters(element, None if component in (element, " ") else component, segment)


def tokenize(text: str) -> tuple[Delimiters, list[Segment]]:
    text = text.lstrip("\ufeff \r\n\t")
    delims = delimiters(text)
    segments: list[Segment] = []
    for raw in text.split(delims.segment):
        raw = raw.strip("\r\n")
        if not raw.strip():
            continue
        parts = raw.split(delims.element)
        segments.append(Segment(len(segments) + 1, parts[0].strip().upper(), tuple(parts[1:])))
    return delims, segments


def parse_interchange(text: str) -> Interchange:
    """Envelope structure with counts validated; bad envelopes become positioned issues."""
    delims, segments = tokenize(text)
    issues: list[Issue] = []
    isa = segments[0]
    sets: list[TransactionSet] = []
    current: TransactionSet | None = None
    groups = sets_in_group = 0
    closed = False
    for seg in segments[1:]:
        if closed:
            issues.append(Issue(seg.position, seg.tag, "segment after IEA"))
            continue
        if seg.tag == "GS":
            groups += 1
            sets_in_group = 0
        elif seg.tag == "ST":
            if current is not None:
                issues.append(Issue(current.segments[0].position, "ST",
                                    f"transaction set {current.control} has no SE"))
            current = TransactionSet(seg.get(1), seg.get(2), [seg])
            sets.append(current)
            sets_in_group += 1
        elif seg.tag == "SE":
            if current is None:
                issues.append(Issue(seg.position, "SE", "SE without ST"))
                continue
            current.segments.append(seg)
            _check_se(current, seg, issues)
            current = None
        elif seg.tag == "GE":
            _check_count(seg, sets_in_group, "GE01 (transaction sets)", issues)
        elif seg.tag == "IEA":
            _check_count(seg, groups, "IEA01 (functional groups)", issues)
            if seg.get(2) != isa.get(13):
                issues.append(Issue(seg.position, "IEA", f"IEA02 {seg.get(2)!r} does not match "
                                    f"ISA13 {isa.get(13)!r}", "warning"))
            closed = True
        elif current is not None:
            current.segments.append(seg)
        else:
            issues.append(Issue(seg.position, seg.tag, "segment outside a transaction set",
                                "warning"))
    last = segments[-1]
    if current is not None:
        issues.append(Issue(last.position, last.tag, f"file ends inside transaction set "
                            f"{current.control} (no SE): truncated?"))
    if not closed:
        issues.append(Issue(last.position, last.tag, "no IEA trailer: file truncated?"))
    return Interchange(delims, isa, sets, issues)


def _check_se(ts: TransactionSet, se: Segment, issues: list[Issue]) -> None:
    """SE01 counts ST..SE inclusive; a wrong count is common in the wild (§6.4): a warning."""
    declared = se.get(1)
    if not declared.isdigit() or int(declared) != len(ts.segments):
        issues.append(Issue(se.position, "SE", f"SE01 says {declared!r} segments, transaction "
                            f"set {ts.control} has {len(ts.segments)}", "warning"))
    if se.get(2) != ts.control:
        issues.append(Issue(se.position, "SE", f"SE02 {se.get(2)!r} does not match ST02 "
                            f"{ts.control!r}", "warning"))


def _check_count(seg: Segment, actual: int, what: str, issues: list[Issue]) -> None:
    declared = seg.get(1)
    if not declared.isdigit() or int(declared) != actual:
        issues.append(Issue(seg.position, seg.tag, f"{what} says {declared!r}, found {actual}",
                            "warning"))
