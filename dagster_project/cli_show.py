"""`stockdrift exceptions show`: one exception for a person (key/value table, the nested
evidence as its own table, readable UTC times, then its history) or, with `--json`, for a
machine (valid JSON, evidence as objects, ISO times with `Z`)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

# ISO strings as the evidence carries them (`expectations.findings.iso`): shown like columns
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
EVENT_COLUMNS = ("occurred_at", "from_status", "to_status", "actor", "reason")


def events(con: Any, fingerprint: str) -> list[dict[str, Any]]:
    cur = con.execute(f"select {', '.join(EVENT_COLUMNS)} from ops.exception_events "
                      "where fingerprint = ? order by occurred_at", [fingerprint])
    return [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in cur.fetchall()]


def evidence_of(row: dict[str, Any]) -> Any:
    """The evidence column as objects (DuckDB hands a JSON column back as text)."""
    value = row.get("evidence")
    return json.loads(value) if isinstance(value, str) else value


def as_json(row: dict[str, Any], history: list[dict[str, Any]]) -> str:
    data = {**row, "evidence": evidence_of(row), "events": history}
    return json.dumps(data, indent=2, default=_json_value, ensure_ascii=False)


def render(console: Console, row: dict[str, Any], history: list[dict[str, Any]]) -> None:
    table = _key_values(f"exception {row['fingerprint']}")
    for key, value in row.items():
        if key != "evidence":
            table.add_row(key, _cell(value))
    console.print(table)
    console.print(_nested(evidence_of(row), "evidence"))
    console.print(Text("history", style="italic"))
    for e in history:
        console.print(f"{_when(e['occurred_at'])}  {e['from_status'] or '—'} -> "
                      f"{e['to_status']}  by {e['actor']}: {e['reason']}", markup=False)


def _key_values(title: str | None = None) -> Table:
    # nested tables go without a box: their parent's row already frames them
    table = Table(title=title, show_header=False, box=box.SIMPLE if title else None,
                  title_justify="left")
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    return table


def _nested(value: Any, title: str | None = None) -> RenderableType:
    """Dicts become key/value tables (nested ones inside), lists one item per line."""
    if isinstance(value, dict):
        table = _key_values(title)
        for key, item in value.items():
            table.add_row(str(key), _nested(item))
        return table
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return Group(*(_nested(v) for v in value))
    if isinstance(value, list):
        return _cell(", ".join(str(v) for v in value))
    return _cell(value)


def _cell(value: Any) -> Text:
    # Text, not markup: a SKU named "[bold]" must print as itself.
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO.match(value)):
        return Text(_when(value))
    return Text(str(value))


def _when(value: datetime | str) -> str:
    """Warehouse times are naive UTC; evidence times are ISO strings."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) \
        else value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        when = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return when.isoformat().replace("+00:00", "Z")
    return str(value)
