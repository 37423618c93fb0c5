"""Fixtures for the audit tests: a git repository of mapping seeds with a history made by
two people, and a copy of the dbt-built scenario warehouse (shared with tests/reports)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "reports"))

from scenario_warehouse import ReportWarehouse, shared_warehouse  # noqa: E402

SKU_HEADER = "system_id,external_sku,canonical_sku\n"
LOC_HEADER = "system_id,external_location,canonical_location\n"
DANA = ("Dana Data", "dana@example.com")
ELI = ("Eli Ecom", "eli@example.com")


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ReportWarehouse:
    return shared_warehouse(tmp_path_factory)


@dataclass
class SeedRepo:
    root: Path
    seeds: Path
    commits: list[str]

    def write(self, name: str, text: str) -> None:
        (self.seeds / name).write_text(text, encoding="utf-8")


def git(root: Path, *args: str, author: tuple[str, str] = DANA, when: str = "") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
        "GIT_AUTHOR_DATE": when or "2025-01-01T09:00:00Z",
        "GIT_COMMITTER_DATE": when or "2025-01-01T09:00:00Z",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull,
    }
    done = subprocess.run(["git", "-C", str(root), *args], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def seed_repo(tmp_path: Path) -> SeedRepo:
    """Three commits: Dana maps the catalog (from the real seeds, less ShipBob's SD-1003);
    Eli adds that row and by mistake points Shopify's SD-1002 at SD-1002X; Dana fixes it."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    seeds = root / "dbt" / "seeds"
    seeds.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    repo = SeedRepo(root, seeds, [])
    real_sku = (REPO / "dbt" / "seeds" / "sku_map.csv").read_text(encoding="utf-8")
    real_loc = (REPO / "dbt" / "seeds" / "location_map.csv").read_text(encoding="utf-8")
    first = "".join(line for line in real_sku.splitlines(keepends=True)
                    if line.strip() != "shipbob,880002,SD-1003")
    steps = [
        (DANA, "2025-01-01T09:00:00Z", "map the catalog", first, real_loc),
        (ELI, "2025-01-02T10:30:00Z", "map ShipBob SD-1003",
         real_sku.replace("shopify,SD-1002,SD-1002", "shopify,SD-1002,SD-1002X"), real_loc),
        (DANA, "2025-01-03T08:15:00Z", "fix SD-1002", real_sku, real_loc),
    ]
    for author, when, message, sku, loc in steps:
        repo.write("sku_map.csv", sku)
        repo.write("location_map.csv", loc)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", message, author=author, when=when)
        repo.commits.append(git(root, "rev-parse", "HEAD"))
    return repo


@pytest.fixture
def warehouse_copy(report_warehouse: ReportWarehouse, tmp_path: Path) -> Path:
    """A private copy (the audit commands write to it) and a config pointing at it."""
    db = tmp_path / "wh" / "stockdrift.duckdb"
    db.parent.mkdir()
    shutil.copyfile(report_warehouse.path, db)
    data = yaml.safe_load(report_warehouse.config_path.read_text(encoding="utf-8"))
    data["warehouse_path"] = str(db)
    data["out_dir"] = str(tmp_path / "out")
    config = tmp_path / "wh" / "stockdrift.yml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return config
