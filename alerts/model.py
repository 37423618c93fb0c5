"""The platform-neutral alert message: what the renderers (Block Kit, console) and the outbox
share. Nothing here knows about Slack; `blockkit.py` turns it into a payload.

Messages are stored as JSON in `ops.alert_outbox.message`, so `to_json`/`from_json` must
round-trip exactly (datetimes as ISO-8601; warehouse times are naive UTC).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, cast, get_args

AlertKind = Literal[
    "opened", "resolved", "escalated", "reminder", "digest", "worsened", "heartbeat"
]
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)


@dataclass(frozen=True)
class AlertItem:
    """One exception inside an alert: a SKU at a location as one system shows it."""

    canonical_sku: str
    canonical_location: str
    system_id: str
    observed: float | None
    expected: float | None
    variance: float | None
    observed_at: datetime | None
    detail: str = ""
    master_changed_at: datetime | None = None  # the master's last change for this key
    fingerprint: str = ""  # the exception's, as the CLI takes it; "" for an incident's key


@dataclass(frozen=True)
class AlertMessage:
    alert_id: str
    kind: AlertKind
    owner_id: str
    slack_target: str
    cause: str
    system_id: str
    severity: str
    title: str
    summary: str
    probable_cause: str
    suggested_check: str
    since: datetime
    items: list[AlertItem] = field(default_factory=list)
    total_items: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    fingerprints: list[str] = field(default_factory=list)
    report_url: str = ""
    run_url: str = ""
    thread_of: str | None = None  # alert_id of the message this one replies to

    @property
    def hidden_items(self) -> int:
        """Items counted in the group but not listed (shown as "…and N more")."""
        return max(self.total_items, len(self.items)) - len(self.items)

    def to_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], _jsonable(asdict(self)))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertMessage:
        values = dict(data)
        if values["kind"] not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {values['kind']!r}; use one of {ALERT_KINDS}")
        values["since"] = _parse_dt(values["since"])
        values["items"] = [_item_from_dict(i) for i in values.get("items", [])]
        return cls(**values)

    @classmethod
    def from_json(cls, text: str | bytes | dict[str, Any]) -> AlertMessage:
        data = text if isinstance(text, dict) else json.loads(text)
        return cls.from_dict(data)


def _item_from_dict(data: dict[str, Any]) -> AlertItem:
    values = dict(data)
    values["observed_at"] = _parse_dt(values.get("observed_at"))
    values["master_changed_at"] = _parse_dt(values.get("master_changed_at"))
    return AlertItem(**values)


def _parse_dt(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
