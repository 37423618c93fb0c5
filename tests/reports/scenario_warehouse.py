"""A real warehouse with history for the report and audit tests, built once per session
(`shared_warehouse` memoizes per pytest base temp dir, so both conftests share one build).

The dbt scenario of `tests/dbt/dbt_scenario.py` (four 5-minute cycles; Shopify oversells
SD-1001 from cycle 1; ShipBob's extraction fails in cycle 3) is landed and built with dbt,
then the exception queue gets a small history through the real queue API:

- 09:00 detected: A oversell_risk (shopify SD-1001 @ EAST-DC), B unmapped_sku (erp SD-2001),
  C extract_failed (shipbob);
- 09:07 A acknowledged by data-team (7 minutes to acknowledge);
- 09:10 the checks run again without C: C resolved by the data (10 minutes to resolve);
- 09:12 B resolved by data-team (12 minutes to resolve).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "dbt"))

import dbt_scenario as sc  # noqa: E402

from expectations.findings import Finding, Scope, SuiteOutcome  # noqa: E402
from stockdrift import queue  # noqa: E402
from stockdrift.config import StockdriftConfig, load_config  # noqa: E402
from stockdrift.warehouse import ensure_schema, write_config  # noqa: E402

PROJECT_DIR = REPO / "dbt"


@dataclass
class ReportWarehouse:
    path: Path
    config_path: Path
    cfg: StockdriftConfig
    tmp: Path

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(self.path))
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()


def _finding(cause: str, system: str, sku: str | None, loc: str | None, ext: str | None) -> Finding:
    return Finding(cause, system, sku, loc, ext, "high", 50.0, f"{cause} {system} {sku}",
                   "probable cause", "check this")


FINDING_A = _finding("oversell_risk", "shopify", sc.OVERSOLD.sku, sc.EAST.location_id, None)
FINDING_B = _finding("unmapped_sku", "erp", None, None, "SD-2001")
FINDING_C = _finding("extract_failed", "shipbob", None, None, None)
EVERYTHING = Scope(frozenset({"oversell_risk", "unmapped_sku", "extract_failed"}))


def _queue_history(con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig) -> None:
    def outcome(findings: list[Finding]) -> SuiteOutcome:
        return SuiteOutcome("test", not findings, 10, len(findings), findings, EVERYTHING)

    at = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    queue.apply_outcomes(con, [outcome([FINDING_A, FINDING_B, FINDING_C])], at, cfg)
    queue.transition(con, FINDING_A.fingerprint, "acknowledged", "data-team", "looking",
                     at.replace(minute=7), cfg)
    queue.apply_outcomes(con, [outcome([FINDING_A, FINDING_B])], at.replace(minute=10), cfg)
    queue.transition(con, FINDING_B.fingerprint, "resolved", "data-team", "mapped it",
                     at.replace(minute=12), cfg)


def _dbt_build(warehouse: Path, tmp: Path, cycle_at: datetime) -> None:
    from dbt.cli.main import dbtRunner

    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
              "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STOCKDRIFT_WAREHOUSE", str(warehouse))
        stamp = cycle_at.strftime("%Y-%m-%d %H:%M:%S")
        # Only what the report and `mappings check` read, without dbt's own data tests
        # (tests/dbt runs those): keeps this session fixture cheap.
        res = dbtRunner().invoke([
            "build", *common, "--vars", f"{{cycle_at: '{stamp}'}}",
            "--select", "+fct_variance_history +fct_sync_lag +int_positions_unioned",
            "--exclude-resource-type", "test", "unit_test",
        ])
        assert res.success, res.exception


_BUILT: dict[Path, ReportWarehouse] = {}


def shared_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ReportWarehouse:
    base = tmp_path_factory.getbasetemp()
    if base not in _BUILT:
        _BUILT[base] = _build(tmp_path_factory.mktemp("report-wh"))
    return _BUILT[base]


def _build(tmp: Path) -> ReportWarehouse:
    data = yaml.safe_load((REPO / "stockdrift.example.yml").read_text(encoding="utf-8"))
    data["warehouse_path"] = str(tmp / "stockdrift.duckdb")
    data["out_dir"] = str(tmp / "out")
    config_path = tmp / "stockdrift.yml"
    config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    cfg = load_config(config_path)
    con = duckdb.connect(cfg.warehouse_path)
    try:
        ensure_schema(con)
        write_config(con, cfg)
        for cycle in range(4):
            sc.land_cycle(con, cycle)
    finally:
        con.close()
    _dbt_build(Path(cfg.warehouse_path), tmp, sc.CYCLES[3])
    con = duckdb.connect(cfg.warehouse_path)
    try:
        _queue_history(con, cfg)
        con.execute("checkpoint")  # one self-contained file: copies need no WAL
    finally:
        con.close()
    return ReportWarehouse(Path(cfg.warehouse_path), config_path, cfg, tmp)
