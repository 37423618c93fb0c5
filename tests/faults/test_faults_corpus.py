"""Bad-input corpus: odd vendor payloads and broken config files.

Vendor payloads go through the real ShipBob connector (httpx.MockTransport speaking the
v1.0 wire format) and `land_snapshot` into a temp DuckDB. Each must either land every record
as sent (rows count) or fail the snapshot with a cause naming the system, and in both cases
the raw response body is kept byte for byte in `raw.payloads`: nothing is lost. Config files
must raise `ConfigError` naming the key (never a traceback from YAML or pydantic)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml
from faults_harness import ROOT, Sleeps, record

from extractors.landing import land_snapshot
from extractors.registry import build_connector
from stockdrift.clock import ManualClock
from stockdrift.config import ConfigError, SystemConfig, load_config

AT = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
LONG = "X" * 5000


def item(iid: Any = 1, name: Any = "Widget", **fc: Any) -> dict[str, Any]:
    center = {"id": 10, "name": "Cicero", "onhand_quantity": 5, "committed_quantity": 1,
              "fulfillable_quantity": 4, "awaiting_quantity": 0, "internal_transfer_quantity": 0}
    center.update(fc)
    return {"id": iid, "name": name, "fulfillable_quantity_by_fulfillment_center": [center]}


def j(*items: Any) -> bytes:
    return json.dumps(list(items), ensure_ascii=False).encode()


# name -> raw response body of ShipBob GET /1.0/inventory (one page)
VENDOR_CORPUS: dict[str, bytes] = {
    "empty array": b"[]",
    "unicode name": j(item(name="Büroklammer 🧷 ナット")),
    "rtl name": j(item(name="مشبك ورق")),
    "zero-width chars": j(item(name="Wid\u200bget\u200d")),
    "very long name": j(item(name=LONG)),
    "html injection": j(item(name="<script>alert(1)</script><img src=x onerror=1>")),
    "slack channel ping": j(item(name="<!channel> restock now")),
    "slack user mention": j(item(name="<@U0ADMIN> *bold* _it_ ~s~ `code`")),
    "slack link markup": j(item(name="<https://evil.example|click me>")),
    "markdown table break": j(item(name="a | b \n c")),
    "null name": j(item(name=None)),
    "huge quantity 2^31": j(item(onhand_quantity=2**31)),
    "huge quantity 2^63": j(item(onhand_quantity=2**63)),
    "quantity 1e30": b'[{"id":1,"name":"w","fulfillable_quantity_by_fulfillment_center":'
                     b'[{"id":10,"name":"c","onhand_quantity":1e30,"committed_quantity":0,'
                     b'"fulfillable_quantity":0,"awaiting_quantity":0,'
                     b'"internal_transfer_quantity":0}]}]',
    "negative on hand": j(item(onhand_quantity=-40)),
    "negative fulfillable": j(item(fulfillable_quantity=-3)),
    "fractional quantity": j(item(onhand_quantity=3.5)),
    "quantity as string": j(item(onhand_quantity="12")),
    "quantity null": j(item(onhand_quantity=None)),
    "quantity boolean": j(item(onhand_quantity=True)),
    "NaN literal": b'[{"id":1,"fulfillable_quantity_by_fulfillment_center":[{"id":10,'
                   b'"onhand_quantity":NaN}]}]',
    "duplicate item ids": j(item(1), item(1)),
    "duplicate fc rows": j({**item(1), "fulfillable_quantity_by_fulfillment_center":
                            [item()["fulfillable_quantity_by_fulfillment_center"][0]] * 2}),
    "huge item id": j(item(iid=10**30)),
    "negative item id": j(item(iid=-5)),
    "string item id": j(item(iid="SKU-1")),
    "missing id": json.dumps([{"name": "x", "fulfillable_quantity_by_fulfillment_center": []}])
    .encode(),
    "missing fc list": json.dumps([{"id": 1, "name": "x"}]).encode(),
    "fc list is object": json.dumps([{"id": 1, "fulfillable_quantity_by_fulfillment_center":
                                      {"id": 10}}]).encode(),
    "missing quantity fields": json.dumps([{"id": 1, "fulfillable_quantity_by_fulfillment_center":
                                            [{"id": 10}]}]).encode(),
    "object not array": b'{"items": []}',
    "string body": b'"ok"',
    "truncated json": j(item(), item(2))[:-7],
    "html error page": b"<html><body>502 Bad Gateway</body></html>",
    "utf-8 BOM": b"\xef\xbb\xbf" + j(item()),
    "latin-1 bytes": j(item(name="Kaffee"))[:-4] + b"\xe9\xe9" + j(item())[-4:],
    "nul bytes in name": j(item(name="wid\x00get")),
    "empty body": b"",
    "items are numbers": b"[1, 2, 3]",
    "2,000 items one page": j(*(item(i) for i in range(1, 2_001))),
}


def shipbob_system() -> SystemConfig:
    return SystemConfig(id="shipbob", role="3pl", connector="shipbob",
                        base_url="https://api.shipbob.test", credentials={"token": "SHIPBOB_TOKEN"},
                        freshness_target_minutes=15, options={"page_size": "250"})


def expected_rows(body: bytes) -> int | None:
    try:
        data = json.loads(body)
        return sum(len(i["fulfillable_quantity_by_fulfillment_center"]) for i in data)
    except Exception:
        return None


@pytest.mark.parametrize("case", list(VENDOR_CORPUS))
def test_vendor_payload_lands_whole_or_fails_clearly(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPBOB_TOKEN", "sandbox-shipbob-pat")
    body = VENDOR_CORPUS[case]
    handler: Callable[[httpx.Request], httpx.Response] = lambda request: httpx.Response(  # noqa: E731
        200, content=body, headers={"content-type": "application/json"})
    client = httpx.Client(transport=httpx.MockTransport(handler),
                          base_url="https://api.shipbob.test")
    connector = build_connector(shipbob_system(), client)
    connector._sleep = Sleeps()  # type: ignore[attr-defined]
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    from stockdrift.warehouse import ensure_schema

    ensure_schema(con)
    result = land_snapshot(con, shipbob_system(), connector, AT, ManualClock(AT))
    kept = con.execute("select body_gzip from raw.payloads where snapshot_id = ?",
                       [result.snapshot_id]).fetchall()
    landed = con.execute("select count(*) from raw.shipbob_inventory where snapshot_id = ?",
                         [result.snapshot_id]).fetchone()
    con.close()
    raw_kept = any(gzip.decompress(bytes(k[0])) == body for k in kept)
    if result.status == "succeeded":
        want = expected_rows(body)
        lost = (want or 0) - int(landed[0] if landed else 0)
        ok = raw_kept and lost == 0
    else:
        lost = 0
        ok = raw_kept and (result.error_cause or "").startswith("shipbob") and landed == (0,)
    record("bad vendor payload", case, ok, lost)
    assert ok, (result.status, result.error_cause, raw_kept, landed)


def example() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "stockdrift.example.yml").read_text("utf-8")))


def edit(fn: Callable[[dict[str, Any]], None]) -> str:
    data = example()
    fn(data)
    return yaml.safe_dump(data)


CONFIG_CORPUS: dict[str, tuple[bytes | str, str]] = {  # name -> (file content, key in error)
    "empty file": ("", ""),
    "not yaml": ("systems: [unclosed", ""),
    "yaml list": ("- a\n- b\n", ""),
    "binary garbage": (b"\x00\xff\xfe\x89PNG", ""),
    "latin-1 bytes": (b"master: erp\n" + b"owners: {caf\xe9: {slack: C0X}}\n", ""),
    "tabs indentation": ("master: erp\nsystems:\n\t- id: erp\n", ""),
    "unknown top key": (edit(lambda d: d.update(masterr="erp")), "masterr"),
    "misspelled system key": (edit(lambda d: d["systems"][0].update(freshnes_target_minutes=5)),
                              "freshnes_target_minutes"),
    "missing master": (edit(lambda d: d.pop("master")), "master"),
    "master not a system": (edit(lambda d: d.update(master="sap")), "master"),
    "duplicate system ids": (edit(lambda d: d["systems"].append(d["systems"][0])), "systems"),
    "bad timezone": (edit(lambda d: d["systems"][0].update(timezone="Mars/Olympus")), "timezone"),
    "negative freshness": (edit(lambda d: d["systems"][0].update(freshness_target_minutes=-5)),
                           "freshness_target_minutes"),
    "freshness as text": (edit(lambda d: d["systems"][0].update(freshness_target_minutes="5m")),
                          "freshness_target_minutes"),
    "non-http base_url": (edit(lambda d: d["systems"][0].update(base_url="ftp://x")),
                          "base_url"),
    "unknown connector": (edit(lambda d: d["systems"][0].update(connector="sap_rfc")),
                          "connector"),
    "unknown role": (edit(lambda d: d["systems"][0].update(role="warehouse")), "role"),
    "uppercase system id": (edit(lambda d: d["systems"][0].update(id="ERP")), "id"),
    "unknown cause in route": (edit(lambda d: d["routing"]["rules"][0]["when"].update(
        causes=["drift"])), "causes"),
    "route to unknown owner": (edit(lambda d: d["routing"]["rules"][0].update(owner="nobody")),
                               "owner"),
    "negative tolerance": (edit(lambda d: d["tolerances"].update(units=-1)), "units"),
    "share above 1": (edit(lambda d: d["tolerances"].update(sync_stopped_share=1.5)),
                      "sync_stopped_share"),
    "html in owner name": (edit(lambda d: d["owners"]["ecommerce"].update(
        slack="<!channel>")), "slack"),
    "negative channel buffer": (edit(lambda d: d["systems"][1].update(channel_buffer=-2)),
                                "channel_buffer"),
}


# load_config reads with encoding="utf-8" and catches only yaml.YAMLError, so a file that is
# not UTF-8 escapes as UnicodeDecodeError. Fix (stockdrift/config.py, load_config): catch
# UnicodeDecodeError too and raise ConfigError("<path>: not UTF-8 text: ...").
CONFIG_CASES = list(CONFIG_CORPUS)


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_invalid_config_fails_naming_the_key(case: str, tmp_path: Path) -> None:
    content, key = CONFIG_CORPUS[case]
    path = tmp_path / "bad.yml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    ok = False
    try:
        load_config(path)
    except ConfigError as exc:
        ok = key in str(exc) and "Traceback" not in str(exc)
        message = str(exc)
    except Exception as exc:  # anything but ConfigError is an unclear error
        message = f"{type(exc).__name__}: {exc}"
    else:
        message = "accepted"
    record("invalid config file", case, ok)
    assert ok, message
