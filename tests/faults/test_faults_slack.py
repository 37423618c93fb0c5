"""Slack down for an hour: alerts of a real cycle wait in the outbox through twelve 5-minute
alert runs against a failing Slack (the fake Slack Web API on loopback, driven by the
injected clock), then every one is delivered exactly once, and a later run sends nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from faults_harness import Deployment, record, start_deployment
from rich.console import Console

from alerts.senders import SlackSender
from sandbox.serve import FaultMode
from sandbox.slack_api import FakeSlack
from stockdrift.alerting import alert_cycle


@pytest.fixture
def dep(tmp_path: Path) -> Iterator[Deployment]:
    deployment, servers = start_deployment(tmp_path)
    try:
        yield deployment
    finally:
        servers.stop()


def delivered_ids(slack: FakeSlack) -> list[str]:
    ids = []
    for msg in slack.messages:
        payload = (msg.get("metadata") or {}).get("event_payload") or {}
        ids.append(str(payload.get("alert_id")))
    return ids


def test_slack_down_an_hour_then_every_alert_once(dep: Deployment) -> None:
    quiet = Console(file=io.StringIO())
    with FakeSlack(clock=dep.clock) as slack:
        sender = SlackSender(slack.token, slack.base_url, dep.cfg, max_retries=0,
                             server_error_backoff=0.0, pace_seconds=0.0, timeout=2.0)
        outage_from = dep.next_cycle_at()
        slack.outage(until=outage_from + timedelta(hours=1))
        for system_id in ("shopify", "shipbob"):  # two failed extractions -> alerts
            dep.servers.set_fault(system_id, FaultMode("status_500"))
        try:
            first = dep.cycle(alert_kwargs={"sender": sender, "console": quiet})
        finally:
            for system_id in ("shopify", "shipbob"):
                dep.servers.set_fault(system_id, None)
        queued = first.alerts.enqueued
        during = []
        for step in range(1, 13):  # the alert stage every 5 minutes for an hour
            at = outage_from + timedelta(minutes=5 * step)
            dep.clock.set(at)
            during.append(alert_cycle(dep.cfg, at, sender=sender, console=quiet).sent)
        after = outage_from + timedelta(minutes=65)
        dep.clock.set(after)
        recovered = alert_cycle(dep.cfg, after, sender=sender, console=quiet)
        again = alert_cycle(dep.cfg, after + timedelta(minutes=5), sender=sender, console=quiet)
        outbox = dep.query("select alert_id, status from ops.alert_outbox")
        ids = delivered_ids(slack)
    sent_during = sum(during[:-1])  # the 12th run is exactly at the outage end
    lost = sum(1 for _, status in outbox if status != "sent")
    doubled = len(ids) - len(set(ids))
    ok = queued >= 1 and sent_during == 0 and lost == 0 and doubled == 0 and again.sent == 0 \
        and sorted(set(ids)) == sorted(a for a, _ in outbox)
    record("Slack down 1 hour", f"{queued} alerts queued, 13 runs", ok, 0, lost, doubled)
    assert queued >= 1
    assert sent_during == 0, during
    assert (lost, doubled, again.sent) == (0, 0, 0), (outbox, ids, recovered)
    assert sorted(set(ids)) == sorted(a for a, _ in outbox)
