"""The alert path watches itself: failing owners become alert_delivery_failed exceptions, an
hour-long Slack outage ends with every alert delivered exactly once, and a crash between the
outbox write and the send neither loses nor doubles an alert."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from alert_harness import Harness, clock, oversell, slack

from alerts.model import AlertMessage
from alerts.outbox import ThreadRef
from alerts.senders import Delivery
from sandbox.slack_api import FakeSlack
from stockdrift.clock import ManualClock

__all__ = ["clock", "slack"]  # fixtures


def delivery_exceptions(h: Harness) -> list[tuple[str, str, str, dict[str, object]]]:
    rows = h.query("select owner_id, status, external_id, evidence from ops.exceptions "
                   "where cause = 'alert_delivery_failed' order by first_seen_at")
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth"])
def test_failing_owner_becomes_exception_for_default_owner_then_recovers(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock, error: str
) -> None:
    h = Harness(tmp_path, slack, clock, slack={"max_attempts": 3, "heartbeat_hour_utc": 23})
    failing = "chat.postMessage"
    slack.fail_next(3, error, method=failing)
    results = [h.cycle([oversell("SD-1001")]) for _ in range(2)]
    assert all(r.healthy for r in results) and delivery_exceptions(h) == []
    assert error in results[0].errors[0] and "owner 'ecommerce'" in results[0].errors[0]
    third = h.cycle([oversell("SD-1001")])  # third failed attempt: attempts exhausted
    assert not third.healthy
    [(owner, status, about, evidence)] = delivery_exceptions(h)
    assert (owner, status, about) == ("inventory-ops", "open", "ecommerce")
    assert evidence["slack_error"] == error and evidence["attempts"] == 3
    assert evidence["channel"] == "C0ECOMM001" and evidence["queued_alerts"] == 1
    [told] = slack.messages  # the default owner's channel works: told in the same cycle
    assert told["channel"] == "C0INVOPS01" and "not reaching C0ECOMM001" in told["text"]
    fixed = h.cycle([oversell("SD-1001")])  # Slack or the config is fixed
    assert fixed.healthy
    opened = [m for m in slack.messages if m["channel"] == "C0ECOMM001"]
    assert len(opened) == 1  # the queued alert, once
    assert [s for _, s, _, _ in delivery_exceptions(h)] == ["resolved"]


def test_unresolvable_email_owner_is_an_exception_at_once(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, owners={"ecommerce": {"slack": "nobody@example.com"}})
    result = h.cycle([oversell("SD-1001")])  # max_attempts is 5: no waiting for those
    assert not result.healthy
    [(owner, _, about, evidence)] = delivery_exceptions(h)
    assert (owner, about, evidence["slack_error"]) == ("inventory-ops", "ecommerce",
                                                       "users_not_found")


def test_hour_long_outage_then_every_alert_arrives_once(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    slack.outage(until=clock.now() + timedelta(hours=1, minutes=1))
    findings = []
    for i in range(12):  # a new problem every 5 minutes while Slack is down
        findings.append(oversell(f"SD-1{i:03d}", system="shipbob", location="CICERO-3PL"))
        h.cycle(findings)
    assert slack.messages == []
    assert delivery_exceptions(h)[0][1] == "open"  # the watchdog noticed during the outage
    after = h.cycle(findings)
    assert after.healthy and after.pending == 0
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages]
    outbox = [r[0] for r in h.query("select alert_id from ops.alert_outbox")]
    assert Counter(ids) == Counter(outbox)  # every queued alert exactly once
    assert len(ids) == len(set(ids)) >= 12
    h.cycle(findings)
    assert len(slack.messages) == len(ids)  # and nothing repeats afterwards


class Killed(BaseException):
    """The process dying: not an Exception, so nothing on the way catches it."""


class CrashAfterSend:
    """Sends for real, then 'the process dies' before the outbox is marked."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def send(self, msg: AlertMessage, thread: ThreadRef | None = None) -> Delivery:
        self.inner.send(msg, thread)  # type: ignore[attr-defined]
        raise Killed("between send and mark_sent")

    def find_delivered(self, *args: object) -> Delivery | None:
        return None


def test_crash_between_send_and_mark_neither_loses_nor_doubles(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    real = h.sender
    h.sender = CrashAfterSend(real)  # type: ignore[assignment]
    with pytest.raises(Killed):
        h.cycle([oversell("SD-1001")])
    assert len(slack.messages) == 1
    h.sender = real
    rerun = h.cycle([oversell("SD-1001")])
    assert rerun.pending == 0
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages]
    assert len(ids) == len(set(ids)) == len(h.query("select * from ops.alert_outbox"))


def test_crash_after_write_before_send_delivers_on_rerun(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    real = h.sender

    class DiesBeforeSend(CrashAfterSend):
        def send(self, msg: AlertMessage, thread: ThreadRef | None = None) -> Delivery:
            raise Killed("before the request left")

    h.sender = DiesBeforeSend(real)  # type: ignore[assignment]
    with pytest.raises(Killed):
        h.cycle([oversell("SD-1001")])
    assert slack.messages == [] and h.query(
        "select count(*) from ops.alert_outbox where status = 'pending'")[0][0] >= 1
    h.sender = real
    h.cycle([oversell("SD-1001")])
    ids = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages]
    assert len(ids) == len(set(ids)) == len(h.query("select * from ops.alert_outbox"))
