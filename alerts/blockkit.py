"""Block Kit renderer: `AlertMessage` -> chat.postMessage payload (`text` + `blocks`).

Every string that is not ours is escaped (`escape.mrkdwn`) and every text object is fitted to
Slack's documented limits, so a payload built from any message is accepted by Slack:
50 blocks per message, header plain_text 150 chars, section text 3000 chars, at most 10
section fields of 2000 chars each, at most 10 context elements.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerts.escape import code, fit, fit_plain, link, mrkdwn, url
from alerts.model import AlertItem, AlertMessage

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 3000  # Slack accepts 40k, but notifications only show the start

_ICON = {
    "critical": ":rotating_light:", "high": ":red_circle:", "medium": ":large_orange_circle:",
    "low": ":large_yellow_circle:",
}
_KIND_ICON = {"resolved": ":white_check_mark:", "heartbeat": ":green_heart:"}

Block = dict[str, Any]


def render(msg: AlertMessage, mention: str | None = None) -> dict[str, Any]:
    """The payload for chat.postMessage. `mention` is a token we built (`<!subteam^S…>`)."""
    blocks: list[Block] = [_header(msg), _overview(msg, mention)]
    if msg.items:
        blocks.append(_items(msg))
    hidden = max(msg.total_items, len(msg.items)) - min(len(msg.items), MAX_FIELDS)
    if hidden > 0:
        blocks.append(_context([f"…and {hidden} more not listed here; "
                                "the drift report has them all"]))
    if msg.suggested_check:
        blocks.append(_section(f"*Suggested check:* {mrkdwn(msg.suggested_check)}"))
    commands = queue_commands(msg)
    if commands:
        blocks.append(_section(f"*In the queue:* {commands}"))
    blocks.append(_footer(msg))
    fallback = f"{mention + ' ' if mention else ''}{mrkdwn(msg.title)}: {mrkdwn(msg.summary)}"
    return {"text": fit(fallback, MAX_FALLBACK_TEXT), "blocks": blocks[:MAX_BLOCKS]}


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """Which documented Slack limits a payload breaks (empty = Slack will accept it)."""
    problems: list[str] = []
    blocks = payload.get("blocks", [])
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        kind = block["type"]
        if kind == "header" and len(block["text"]["text"]) > MAX_HEADER:
            problems.append(f"block {i}: header longer than {MAX_HEADER}")
        if kind == "section":
            if len(block.get("text", {}).get("text", "")) > MAX_SECTION_TEXT:
                problems.append(f"block {i}: section text longer than {MAX_SECTION_TEXT}")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"block {i}: {len(fields)} fields > {MAX_FIELDS}")
            if any(len(f["text"]) > MAX_FIELD_TEXT for f in fields):
                problems.append(f"block {i}: a field longer than {MAX_FIELD_TEXT}")
        if kind == "context" and len(block["elements"]) > MAX_CONTEXT_ELEMENTS:
            problems.append(f"block {i}: more than {MAX_CONTEXT_ELEMENTS} context elements")
    return problems


def when(value: datetime | None) -> str:
    """A Slack date token: shown in the reader's time zone, with a UTC fallback."""
    if value is None:
        return "unknown"
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    fallback = aware.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _header(msg: AlertMessage) -> Block:
    icon = _KIND_ICON.get(msg.kind) or _ICON.get(msg.severity, "")
    # plain_text is never parsed for mentions or links, so it is not entity-escaped.
    text = fit_plain(f"{icon} {msg.title}".strip(), MAX_HEADER)
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _overview(msg: AlertMessage, mention: str | None) -> Block:
    locations = msg.evidence.get("locations") or []
    systems = msg.evidence.get("systems") or [msg.system_id or "stockdrift"]
    where = ", ".join(mrkdwn(s) for s in systems)
    if locations:
        where += " · " + ", ".join(mrkdwn(loc) for loc in locations[:10])
        if len(locations) > 10:
            where += f" and {len(locations) - 10} more"
    lines = [mention] if mention else []
    lines += [
        f"*What:* {mrkdwn(msg.summary)}",
        f"*Where:* {where}",
        f"*Since:* {when(msg.since)}",
        f"*Severity:* {mrkdwn(msg.severity)}  ·  *Owner:* {mrkdwn(msg.owner_id)}",
    ]
    if msg.probable_cause:
        lines.append(f"*Probable cause:* {mrkdwn(msg.probable_cause)}")
    last_write = msg.evidence.get("channel_last_write")
    if last_write:
        lines.append(f"*Channel last took a write:* {_last_writes(last_write)}")
    return _section("\n".join(lines))


def _last_writes(by_location: dict[str, str | None]) -> str:
    """When the channel last took any write at each incident location (vendor write times)."""
    def one(value: str | None) -> str:
        return when(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else (
            "not reported by the vendor")
    if len(by_location) == 1:
        return one(next(iter(by_location.values())))
    return ", ".join(f"{mrkdwn(loc)} {one(v)}" for loc, v in sorted(by_location.items()))


def _items(msg: AlertMessage) -> Block:
    fields = [
        {"type": "mrkdwn", "text": fit(_item_text(item), MAX_FIELD_TEXT)}
        for item in msg.items[:MAX_FIELDS]
    ]
    return {"type": "section", "fields": fields}


def _item_text(item: AlertItem) -> str:
    head = code(item.canonical_sku or "(no SKU)")
    if item.canonical_location:
        head += f" · {mrkdwn(item.canonical_location)}"
    lines = [head]
    if item.observed is not None:
        shown = f"*{_num(item.observed)}* at {when(item.observed_at)}"
        lines.append(f"{mrkdwn(item.system_id)}: {shown}")
    if item.expected is not None:
        variance = f" ({_num(item.variance, sign=True)})" if item.variance is not None else ""
        lines.append(f"Expected: {_num(item.expected)}{variance}")
    if item.master_changed_at is not None:
        lines.append(f"Master last changed: {when(item.master_changed_at)}")
    if item.detail:
        lines.append(f"_{mrkdwn(item.detail)}_")
    if item.fingerprint:
        lines.append(f"fingerprint {code(item.fingerprint)}")
    return "\n".join(lines)


def queue_commands(msg: AlertMessage) -> str:
    """The CLI commands that work what this message reports (mrkdwn; "" when none do)."""
    if not msg.fingerprints or msg.kind == "heartbeat":
        return ""
    owner = str(msg.evidence.get("exception_owner") or msg.owner_id)
    if len(msg.fingerprints) == 1:
        fp = msg.fingerprints[0]
        text = code(f"stockdrift exceptions show {fp}")
        if msg.kind != "resolved":
            text += "  ·  " + code(f'stockdrift exceptions ack {fp} --actor {owner} --reason "…"')
        return text
    query = f"stockdrift exceptions list --owner {owner}"
    if msg.kind != "digest":
        query += f" --cause {msg.cause}" + (f" --system {msg.system_id}" if msg.system_id else "")
    return (f"{code(query)}; each item shows its fingerprint for "
            f"{code('stockdrift exceptions show|ack <fingerprint>')}")


def _footer(msg: AlertMessage) -> Block:
    parts = []
    if url(msg.report_url):
        parts.append(link(msg.report_url, "Drift report"))
    elif msg.report_url:  # a local file (no slack.report_url): say where it is
        parts.append(f"Drift report: {code(msg.report_url)}")
    if msg.run_url:
        parts.append(link(msg.run_url, "Dagster run"))
    parts.append(f"alert {code(msg.alert_id)}")
    routing = msg.evidence.get("routing")
    if routing:
        parts.append(f"routed because {mrkdwn(routing)}")
    return _context(parts)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(text, MAX_SECTION_TEXT)}}


def _context(texts: list[str]) -> Block:
    elements = [{"type": "mrkdwn", "text": fit(t, MAX_FIELD_TEXT)} for t in texts]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def _num(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "?"
    return f"{value:+g}" if sign else f"{value:g}"
