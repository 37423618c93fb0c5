"""Alerts: exception rows -> platform-neutral messages -> outbox -> Slack or a local file.

    rows = ...  # ops.exceptions rows as dicts
    messages = build_messages(rows, cfg, cycle_at)
    enqueue(con, messages, cycle_at)                  # committed before any send
    deliver_pending(con, build_sender(cfg), clock.now())

See alerts/README.md for the delivery guarantee and how to add an alert route.
"""

from alerts.blockkit import render
from alerts.deliver import DeliveryReport, deliver_pending
from alerts.grouping import build_messages
from alerts.model import AlertItem, AlertKind, AlertMessage
from alerts.outbox import enqueue, mark_failed, mark_sent, pending, record_alerted
from alerts.routing import RouteDecision, RouteInput, route, validate_routes
from alerts.senders import (
    Delivery,
    DeliveryError,
    FileSender,
    Sender,
    SlackSender,
    build_sender,
)

__all__ = [
    "AlertItem",
    "AlertKind",
    "AlertMessage",
    "Delivery",
    "DeliveryError",
    "DeliveryReport",
    "FileSender",
    "RouteDecision",
    "RouteInput",
    "Sender",
    "SlackSender",
    "build_messages",
    "build_sender",
    "deliver_pending",
    "enqueue",
    "mark_failed",
    "mark_sent",
    "pending",
    "record_alerted",
    "render",
    "route",
    "validate_routes",
]
