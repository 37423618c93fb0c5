"""What one cycle's `dbt build` runs: every model and the marts' tests; seeds only when a
seed file changed; the whole-history staging/intermediate tests only in `dbt_data_tests`."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dagster_project.defs import transform
from stockdrift.config import load_config
from stockdrift.warehouse import open_warehouse, write_config

ROOT = Path(__file__).resolve().parents[2]


def _kinds(nodes: list[Any]) -> Counter[str]:
    return Counter(str(n.node.resource_type).rsplit(".", 1)[-1].lower() for n in nodes)


def _tested_layers(nodes: list[Any]) -> set[str]:
    return {n.node.original_file_path.split("/")[1] for n in nodes
            if str(n.node.resource_type).lower().endswith("test")}


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty warehouse (raw tables, config) and a copy of the seed folder to edit."""
    path = tmp_path / "w.duckdb"
    with open_warehouse(path) as con:
        write_config(con, load_config(ROOT / "stockdrift.example.yml"))
    seeds = tmp_path / "seeds"
    shutil.copytree(transform.SEED_DIR, seeds)
    monkeypatch.setattr(transform, "SEED_DIR", seeds)
    monkeypatch.setitem(os.environ, "STOCKDRIFT_WAREHOUSE", str(path))
    return path


def test_seeds_load_once_then_only_when_a_seed_file_changes(warehouse: Path) -> None:
    first = transform.run_dbt_build("2026-11-02 14:05:00")
    assert _kinds(first)["seed"] > 0

    second = transform.run_dbt_build("2026-11-02 14:10:00")
    kinds = _kinds(second)
    assert kinds["seed"] == 0 and kinds["model"] == _kinds(first)["model"]
    # the cycle tests the marts only; seed tests ran with the seeds
    assert _tested_layers(second) == {"marts"}
    assert "_seeds.yml" in {n.node.original_file_path.split("/")[-1] for n in first}

    sku_map = transform.SEED_DIR / "sku_map.csv"
    sku_map.write_text(sku_map.read_text("utf-8") + "shopify,NEW-SKU,SD-1001\n", "utf-8")
    third = transform.run_dbt_build("2026-11-02 14:15:00")
    assert _kinds(third)["seed"] > 0
    with open_warehouse(warehouse) as con:
        assert con.execute("select fingerprint from ops.dbt_seed_loads").fetchall() == [
            (transform.seed_fingerprint(),)
        ]


def test_the_hourly_job_runs_every_data_test(warehouse: Path) -> None:
    transform.run_dbt_build("2026-11-02 14:05:00")
    nodes = transform.run_dbt_data_tests("2026-11-02 14:10:00")
    assert {"staging", "intermediate", "marts"} <= _tested_layers(nodes)
