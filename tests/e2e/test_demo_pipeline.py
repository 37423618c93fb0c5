"""End to end: the sandbox world, the Dagster job, dbt, GX, the queue and the alerts.

One demo run (module-scoped) is shared by the assertions: it is the expensive part.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml
from rich.console import Console

from dagster_project.demo import DemoResult, run_demo
from sandbox.catalog import BUNDLE
from sandbox.scoring import score
from stockdrift.config import load_config

ROOT = Path(__file__).resolve().parents[2]
# one demo run for the module: up to ~10 min on a loaded machine, beyond the 600 s default
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


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


EXAMPLE = yaml.safe_load((ROOT / "stockdrift.example.yml").read_text(encoding="utf-8"))
SYSTEMS = tuple(sorted(s["id"] for s in EXAMPLE["systems"]))
LISTING_ROLES = ("storefront", "marketplace")


def test_every_cycle_ran_through_dagster(demo: DemoResult, con: duckdb.DuckDBPyConnection) -> None:
    assert demo.failed_runs == 0
    snaps = con.execute(
        "select system_id, count(*), count(*) filter (where status='succeeded' and row_count > 0) "
        "from raw.snapshots group by 1 order by 1"
    ).fetchall()
    assert snaps == [(s, 12, 12) for s in SYSTEMS]
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
    assert causes == ["oversell_risk", "sync_stopped", *["unmapped_sku"] * len(SYSTEMS)]
    assert {f["system"] for f in result.found if f["cause"] == "unmapped_sku"} == set(SYSTEMS)
    assert result.false_alarms == []


def test_every_system_had_its_keys_compared_with_the_master(
    demo: DemoResult, con: duckdb.DuckDBPyConnection
) -> None:
    """Each non-master system's mapped keys were compared in every cycle, on the value its
    role compares (listed available for channels, on hand for holders)."""
    cfg = load_config(demo.config_path)
    # the kit has no master row (it is judged in fct_bundle_availability, below)
    rows = con.execute("""select system_id, compared_value_kind, count(distinct cycle_at),
            count(distinct canonical_location), count(*) filter (where variance_units is null)
        from marts.fct_variance_history where canonical_sku <> ? group by 1, 2 order by 1""",
                       [BUNDLE.sku]).fetchall()
    kinds = {s["id"]: "available" for s in EXAMPLE["systems"] if s["role"] in LISTING_ROLES}
    assert [r[:3] for r in rows] == [
        (s, kinds.get(s, "on_hand"), 12) for s in SYSTEMS if s != cfg.master
    ]
    assert all(r[4] == 0 for r in rows)   # every compared key had a master value
    locations = {r[0]: r[3] for r in rows}
    two = {"shopify", "wms"}     # both storefront locations; both WMS buildings
    assert locations == {s: 2 if s in two else 1 for s in SYSTEMS if s != cfg.master}
    per_key = con.execute("""select system_id, count(distinct canonical_sku)
        from marts.fct_variance_history where canonical_sku <> ? group by 1""",
                          [BUNDLE.sku]).fetchall()
    assert all(n == 30 for _, n in per_key), per_key   # the 30 mapped SKUs everywhere


def test_semantic_flows_landed_and_stayed_quiet(con: duckdb.DuckDBPyConnection) -> None:
    """The kit listing, lots and returns of the normal flows reached the marts, and none of
    them became an exception (the causes test above allows none of theirs)."""
    kit = con.execute("""select count(*), count(*) filter (where probable_cause is not null
            and is_settled) from marts.fct_bundle_availability""").fetchone()
    assert kit is not None and kit[0] == 2 and kit[1] == 0   # EAST-DC and CICERO-3PL
    lots = con.execute("select count(distinct system_id) from marts.fct_lot_sellability"
                       ).fetchone()
    assert lots == (3,)                                       # erp, shipbob, wms
    returns = con.execute("select count(*) from marts.fct_return_restocks").fetchone()
    assert returns is not None and returns[0] > 0


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
