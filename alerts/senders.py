"""Senders: where a rendered alert goes. `SlackSender` (slack-sdk WebClient) and `FileSender`
(JSON lines + a console panel, the offline default). Both can tell whether an alert already
went out, which turns the outbox's at-least-once into exactly-once in effect.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.error import URLError

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.web import SlackResponse

from alerts.blockkit import render
from alerts.model import AlertMessage
from alerts.outbox import ThreadRef
from stockdrift.config import StockdriftConfig

log = logging.getLogger("stockdrift.alerts")

METADATA_EVENT = "stockdrift_alert"
# Slack ts and our created_at come from different clocks; look a little further back.
CLOCK_SKEW = timedelta(minutes=5)
_HINTS = {
    "invalid_auth": "check the bot token in the environment variable named by slack.token_env",
    "not_authed": "no token was sent; set the variable named by slack.token_env",
    "channel_not_found": "check owners.<owner>.slack: the id is wrong or the channel is private",
    "not_in_channel": "invite the stockdrift app to the channel (/invite @stockdrift)",
    "is_archived": "the channel is archived; point the owner at a live channel",
    "users_not_found": "no Slack user has this e-mail; fix owners.<owner>.slack",
    "ratelimited": "still rate limited after retries; the next cycle retries",
    "server_error": "Slack kept answering HTTP 5xx after retries; the next cycle retries",
    "unreachable": "Slack could not be reached; check the network and slack.base_url",
    "no_channel_for_user_group": "make routing.default_owner a channel, user or e-mail",
}
# Errors that say Slack as a whole (or our token) is failing, not one owner's channel: the
# deliverer stops for this cycle instead of burning every row's attempts on one outage.
WORKSPACE_ERRORS = frozenset({
    "unreachable", "server_error", "internal_error", "fatal_error", "service_unavailable",
    "request_timeout", "ratelimited", "invalid_auth", "not_authed", "account_inactive",
    "token_revoked", "token_expired",
})


def hint_for(error: str, owner_id: str = "<owner>") -> str:
    """The fix a person can apply for a Slack error code ('' if none is known)."""
    return _HINTS.get(error, "").replace("<owner>", owner_id)


@dataclass(frozen=True)
class Delivery:
    delivered_to: str  # Slack channel id the message landed in, or "file"
    ts: str | None


class DeliveryError(Exception):
    """An alert could not be delivered; the message names owner, channel and Slack's error."""

    def __init__(self, message: str, owner_id: str, channel: str, error: str) -> None:
        super().__init__(message)
        self.owner_id = owner_id
        self.channel = channel
        self.error = error


class Sender(Protocol):
    def send(self, msg: AlertMessage, thread: ThreadRef | None = None) -> Delivery: ...

    def find_delivered(
        self, msg: AlertMessage, since: datetime, thread: ThreadRef | None = None
    ) -> Delivery | None: ...


class SlackSender:
    """Posts Block Kit alerts with chat.postMessage, the alert id in message metadata."""

    def __init__(
        self,
        token: str,
        base_url: str,
        cfg: StockdriftConfig,
        *,
        max_retries: int = 2,
        server_error_backoff: float = 0.5,
        pace_seconds: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self._cfg = cfg
        self._token = token
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        backoff = BackoffRetryIntervalCalculator(
            backoff_factor=server_error_backoff, jitter=_ProportionalJitter()
        )
        retries = max_retries
        self._client = WebClient(
            token=token, base_url=self._base_url, timeout=int(max(timeout, 1)),
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=retries, interval_calculator=backoff),
                RateLimitErrorRetryHandler(max_retry_count=retries),  # sleeps Retry-After
                ServerErrorRetryHandler(max_retry_count=retries, interval_calculator=backoff),
            ],
        )
        self._pace = pace_seconds  # Slack allows about 1 message per second per channel
        self._last_post: dict[str, float] = {}
        self._users_by_email: dict[str, str] = {}
        self._dm_channels: dict[str, str] = {}

    def send(self, msg: AlertMessage, thread: ThreadRef | None = None) -> Delivery:
        channel, mention = self._resolve(msg)
        payload = render(msg, mention)
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": payload["text"],
            "blocks": payload["blocks"],
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"alert_id": msg.alert_id}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread is not None and thread.owner_id == msg.owner_id:
            kwargs.update(channel=thread.channel, thread_ts=thread.ts)
        self._wait_for_pace(kwargs["channel"])
        resp = self._call(msg, kwargs["channel"], lambda: self._client.chat_postMessage(**kwargs))
        log.info("alert %s sent to %s (ts %s)", msg.alert_id, resp["channel"], resp["ts"])
        # Edit the parent only once everything it reported is resolved (the stage says so).
        closes = bool(msg.evidence.get("closes_parent", True))
        if msg.kind == "resolved" and closes and "thread_ts" in kwargs and thread is not None:
            self._mark_parent_resolved(msg, thread)
        return Delivery(str(resp["channel"]), str(resp["ts"]))

    def _mark_parent_resolved(self, msg: AlertMessage, thread: ThreadRef) -> None:
        """Edit the original alert so the channel shows it resolved without opening the thread."""
        if thread.message is None:
            return
        parent = replace(thread.message, kind="resolved", title=f"Resolved: {thread.message.title}")
        payload = render(parent)
        try:
            self._call(msg, thread.channel, lambda: self._client.chat_update(
                channel=thread.channel, ts=thread.ts, text=payload["text"],
                blocks=payload["blocks"],
            ))
        except DeliveryError as exc:  # the reply is out; a stale parent is cosmetic
            log.warning("alert %s: could not edit the original message: %s", msg.alert_id, exc)

    def find_delivered(
        self, msg: AlertMessage, since: datetime, thread: ThreadRef | None = None
    ) -> Delivery | None:
        """Look for a message carrying this alert id posted since `since` (crash recovery)."""
        aware = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        query: dict[str, Any] = {
            "oldest": f"{(aware - CLOCK_SKEW).timestamp():.6f}",
            "include_all_metadata": True,
            "limit": 200,
        }
        if thread is not None and thread.owner_id == msg.owner_id:
            # Replies are not in conversations.history; read the parent's thread instead.
            channel, method = thread.channel, self._client.conversations_replies
            query["ts"] = thread.ts
        else:
            channel, method = self._history_channel(msg), self._client.conversations_history
        for _ in range(20):  # 4000 messages since the alert was queued is plenty
            resp = self._call(msg, channel, partial(method, channel=channel, **query))
            messages: list[dict[str, Any]] = resp.get("messages") or []
            for message in messages:
                if _alert_id_of(message) == msg.alert_id:
                    return Delivery(channel, str(message["ts"]))
            query["cursor"] = (resp.get("response_metadata") or {}).get("next_cursor")
            if not query["cursor"]:
                break
        return None

    def _resolve(self, msg: AlertMessage) -> tuple[str, str | None]:
        """(channel to post in, mention to prepend) for the message's owner target."""
        target = msg.slack_target
        if target.startswith("S"):
            default = self._cfg.owners[self._cfg.routing.default_owner].slack
            if default.startswith("S"):
                raise DeliveryError(
                    f"alert {msg.alert_id} for owner '{msg.owner_id}': user group {target} needs "
                    f"a channel, but the default owner is also a user group ({default})",
                    msg.owner_id, target, "no_channel_for_user_group",
                )
            return self._plain_target(msg, default), f"<!subteam^{target}>"
        return self._plain_target(msg, target), None

    def _plain_target(self, msg: AlertMessage, target: str) -> str:
        if "@" not in target:
            return target  # channel id, #name, or user id (posts into the app's DM)
        if target not in self._users_by_email:
            resp = self._call(msg, target, lambda: self._client.users_lookupByEmail(email=target))
            self._users_by_email[target] = str(resp["user"]["id"])
        return self._users_by_email[target]

    def _history_channel(self, msg: AlertMessage) -> str:
        channel, _ = self._resolve(msg)
        if channel[:1] not in {"U", "W"}:
            return channel
        if channel not in self._dm_channels:  # history needs the DM's id, not the user's
            resp = self._call(msg, channel, lambda: self._client.conversations_open(users=channel))
            self._dm_channels[channel] = str(resp["channel"]["id"])
        return self._dm_channels[channel]

    def _call(
        self, msg: AlertMessage, channel: str, request: Callable[[], SlackResponse]
    ) -> SlackResponse:
        try:
            return request()
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error")) if exc.response else "unknown"
            status = exc.response.status_code if exc.response is not None else 0
            if isinstance(status, int) and status >= 500 and error not in WORKSPACE_ERRORS:
                error = "server_error"
            raise self._error(msg, channel, error, f"Slack error {error} (HTTP {status})") from None
        except (URLError, OSError) as exc:
            raise self._error(msg, channel, "unreachable",
                              f"could not reach Slack at {self._base_url}: {exc}") from None

    def _error(self, msg: AlertMessage, channel: str, error: str, what: str) -> DeliveryError:
        hint = hint_for(error, msg.owner_id)
        text = (
            f"alert {msg.alert_id} for owner '{msg.owner_id}' in channel {channel}: {what}"
            + (f"; {hint}" if hint else "")
        )
        return DeliveryError(text.replace(self._token, "***"), msg.owner_id, channel, error)

    def _wait_for_pace(self, channel: str) -> None:
        last = self._last_post.get(channel)
        if last is not None and self._pace > 0:
            delay = self._pace - (time.monotonic() - last)
            if delay > 0:
                time.sleep(delay)
        self._last_post[channel] = time.monotonic()


class _ProportionalJitter(Jitter):
    # slack-sdk's RandomJitter adds up to a full second; scale it with the backoff instead.
    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


class FileSender:
    """Offline sink: one JSON line per alert in `path`, and a readable panel on the console."""

    def __init__(self, path: Path, console: Console | None = None) -> None:
        self.path = Path(path)
        self._console = console if console is not None else Console()

    def send(self, msg: AlertMessage, thread: ThreadRef | None = None) -> Delivery:
        record = {
            "alert_id": msg.alert_id,
            "kind": msg.kind,
            "owner_id": msg.owner_id,
            "target": msg.slack_target,
            "thread_of": msg.thread_of,
            "payload": render(msg),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._console.print(_panel(msg))
        return Delivery("file", None)

    def find_delivered(
        self, msg: AlertMessage, since: datetime, thread: ThreadRef | None = None
    ) -> Delivery | None:
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    if json.loads(line).get("alert_id") == msg.alert_id:
                        return Delivery("file", None)
                except json.JSONDecodeError:
                    continue  # a line torn by a crash mid-write is not a delivery
        return None


def build_sender(cfg: StockdriftConfig, console: Console | None = None) -> Sender:
    """Slack when a token is set, else the file sink (so the demo runs offline)."""
    token = cfg.slack.token()
    if token:
        return SlackSender(token, cfg.slack.base_url, cfg)
    return FileSender(Path(cfg.out_dir) / "alerts.jsonl", console)


def _alert_id_of(message: dict[str, Any]) -> str | None:
    meta = message.get("metadata") or {}
    if meta.get("event_type") != METADATA_EVENT:
        return None
    alert_id = (meta.get("event_payload") or {}).get("alert_id")
    return str(alert_id) if alert_id else None


def _cell(value: object) -> str:
    if value is None:
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _panel(msg: AlertMessage) -> Panel:
    # Text objects, not markup strings: a SKU named "[bold]" must print as itself.
    lines: list[Any] = [
        Text(msg.summary),
        Text(f"Since: {msg.since:%Y-%m-%d %H:%M} UTC   Severity: {msg.severity}   "
             f"Owner: {msg.owner_id} ({msg.slack_target})"),
    ]
    if msg.probable_cause:
        lines.append(Text(f"Probable cause: {msg.probable_cause}"))
    if msg.items:
        table = Table("SKU", "Location", "System", "Observed", "Expected", "Variance", box=None)
        for item in msg.items:
            table.add_row(*(Text(_cell(v)) for v in (
                item.canonical_sku, item.canonical_location, item.system_id,
                item.observed, item.expected, item.variance,
            )))
        lines.append(table)
    if msg.hidden_items:
        lines.append(Text(f"…and {msg.hidden_items} more"))
    if msg.suggested_check:
        lines.append(Text(f"Suggested check: {msg.suggested_check}"))
    return Panel(Group(*lines), title=Text(f"[{msg.kind}] {msg.title}"), expand=False)
