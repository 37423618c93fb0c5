"""End to end: the sandbox world, the Dagster job, dbt, GX, the queue and the alerts.

One demo run (module-scoped) is shared by the assertions: it is the expensive part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from dagster_project.demo import DemoResult, run_demo
from sandbox.scoring import score
from stockdrift.config import load_config

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    out = tmp_path_factory.mktemp("demo-out")
    console = Console(file=open(out / "console.txt", "w"), width=160)  # noqa: SIM115
    try:
        yield run_demo(
            cycles=12, seed=7, out_dir=out, example=ROOT / "stockdrift.example.yml", console=console
        )
    finally:
        console.file.close()


@pytest.fixture(scope="module")
def con(demo: DemoResult) -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect(str(demo.warehouse_path))
    yield c
    c.close()


def test_every_cycle_ran_through_dagster(demo: DemoResult, con: duckdb.DuckDBPyConnection) -> None:
    assert demo.failed_runs == 0
    snaps = con.execute(
        "select system_id, count(*), count(*) filter (where status='succeeded') "
        "from raw.snapshots group by 1 order by 1"
    ).fetchall()
    assert snaps == [("erp", 12, 12), ("shipbob", 12, 12), ("shopify", 12, 12)]
    runs = con.execute(
        "select count(*) from ops.cycles where status = 'running' or status = 'succeeded'"
    ).fetchone()
    assert runs == (12,)


def test_injected_faults_found_with_right_cause_and_owner(
    demo: DemoResult, con: duckdb.DuckDBPyConnection
) -> None:
    cfg = load_config(demo.config_path)
    result = score(con, demo.world.ground_truth(), cfg)
    assert result.missed == []
    causes = sorted(f["cause"] for f in result.found)
    assert causes == [
        "oversell_risk",
        "sync_stopped",
        "unmapped_sku",
        "unmapped_sku",
        "unmapped_sku",
    ]
    assert result.false_alarms == []


def test_in_flight_differences_never_alert(con: duckdb.DuckDBPyConnection) -> None:
    """Differences inside the freshness window were seen, but none became an exception."""
    in_flight = con.execute("""select count(*) from marts.fct_variance_history
        where not within_tolerance""").fetchone()
    assert in_flight is not None and in_flight[0] > 0
    causes = {r[0] for r in con.execute("select distinct cause from ops.exceptions").fetchall()}
    assert causes <= {"sync_stopped", "oversell_risk", "unmapped_sku"}


def test_alerts_went_to_the_file_sink_once(
    demo: DemoResult, con: duckdb.DuckDBPyConnection
) -> None:
    lines = (demo.warehouse_path.parent / "alerts.jsonl").read_text().splitlines()
    alerts = [json.loads(line) for line in lines]
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)) > 0
    outbox = con.execute(
        "select count(*), count(*) filter (where status='sent') from ops.alert_outbox"
    ).fetchone()
    assert outbox == (len(ids), len(ids))
    owners = {a["owner_id"] for a in alerts}
    assert {"ecommerce", "data-team"} <= owners


def test_report_written(demo: DemoResult) -> None:
    html = (demo.warehouse_path.parent / "report.html").read_text()
    assert "Inventory drift and freshness" in html and "plotly" in html
