"""Session fixtures for the report tests: the dbt-built warehouse of `scenario_warehouse.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_warehouse import ReportWarehouse, shared_warehouse


@pytest.fixture(scope="session")
def report_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ReportWarehouse:
    return shared_warehouse(tmp_path_factory)
