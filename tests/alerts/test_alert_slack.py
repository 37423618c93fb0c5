"""SlackSender and the delivery loop against the fake Slack Web API (real HTTP on loopback)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import duckdb
import pytest
from alert_fixtures import CYCLE_AT
from slack_sdk import WebClient

from alerts import outbox
from alerts.deliver import deliver_pending
from alerts.grouping import build_messages
from alerts.senders import DeliveryError, SlackSender
from sandbox.slack_api import FakeSlack
from stockdrift.clock import ManualClock
from stockdrift.config import StockdriftConfig, parse_config

RowFactory = Callable[..., dict[str, Any]]
SENT_AT = datetime(2024, 5, 1, 12, 1)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    # ts from a clock at the cycle time, so `oldest=created_at` lines up as on real Slack.
    clock = ManualClock(datetime.fromisoformat("2024-05-01T12:00:30+00:00"))
    with FakeSlack(clock=clock, users={"lead@example.com": "U0LEAD0001"},
                   not_in_channels={"C0NOTIN001"}) as server:
        yield server


def sender(slack: FakeSlack, cfg: StockdriftConfig, token: str | None = None) -> SlackSender:
    return SlackSender(token or slack.token, slack.base_url, cfg, server_error_backoff=0.01,
                       pace_seconds=0)


def enqueue_one(con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory,
                **kw: Any) -> Any:
    [msg] = build_messages([row("fp1", **kw)], cfg, CYCLE_AT, run_url="http://d/runs/1")
    outbox.enqueue(con, [msg], CYCLE_AT)
    return msg


def test_fake_server_speaks_the_web_api(slack: FakeSlack) -> None:
    client = WebClient(token=slack.token, base_url=slack.base_url)
    assert client.auth_test()["bot_id"] == "B0STOCKDRIFT"
    posted = client.chat_postMessage(channel="C1", text="hi",
                                     metadata={"event_type": "x", "event_payload": {"a": 1}})
    client.chat_update(channel="C1", ts=posted["ts"], text="edited")
    history = client.conversations_history(channel="C1", include_all_metadata=True)
    assert history["messages"][0]["text"] == "edited"
    assert history["messages"][0]["metadata"]["event_payload"] == {"a": 1}
    assert "metadata" not in client.conversations_history(channel="C1")["messages"][0]
    bad = WebClient(token="xoxb-wrong", base_url=slack.base_url)
    with pytest.raises(Exception, match="invalid_auth"):
        bad.auth_test()


def test_sends_with_metadata_and_marks_sent(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    msg = enqueue_one(con, cfg, row)
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert (report.sent, report.failed) == (1, 0)
    [posted] = slack.messages
    assert posted["channel"] == "C0ECOMM001"
    assert posted["metadata"] == {"event_type": "stockdrift_alert",
                                  "event_payload": {"alert_id": msg.alert_id}}
    assert posted["blocks"][0]["type"] == "header"
    ts = con.execute("select slack_ts, delivered_to, status from ops.alert_outbox").fetchone()
    assert ts == (posted["ts"], "C0ECOMM001", "sent")
    assert deliver_pending(con, sender(slack, cfg), SENT_AT).sent == 0  # nothing left


def test_crash_between_send_and_mark_is_not_sent_twice(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    msg = enqueue_one(con, cfg, row)
    outbox.begin_attempt(con, msg.alert_id)
    sender(slack, cfg).send(msg)  # delivered, then the process dies before mark_sent
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert (report.sent, report.recovered) == (1, 1)
    assert len(slack.messages) == 1
    [history_call] = slack.calls_to("conversations.history")
    assert history_call["include_all_metadata"] == "1"
    assert float(history_call["oldest"]) <= datetime.fromisoformat(
        "2024-05-01T12:00:00+00:00").timestamp()
    assert con.execute("select slack_ts from ops.alert_outbox").fetchone() == (
        slack.messages[0]["ts"],)


def test_crash_before_the_send_reached_slack_sends_once(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    msg = enqueue_one(con, cfg, row)
    outbox.begin_attempt(con, msg.alert_id)  # died before the request went out
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert (report.sent, report.recovered) == (1, 0)
    assert len(slack.messages) == 1


def test_rate_limit_honours_retry_after_then_delivers_once(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    enqueue_one(con, cfg, row)
    slack.fail_next(1, "ratelimited", method="chat.postMessage")
    started = time.monotonic()
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert (report.sent, report.failed) == (1, 0)
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.messages) == 1


def test_server_error_is_retried(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    enqueue_one(con, cfg, row)
    slack.fail_next(2, "server_error")
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert (report.sent, report.failed) == (1, 0)
    assert len(slack.calls_to("chat.postMessage")) == 3 and len(slack.messages) == 1


@pytest.mark.parametrize("kind", ["invalid_auth", "channel_not_found", "not_in_channel"])
def test_refusals_raise_delivery_error_and_row_stays_pending(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack,
    kind: str,
) -> None:
    msg = enqueue_one(con, cfg, row)
    slack.fail_next(1, kind)
    with pytest.raises(DeliveryError) as caught:
        sender(slack, cfg).send(msg)
    text = str(caught.value)
    assert "owner 'ecommerce'" in text and "C0ECOMM001" in text and kind in text
    assert (caught.value.owner_id, caught.value.channel, caught.value.error) == (
        "ecommerce", "C0ECOMM001", kind)
    slack.fail_next(1, kind)
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert report.failed == 1 and kind in report.errors[0]
    assert [m.alert_id for m in outbox.pending(con)] == [msg.alert_id]
    assert slack.messages == []


def test_wrong_token_is_never_in_the_error(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    msg = enqueue_one(con, cfg, row)
    secret = "xoxb-this-is-secret-123"
    with pytest.raises(DeliveryError) as caught:
        sender(slack, cfg, token=secret).send(msg)
    assert "invalid_auth" in str(caught.value) and secret not in str(caught.value)
    assert "slack.token_env" in str(caught.value)


def test_not_in_channel_from_the_server_state(
    cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    data = cfg.model_dump(mode="json")
    data["owners"]["ecommerce"]["slack"] = "C0NOTIN001"
    cfg2 = parse_config(data)
    [msg] = build_messages([row("fp1")], cfg2, CYCLE_AT)
    expected = r"not_in_channel \(HTTP 200\); invite the stockdrift app"
    with pytest.raises(DeliveryError, match=expected):
        sender(slack, cfg2).send(msg)


def test_user_group_posts_in_default_channel_with_mention(
    cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    [msg] = build_messages([row("fp1", cause="stale_system", owner_id="data-team")], cfg,
                           CYCLE_AT)
    delivery = sender(slack, cfg).send(msg)
    assert delivery.delivered_to == "C0INVOPS01"
    assert slack.messages[0]["text"].startswith("<!subteam^S0DATATEAM> ")


def test_email_owner_is_looked_up_once_and_dm_history_checked(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    data = cfg.model_dump(mode="json")
    data["owners"]["ecommerce"]["slack"] = "lead@example.com"
    cfg2 = parse_config(data)
    rows = [row("fp1"), row("fp2", cause="sync_lag_breach")]
    messages = build_messages(rows, cfg2, CYCLE_AT)
    outbox.enqueue(con, messages, CYCLE_AT)
    s = sender(slack, cfg2)
    outbox.begin_attempt(con, messages[0].alert_id)
    s.send(messages[0])  # crash before mark: the rerun must look in the DM's history
    report = deliver_pending(con, s, SENT_AT)
    assert (report.sent, report.recovered) == (2, 1)
    assert len(slack.calls_to("users.lookupByEmail")) == 1
    assert {m["channel"] for m in slack.messages} == {"D0LEAD0001"}
    assert len(slack.messages) == 2


def test_followup_replies_in_the_thread_of_the_opened_alert(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    opened = enqueue_one(con, cfg, row)
    deliver_pending(con, sender(slack, cfg), SENT_AT)
    [resolved] = build_messages([row("fp1", alert_id=opened.alert_id)], cfg, CYCLE_AT,
                                kind="resolved")
    outbox.enqueue(con, [resolved], SENT_AT)
    outbox.begin_attempt(con, resolved.alert_id)  # and crash: the reply check reads the thread
    report = deliver_pending(con, sender(slack, cfg), SENT_AT)
    assert (report.sent, report.recovered) == (1, 0)
    assert len(slack.calls_to("conversations.replies")) == 1
    parent, reply = slack.messages
    assert reply["thread_ts"] == parent["ts"] and reply["channel"] == parent["channel"]
    # The original message is edited to show it is resolved.
    assert parent["text"].startswith("Resolved: ") and "edited" in parent
    assert parent["blocks"][0]["text"]["text"].startswith(":white_check_mark: Resolved: ")


def test_workspace_error_defers_the_rest_of_the_outbox(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, row: RowFactory, slack: FakeSlack
) -> None:
    rows = [row("fp1"), row("fp2", cause="stale_system", owner_id="data-team", sku=None)]
    outbox.enqueue(con, build_messages(rows, cfg, CYCLE_AT), CYCLE_AT)
    bad = sender(slack, cfg, token="xoxb-revoked")
    report = deliver_pending(con, bad, SENT_AT)
    assert (report.sent, report.failed, report.deferred) == (0, 1, 1)
    assert "invalid_auth" in report.errors[0] and "slack.token_env" in report.errors[0]
    attempts = [r[0] for r in con.execute(
        "select attempts from ops.alert_outbox order by attempts desc").fetchall()]
    assert attempts == [1, 0]  # one try against the outage, not one per row
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert deliver_pending(con, sender(slack, cfg), SENT_AT).sent == 2
