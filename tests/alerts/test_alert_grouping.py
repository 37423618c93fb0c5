from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from alert_fixtures import CYCLE_AT

from alerts.grouping import build_messages
from alerts.model import AlertMessage
from stockdrift.config import StockdriftConfig

RowFactory = Callable[..., dict[str, Any]]


def test_one_message_per_owner_cause_system(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [
        row("fp1", sku="SD-1001"),
        row("fp2", sku="SD-1002", score=50),
        row("fp3", cause="stale_system", sku=None, location=None, owner_id="data-team"),
        row("fp4", system_id="shipbob", owner_id="inventory-ops", location="CICERO-3PL"),
    ]
    messages = build_messages(rows, cfg, CYCLE_AT)
    keys = [(m.owner_id, m.cause, m.system_id, m.total_items) for m in messages]
    assert keys == [
        ("data-team", "stale_system", "shopify", 1),
        ("ecommerce", "oversell_risk", "shopify", 2),
        ("inventory-ops", "oversell_risk", "shipbob", 1),
    ]
    shop = messages[1]
    assert [i.canonical_sku for i in shop.items] == ["SD-1002", "SD-1001"]  # worst first
    assert shop.slack_target == "C0ECOMM001"
    assert shop.title == (
        "Shopify shows more than the master has for 2 SKUs at East DC (oversell risk)"
    )
    assert messages[0].title == "Shopify data is older than its freshness target (stale system)"
    assert messages[2].title == (
        "ShipBob shows more than the master has for 1 SKU at ShipBob Cicero (oversell risk)"
    )


def test_title_summary_and_evidence(cfg: StockdriftConfig, row: RowFactory) -> None:
    [msg] = build_messages([row("fp1")], cfg, CYCLE_AT, report_url="http://r/x.html",
                           run_url="http://127.0.0.1:3000/runs/abc")
    assert msg.title == (
        "Shopify shows more than the master has for 1 SKU at East DC (oversell risk)"
    )
    assert msg.summary == (
        "1 exception, highest severity high. Worst: SD-1001 at East DC shows 12, expected 4 (+8)."
    )
    assert msg.since == datetime(2024, 5, 1, 9, 30)
    item = msg.items[0]
    assert (item.observed, item.expected, item.variance) == (12, 4, 8)
    assert item.master_changed_at == datetime(2024, 5, 1, 9, 25)
    assert msg.evidence["routing"].startswith("rule 'storefront drift goes to e-commerce'")
    assert msg.report_url == "http://r/x.html"


def test_alert_id_is_deterministic_and_order_independent(
    cfg: StockdriftConfig, row: RowFactory
) -> None:
    rows = [row(f"fp{i}", sku=f"SD-{1000 + i}") for i in range(5)]
    first = build_messages(rows, cfg, CYCLE_AT)
    again = build_messages(list(reversed(rows)), cfg, datetime(2024, 5, 1, 12, 5))
    assert [m.alert_id for m in first] == [m.alert_id for m in again]
    assert len(first[0].alert_id) == 16
    resolved = build_messages(rows, cfg, CYCLE_AT, kind="resolved")
    assert resolved[0].alert_id != first[0].alert_id


def test_reopened_exception_and_reminders_get_new_ids(
    cfg: StockdriftConfig, row: RowFactory
) -> None:
    [first] = build_messages([row("fp1")], cfg, CYCLE_AT)
    [reopened] = build_messages([row("fp1", times_opened=2)], cfg, CYCLE_AT)
    assert reopened.alert_id != first.alert_id
    [r1] = build_messages([row("fp1")], cfg, CYCLE_AT, kind="reminder")
    [r2] = build_messages([row("fp1")], cfg, datetime(2024, 5, 1, 14, 0), kind="reminder")
    assert r1.alert_id != r2.alert_id


def test_flood_lists_ten_and_counts_the_rest(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [row(f"fp{i:03}", sku=f"SD-{i:04}", score=float(i)) for i in range(300)]
    [msg] = build_messages(rows, cfg, CYCLE_AT)
    assert len(msg.items) == 10 and msg.total_items == 300 and msg.hidden_items == 290
    assert msg.items[0].canonical_sku == "SD-0299"
    assert len(msg.fingerprints) == 300


def test_followups_thread_under_the_opened_alert(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [row("fp1", alert_id="aaaa"), row("fp2", alert_id="aaaa"), row("fp3")]
    [resolved] = build_messages(rows, cfg, CYCLE_AT, kind="resolved")
    assert resolved.thread_of == "aaaa"
    assert resolved.title.startswith("Resolved: ")
    [escalated] = build_messages(rows, cfg, CYCLE_AT, kind="escalated")
    assert (escalated.owner_id, escalated.slack_target) == ("ops-lead", "U0OPSLEAD1")


def test_digest_is_one_message_per_owner(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [row("fp1"), row("fp2", cause="sync_lag_breach"), row("fp3", owner_id="data-team")]
    digests = build_messages(rows, cfg, CYCLE_AT, kind="digest")
    assert [(m.owner_id, m.total_items) for m in digests] == [("data-team", 1), ("ecommerce", 2)]
    assert digests[1].title == "Digest: 2 open exceptions for E-commerce team"


def test_json_round_trip(cfg: StockdriftConfig, row: RowFactory) -> None:
    [msg] = build_messages([row("fp1"), row("fp2", sku="<!channel>")], cfg, CYCLE_AT)
    assert AlertMessage.from_json(msg.to_json()) == msg
    assert AlertMessage.from_json(msg.to_dict()) == msg
