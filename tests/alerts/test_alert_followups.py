"""State-change notifications through the whole alert stage against the fake Slack:
opened, resolved (thread + edit), worse, escalation, reminders, daily digest, heartbeat."""

from __future__ import annotations

from pathlib import Path

from alert_harness import Harness, clock, oversell, slack

from sandbox.slack_api import FakeSlack
from stockdrift import queue
from stockdrift.clock import ManualClock

__all__ = ["clock", "slack"]  # fixtures


def test_opened_then_resolved_replies_in_thread_and_edits_original(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    first = h.cycle([oversell("SD-1001"), oversell("SD-1002")])
    assert first.by_kind["opened"] == 1 and first.sent == 2  # one group + the heartbeat
    [parent] = h.posted("opened")
    assert parent["channel"] == "C0ECOMM001" and "2 SKUs" in parent["text"]
    h.cycle([oversell("SD-1002")])  # SD-1001 fixed: a reply, the original still open
    [reply] = h.posted("resolved")
    assert reply["thread_ts"] == parent["ts"] and "edited" not in parent
    h.cycle([])
    assert len(h.posted("resolved")) == 2
    assert parent["text"].startswith("Resolved: ") and "edited" in parent
    h.cycle([])  # nothing left to say
    assert len(h.posted("resolved")) == 2


def test_escalates_once_when_unacknowledged(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, routing={"escalate_after_minutes": 30,
                                                 "reminder_every_minutes": 1000})
    h.cycle([oversell("SD-1001")])
    for _ in range(5):  # 25 minutes: not yet
        h.cycle([oversell("SD-1001")])
    assert h.posted("escalated") == []
    for _ in range(4):
        h.cycle([oversell("SD-1001")])
    [esc] = h.posted("escalated")
    assert esc["channel"] == "D0OPSLEAD1" and "thread_ts" not in esc  # ops-lead's DM
    assert esc["text"].startswith("Escalated: ")


def test_acknowledged_is_not_escalated_nor_reminded(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, routing={"escalate_after_minutes": 10,
                                                 "reminder_every_minutes": 10})
    h.cycle([oversell("SD-1001")])
    [(fp,)] = h.query("select fingerprint from ops.exceptions")
    with h.con() as con:
        queue.transition(con, fp, "acknowledged", "ecommerce", "on it", clock.now(), h.cfg)
    for _ in range(6):
        h.cycle([oversell("SD-1001")])
    assert h.posted("escalated") == [] and h.posted("reminder") == []


def test_reminders_every_interval_as_thread_replies(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, routing={"reminder_every_minutes": 30,
                                                 "escalate_after_minutes": 1000})
    h.cycle([oversell("SD-1001")])
    [parent] = h.posted("opened")
    for _ in range(12):  # one hour
        h.cycle([oversell("SD-1001")])
    reminders = h.posted("reminder")
    assert len(reminders) == 2
    assert all(r["thread_ts"] == parent["ts"] for r in reminders)
    assert reminders[0]["text"].startswith("Still open: ")


def test_materially_worse_is_one_thread_update(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    h.cycle([oversell("SD-1001", severity="medium")])
    [parent] = h.posted("opened")
    h.cycle([oversell("SD-1001", severity="critical")])
    h.cycle([oversell("SD-1001", severity="critical")])
    [worse] = h.posted("worsened")
    assert worse["thread_ts"] == parent["ts"] and worse["text"].startswith("Worse: ")
    h.cycle([oversell("SD-1001", severity="high")])  # better is not news
    assert len(h.posted("worsened")) == 1


def test_low_severity_goes_to_one_daily_digest_per_owner(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    lows = [oversell(f"SD-10{i:02d}", severity="low") for i in range(30)]
    lows += [oversell("SD-2001", severity="low", system="shipbob", location="CICERO-3PL")]
    h.cycle(lows)
    assert h.posted("opened") == []
    digests = h.posted("digest")
    assert sorted(m["channel"] for m in digests) == ["C0ECOMM001", "C0INVOPS01"]
    assert any("30 open exceptions" in m["text"] for m in digests)
    for _ in range(6):
        h.cycle(lows)
    assert len(h.posted("digest")) == 2  # once per day, not per cycle
    h.cycle(lows, minutes=24 * 60)
    assert len(h.posted("digest")) == 4


def test_heartbeat_once_a_day_says_how_many_cycles_succeeded(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock)
    for _ in range(3):
        h.cycle([])
    [beat] = h.posted("heartbeat")
    assert beat["channel"] == "C0INVOPS01"  # the default owner
    assert "No earlier cycle in the last 24 h" in beat["text"]  # the first cycle ever
    h.cycle([], minutes=23 * 60)  # 08:15 the next day: a new date, all three in the window
    beats = h.posted("heartbeat")
    assert len(beats) == 2 and "3 of 3 cycles succeeded" in beats[1]["text"]


def test_nothing_daily_before_its_hour(
    tmp_path: Path, slack: FakeSlack, clock: ManualClock
) -> None:
    h = Harness(tmp_path, slack, clock, slack={"heartbeat_hour_utc": 10},
                routing={"digest_hour_utc": 10})
    h.cycle([oversell("SD-1001", severity="low")])  # 09:05
    assert slack.messages == []
    h.cycle([oversell("SD-1001", severity="low")], minutes=55)  # 10:00
    assert [len(h.posted(k)) for k in ("heartbeat", "digest", "opened")] == [1, 1, 0]
