"""Golden-file tests of the rendered Block Kit payloads.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/alerts` and review
the diff of tests/alerts/golden/ like code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alert_fixtures import CYCLE_AT

from alerts.blockkit import limit_problems, render
from alerts.escape import fit, mrkdwn
from alerts.grouping import build_messages
from alerts.model import AlertItem, AlertMessage
from stockdrift.config import StockdriftConfig

GOLDEN = Path(__file__).parent / "golden"
EVIL = "<!channel> & <@U123> <http://evil|click>"
RowFactory = Callable[..., dict[str, Any]]


def check_golden(name: str, payload: dict[str, Any]) -> None:
    path = GOLDEN / name
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see module docstring"


def mrkdwn_texts(payload: dict[str, Any]) -> Iterator[str]:
    """Every string Slack parses as mrkdwn: the fallback and all mrkdwn text objects."""
    yield payload["text"]
    for block in payload["blocks"]:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if obj and obj["type"] == "mrkdwn":
                yield obj["text"]


def test_normal_message(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [row("fp1"), row("fp2", sku="SD-1002", score=30, observed=7, expected=2)]
    [msg] = build_messages(rows, cfg, CYCLE_AT, report_url="http://127.0.0.1:8080/report.html",
                           run_url="http://127.0.0.1:3000/runs/r-1?a=1&b=2")
    payload = render(msg)
    check_golden("opened_oversell.json", payload)
    assert limit_problems(payload) == []
    assert [b["type"] for b in payload["blocks"]] == [
        "header", "section", "section", "section", "section", "context"
    ]  # header, overview, items, suggested check, queue commands, footer


def test_injection_laden_sku_is_escaped(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [row("fp1", sku=EVIL, location="EAST-DC",
                probable_cause=f"vendor says {EVIL}", suggested_check=EVIL, title=EVIL)]
    [msg] = build_messages(rows, cfg, CYCLE_AT)
    payload = render(msg)
    check_golden("opened_injection.json", payload)
    escaped = "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;http://evil|click&gt;"
    for text in mrkdwn_texts(payload):
        _assert_only_our_tokens(text)
    assert escaped in payload["text"]
    assert any(escaped in t for t in mrkdwn_texts(payload) if t != payload["text"])
    # The header is plain_text: Slack never parses mentions or links there.
    assert payload["blocks"][0]["text"]["type"] == "plain_text"


def test_user_group_mention_is_ours_not_escaped(cfg: StockdriftConfig, row: RowFactory) -> None:
    [msg] = build_messages([row("fp1")], cfg, CYCLE_AT)
    payload = render(msg, mention="<!subteam^S0DATATEAM>")
    assert payload["text"].startswith("<!subteam^S0DATATEAM> ")
    assert payload["blocks"][1]["text"]["text"].startswith("<!subteam^S0DATATEAM>\n")


def test_flood_of_300_stays_within_limits(cfg: StockdriftConfig, row: RowFactory) -> None:
    rows = [row(f"fp{i:03}", sku=f"SD-{i:04}", score=float(i)) for i in range(300)]
    [msg] = build_messages(rows, cfg, CYCLE_AT)
    payload = render(msg)
    check_golden("opened_flood_300.json", payload)
    assert limit_problems(payload) == []
    assert "…and 290 more" in json.dumps(payload, ensure_ascii=False)


def test_oversized_message_is_cut_at_token_boundaries() -> None:
    long_sku = "&<>" * 900  # escapes to 12 chars per repeat, far over every limit
    items = [
        AlertItem(long_sku + str(i), "EAST-DC", "shopify", 1, 0, 1, None, detail=long_sku)
        for i in range(300)
    ]
    msg = AlertMessage(
        alert_id="0123456789abcdef", kind="opened", owner_id="ecommerce",
        slack_target="C0ECOMM001", cause="oversell_risk", system_id="shopify",
        severity="critical", title="T" * 400, summary=long_sku * 3, probable_cause=long_sku,
        suggested_check=long_sku, since=datetime(2024, 5, 1), items=items, total_items=337,
        evidence={"locations": [f"L{i}" for i in range(40)], "routing": long_sku},
    )
    payload = render(msg)
    assert limit_problems(payload) == []
    assert len(payload["blocks"][0]["text"]["text"]) <= 150
    assert len(payload["blocks"][2]["fields"]) == 10
    assert "…and 327 more" in payload["blocks"][3]["elements"][0]["text"]
    for text in mrkdwn_texts(payload):
        _assert_only_our_tokens(text)
        _assert_no_torn_entity(text)


@pytest.mark.parametrize("limit", range(1, 40))
def test_fit_never_splits_an_entity(limit: int) -> None:
    text = fit(mrkdwn("a & b < c > d " * 5), limit)
    assert len(text) <= max(limit, 1)
    _assert_no_torn_entity(text)


def _assert_only_our_tokens(text: str) -> None:
    for i, ch in enumerate(text):
        if ch == "<":
            assert text[i:].startswith(("<!date^", "<http", "<!subteam^")), text[i : i + 12]
            assert ">" in text[i:], "a generated token was cut open"


def _assert_no_torn_entity(text: str) -> None:
    for i, ch in enumerate(text):
        if ch == "&":
            assert text[i:].startswith(("&amp;", "&lt;", "&gt;")), text[i : i + 6]
