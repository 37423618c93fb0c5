"""`stockdrift replay` and `stockdrift cursors` end to end: the pipeline's extract stage
lands snapshots (full, then incremental) from a sandbox server, the server goes away, and
the CLI re-lands the snapshots from their payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dagster_project.cli import main
from sandbox.serve import SANDBOX_TOKENS, SandboxServers
from sandbox.servers.shopify import LeakyBucket
from sandbox.world import World
from stockdrift.clock import ManualClock
from stockdrift.config import load_config
from stockdrift.pipeline import extract_system

START = datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def write_config(tmp: Path, shopify_url: str) -> Path:
    cfg: dict[str, Any] = {
        "warehouse_path": str(tmp / "wh.duckdb"), "out_dir": str(tmp), "master": "shopify",
        "systems": [{"id": "shopify", "role": "storefront", "connector": "shopify_rest",
                     "base_url": shopify_url, "credentials": {"access_token": "SHOP_TOKEN"},
                     "freshness_target_minutes": 5, "full_refresh_every_minutes": 60,
                     "max_concurrency": 2, "options": {"page_size": "5"}}],
        "locations": [{"id": "EAST-DC", "name": "East DC", "timezone": "UTC"}],
        "owners": {"ops": {"slack": "C0OPS"}},
        "routing": {"default_owner": "ops", "mapping_owner": "ops"},
    }
    path = tmp / "stockdrift.yml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_replay_and_cursors_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SHOP_TOKEN", SANDBOX_TOKENS["shopify"])
    monkeypatch.setenv("COLUMNS", "200")
    clock = ManualClock(START + timedelta(minutes=30))
    with SandboxServers(World(7, START), clock) as servers:
        servers.apps["shopify"].bucket = LeakyBucket(10**6, 10**6)  # type: ignore[attr-defined]
        path = write_config(tmp_path, servers.base_urls["shopify"])
        cfg = load_config(path)
        first = extract_system(cfg, "shopify", clock.now(), clock)
        clock.advance(timedelta(minutes=10))
        second = extract_system(cfg, "shopify", clock.now(), clock)
    assert first.status == second.status == "succeeded"
    con = duckdb.connect(str(cfg.warehouse_path))
    modes = con.execute("select mode from raw.snapshot_modes order by snapshot_id").fetchall()
    stored = con.execute("select snapshot_id, count(*) from raw.shopify_inventory_levels "
                         "group by 1 order by 1").fetchall()
    con.execute("delete from raw.shopify_inventory_levels")
    con.close()
    assert sorted(m for (m,) in modes) == ["full", "incremental"]

    monkeypatch.delenv("SHOP_TOKEN")  # neither the vendor nor its secret is needed
    assert main(["replay", "--config", str(path), "--system", "shopify"]) == 0
    assert main(["replay", "--config", str(path), "--snapshot", first.snapshot_id,
                 "--check"]) == 0
    out = capsys.readouterr().out
    assert "re-landed" in out and "checked" in out
    con = duckdb.connect(str(cfg.warehouse_path))
    assert con.execute("select snapshot_id, count(*) from raw.shopify_inventory_levels "
                       "group by 1 order by 1").fetchall() == stored
    con.close()
    assert main(["replay", "--config", str(path), "--snapshot", "missing"]) == 1
    assert main(["cursors", "--config", str(path), "list"]) == 0
    assert second.snapshot_id in capsys.readouterr().out
    assert main(["cursors", "--config", str(path), "reset", "shopify"]) == 0
    assert main(["cursors", "--config", str(path), "reset", "nope"]) == 1
    con = duckdb.connect(str(cfg.warehouse_path))
    assert con.execute("select full_refresh_requested from ops.extract_cursors").fetchone() \
        == (True,)
    con.close()
