"""A fake Slack Web API on loopback, speaking the real wire format, for tests and the demo.

- `POST` (or `GET`) `/api/<method>`; arguments as query string, form-encoded or JSON body.
- `Authorization: Bearer xoxb-…` (a `token` argument also works, as on Slack).
- Responses are HTTP 200 `{"ok": true, ...}` / `{"ok": false, "error": "invalid_auth"}` like
  Slack; rate limiting is HTTP 429 with `Retry-After`; server errors are HTTP 500.
- Methods: auth.test, chat.postMessage, chat.update, conversations.history,
  conversations.replies, conversations.open, users.lookupByEmail.

    with FakeSlack() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        slack.fail_next(1, "ratelimited")
        slack.outage(until=clock.now() + timedelta(hours=1))  # every call fails until then
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from stockdrift.clock import Clock

SANDBOX_SLACK_TOKEN = "xoxb-sandbox-slack-token"
FAILURE_KINDS = (
    "ratelimited", "server_error", "invalid_auth", "channel_not_found", "not_in_channel",
)
BOT_USER, BOT_ID, TEAM_ID = "U0STOCKDRIFT", "B0STOCKDRIFT", "T0SANDBOX"

Json = dict[str, Any]


class FakeSlack:
    """A threaded loopback server; `.messages` holds every posted message (with `channel`)."""

    def __init__(
        self,
        token: str = SANDBOX_SLACK_TOKEN,
        *,
        clock: Clock | None = None,
        users: dict[str, str] | None = None,
        channels: set[str] | None = None,
        not_in_channels: set[str] | None = None,
        port: int = 0,
    ) -> None:
        self.token = token
        self._clock = clock  # ts from the sim clock keeps `oldest=` filters consistent
        self.users = dict(users or {})  # e-mail -> user id
        self.channels = channels  # known channel ids; None = any C…/G…/D… id exists
        self.not_in_channels = set(not_in_channels or ())
        self.messages: list[Json] = []
        self.calls: list[tuple[str, Json]] = []  # (method, arguments) in arrival order
        self._failures: list[tuple[str, str | None]] = []
        self._outage: tuple[datetime, str] | None = None
        self._last_ts = 0.0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> FakeSlack:
        # A short poll interval keeps shutdown fast (the stdlib default is 0.5 s).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def fail_next(self, n: int = 1, kind: str = "ratelimited", method: str | None = None) -> None:
        """Make the next `n` calls (of `method`, or any) fail with `kind`."""
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; use one of {FAILURE_KINDS}")
        with self._lock:
            self._failures.extend([(kind, method)] * n)

    def outage(self, until: datetime, kind: str = "server_error") -> None:
        """Fail every call with `kind` until the injected clock reaches `until`."""
        if self._clock is None:
            raise ValueError("an outage needs the clock: FakeSlack(clock=...)")
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; use one of {FAILURE_KINDS}")
        with self._lock:
            self._outage = (until, kind)

    def calls_to(self, method: str) -> list[Json]:
        with self._lock:
            return [args for name, args in self.calls if name == method]

    # -- request handling (called from server threads) ------------------------------------

    def handle(self, method: str, args: Json, auth: str | None) -> tuple[int, dict[str, str], Json]:
        with self._lock:
            self.calls.append((method, args))
            failure = self._take_failure(method)
            if failure is None and self._outage is not None and self._clock is not None:
                until, kind = self._outage
                failure = kind if self._clock.now() < until else None
            if failure == "ratelimited":
                return 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"}
            if failure == "server_error":
                return 500, {}, {"ok": False, "error": "internal_error"}
            if failure is not None:
                return 200, {}, {"ok": False, "error": failure}
            token = (auth or "").removeprefix("Bearer ").strip() or str(args.get("token") or "")
            if not token:
                return 200, {}, {"ok": False, "error": "not_authed"}
            if token != self.token:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            api = self._methods().get(method)
            if api is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            return 200, {}, api(args)

    def _take_failure(self, method: str) -> str | None:
        for i, (kind, only) in enumerate(self._failures):
            if only is None or only == method:
                del self._failures[i]
                return kind
        return None

    def _methods(self) -> dict[str, Callable[[Json], Json]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.open": self._open,
            "users.lookupByEmail": self._lookup_by_email,
        }

    def _auth_test(self, args: Json) -> Json:
        return {"ok": True, "url": "https://sandbox.slack.com/", "team": "Sandbox",
                "user": "stockdrift", "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": BOT_ID}

    def _post_message(self, args: Json) -> Json:
        channel, error = self._channel(str(args.get("channel") or ""))
        if error:
            return {"ok": False, "error": error}
        blocks = _decoded(args.get("blocks"))
        if not args.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        message: Json = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID,
                         "text": str(args.get("text") or ""), "ts": self._next_ts()}
        if blocks:
            message["blocks"] = blocks
        metadata = _decoded(args.get("metadata"))
        if metadata:
            message["metadata"] = metadata
        if args.get("thread_ts"):
            if self._find(channel, str(args["thread_ts"])) is None:
                return {"ok": False, "error": "thread_not_found"}
            message["thread_ts"] = str(args["thread_ts"])
        self.messages.append({**message, "channel": channel})
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _update(self, args: Json) -> Json:
        channel = str(args.get("channel") or "")
        stored = self._find(channel, str(args.get("ts") or ""))
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        if args.get("text") is not None:
            stored["text"] = str(args["text"])
        if args.get("blocks"):
            stored["blocks"] = _decoded(args["blocks"])
        stored["edited"] = {"user": BOT_USER, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": stored["ts"], "text": stored["text"]}

    def _history(self, args: Json) -> Json:
        channel = str(args.get("channel") or "")
        if self.channels is not None and channel not in self.channels and channel[:1] != "D":
            return {"ok": False, "error": "channel_not_found"}
        found = [
            m for m in self.messages
            if m["channel"] == channel and m.get("thread_ts", m["ts"]) == m["ts"]
        ]
        found = _window(found, args)
        found.sort(key=lambda m: float(m["ts"]), reverse=True)  # newest first, as Slack
        return _page(found, args, metadata=_truthy(args.get("include_all_metadata")))

    def _replies(self, args: Json) -> Json:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        parent = self._find(channel, ts)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        replies = [m for m in self.messages
                   if m["channel"] == channel and m.get("thread_ts") == ts and m["ts"] != ts]
        replies = _window(replies, args)
        replies.sort(key=lambda m: float(m["ts"]))
        return _page([parent, *replies], args, metadata=_truthy(args.get("include_all_metadata")))

    def _open(self, args: Json) -> Json:
        users = str(args.get("users") or "").split(",")
        if len(users) != 1 or users[0][:1] not in {"U", "W"}:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users[0][1:], "is_im": True}}

    def _lookup_by_email(self, args: Json) -> Json:
        email = str(args.get("email") or "")
        user_id = self.users.get(email.lower())
        if user_id is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user_id, "team_id": TEAM_ID,
                                     "profile": {"email": email}}}

    def _channel(self, target: str) -> tuple[str, str | None]:
        if target[:1] in {"U", "W"}:
            return "D" + target[1:], None  # a bot posting to a user id lands in their DM
        channel = target.lstrip("#")
        if self.channels is not None and channel not in self.channels:
            return channel, "channel_not_found"
        if channel in self.not_in_channels:
            return channel, "not_in_channel"
        return channel, None

    def _find(self, channel: str, ts: str) -> Json | None:
        return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

    def _next_ts(self) -> str:
        now = self._clock.now().timestamp() if self._clock is not None else time.time()
        self._last_ts = max(now, self._last_ts + 0.000001)  # ts are unique per channel
        return f"{self._last_ts:.6f}"


def _window(messages: list[Json], args: Json) -> list[Json]:
    oldest = float(args.get("oldest") or 0)
    latest = float(args.get("latest") or "inf")
    inclusive = _truthy(args.get("inclusive"))
    return [
        m for m in messages
        if (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"]))
        and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)
    ]


def _page(messages: list[Json], args: Json, metadata: bool) -> Json:
    limit = min(int(args.get("limit") or 100), 999)
    start = int(args.get("cursor") or 0)
    chunk = messages[start : start + limit]
    out = [
        {k: v for k, v in m.items() if k != "channel" and (metadata or k != "metadata")}
        for m in chunk
    ]
    more = start + limit < len(messages)
    return {"ok": True, "messages": out, "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in {"[", "{"}:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


def _handler_for(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            if not parts.path.startswith("/api/"):
                self._reply(404, {}, {"ok": False, "error": "unknown_method"})
                return
            args: Json = dict(parse_qsl(parts.query, keep_blank_values=True))
            args.update(self._body())
            status, headers, body = slack.handle(
                parts.path.removeprefix("/api/"), args, self.headers.get("Authorization")
            )
            self._reply(status, headers, body)

        def _body(self) -> Json:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            if not raw:
                return {}
            if "application/json" in (self.headers.get("Content-Type") or ""):
                data = json.loads(raw)
                return data if isinstance(data, dict) else {}
            return dict(parse_qsl(raw, keep_blank_values=True))

        def _reply(self, status: int, headers: dict[str, str], body: Json) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests assert on .calls instead

    return Handler
