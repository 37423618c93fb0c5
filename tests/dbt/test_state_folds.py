"""int_variance_states and int_comparison_states: folding a cycle's rows into the stored
state equals folding the whole history at once.

The model's two compiled forms (the full build and the incremental one, from dbt itself)
run on hand-made history tables: random keys x cycles with missed snapshots (gaps), rows
without a master, in-tolerance breaks and moving quantities. The incremental form is
applied the way dbt-duckdb's delete+insert applies it, a build every one to three cycles
(so some builds catch up on several rows per key); after every build the stored state
must equal a full build of the same history.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"
PLACEHOLDER = "2199-01-01 00:00:00"
STATE = "intermediate.int_variance_states"
KEY = ("state_kind", "system_id", "canonical_sku", "canonical_location")
SPINE_STATE = "intermediate.int_comparison_states"
SPINE_KEY = ("state_kind", "comparison_kind", "system_id", "item_sku", "canonical_location",
             "measure")
START = datetime(2025, 1, 6, 8, 0)

HISTORY_DDL = """
create schema if not exists intermediate;
create or replace table intermediate.int_variances_computed (
    system_id varchar, canonical_sku varchar, canonical_location varchar,
    master_system_id varchar, snapshot_id varchar, cycle_at timestamp, observed_at timestamp,
    observed_qty bigint, within_tolerance boolean, compared_value_kind varchar,
    freshness_target_minutes integer);
create or replace table intermediate.int_snapshots_deduplicated (
    snapshot_id varchar, system_id varchar, cycle_at timestamp, observed_at timestamp);
create or replace table intermediate.int_comparisons_unioned (
    comparison_kind varchar, system_id varchar, item_sku varchar, canonical_location varchar,
    measure varchar, snapshot_id varchar, cycle_at timestamp, observed_at timestamp,
    is_drifting boolean);
"""
MODELS = {"int_variance_states": STATE, "int_comparison_states": SPINE_STATE}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The model's full and incremental SQL, compiled by dbt against a scratch warehouse."""
    from dbt.cli.main import dbtRunner

    tmp = tmp_path_factory.mktemp("fold")
    warehouse = tmp / "stockdrift.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(HISTORY_DDL)
    con.close()
    common = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
              "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"), "--quiet",
              "--vars", f"{{cycle_at: '{PLACEHOLDER}'}}"]
    out: dict[str, str] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STOCKDRIFT_WAREHOUSE", str(warehouse))
        runner = dbtRunner()
        for form in ("full", "incremental"):
            for model, relation in MODELS.items():
                if form == "incremental":   # is_incremental() needs the relation to exist
                    con = duckdb.connect(str(warehouse))
                    con.execute(f"create table {relation} as ({out[model + ':full']}) limit 0")
                    con.close()
                res = runner.invoke(["compile", "-s", model, *common])
                assert res.success, res.exception
                out[f"{model}:{form}"] = res.result.results[0].node.compiled_code
    for model in MODELS:
        assert "stored as (" in out[f"{model}:incremental"]
        assert "stored as (" not in out[f"{model}:full"]
    yield out


def _world(seed: int, cycles: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Random history rows and snapshots: erp is the master; shipbob and wms miss cycles."""
    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    snapshots: list[tuple[Any, ...]] = []
    qty = {(s, k): rng.randint(0, 9) for s in ("shipbob", "wms") for k in range(6)}
    for c in range(cycles):
        at = START + timedelta(minutes=5 * c)
        if rng.random() < 0.9:
            snapshots.append((f"erp-{c}", "erp", at, at))
        for system in ("shipbob", "wms"):
            if rng.random() < 0.25:
                continue                          # not extracted this cycle: a gap
            observed = at + timedelta(seconds=rng.randint(0, 90))
            snapshots.append((f"{system}-{c}", system, at, observed))
            for k in range(6):
                if rng.random() < 0.1:
                    continue                      # the key is missing from this snapshot
                if rng.random() < 0.3:
                    qty[(system, k)] += rng.choice((-2, -1, 1, 3))
                within = rng.choices((True, False, None), (5, 4, 1))[0]
                rows.append((system, f"SKU-{k}", "L", "erp", f"{system}-{c}", at, observed,
                             qty[(system, k)], within, "on_hand", 5 if c < 25 else 15))
    return rows, snapshots


def _state(con: duckdb.DuckDBPyConnection, state: str = STATE) -> list[tuple[Any, ...]]:
    return sorted(con.execute(f"select * from {state}").fetchall(), key=repr)


def _full(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def _apply_incremental(con: duckdb.DuckDBPyConnection, sql: str, state: str = STATE,
                       key: tuple[str, ...] = KEY) -> int:
    """dbt-duckdb's delete+insert: the emitted rows replace the stored rows of their keys."""
    con.execute(f"create or replace temp table emitted as ({sql})")
    on = " and ".join(f"{state}.{k} = emitted.{k}" for k in key)
    con.execute(f"delete from {state} using emitted where {on}")
    con.execute(f"insert into {state} by name select * from emitted")
    return int(con.execute("select count(*) from emitted").fetchone()[0])  # type: ignore[index]


@pytest.mark.parametrize("seed", range(6))
def test_incremental_folds_equal_a_full_build_after_every_build(
    compiled: dict[str, str], seed: int, tmp_path: Path
) -> None:
    rows, snapshots = _world(seed, cycles=40)
    rng = random.Random(1000 + seed)
    con = duckdb.connect(str(tmp_path / "stockdrift.duckdb"))
    con.execute(HISTORY_DDL)
    con.execute(f"create table {STATE} as ({compiled['int_variance_states:full']}) limit 0")
    built_through, emitted, builds = -1, [], 0
    cycles = sorted({r[5] for r in rows} | {s[2] for s in snapshots})
    i = 0
    while i < len(cycles):
        i = min(len(cycles), i + rng.randint(1, 3))   # catch up on 1-3 cycles per build
        upto = cycles[i - 1]
        con.execute("delete from intermediate.int_variances_computed")
        con.execute("delete from intermediate.int_snapshots_deduplicated")
        con.executemany("insert into intermediate.int_variances_computed values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [r for r in rows if r[5] <= upto])
        con.executemany("insert into intermediate.int_snapshots_deduplicated values "
                        "(?, ?, ?, ?)", [s for s in snapshots if s[2] <= upto])
        emitted.append(_apply_incremental(con, compiled["int_variance_states:incremental"]))
        builds += 1
        full = _full(con, compiled["int_variance_states:full"])
        assert _state(con) == full, f"seed {seed}, build at {upto}"
        built_through = i
    assert built_through == len(cycles) and builds > 10
    keys = int(con.execute(f"select count(*) from {STATE} where state_kind = 'key'").fetchone()[0])  # type: ignore[index]
    # only changed keys are rewritten: on average far fewer than every key per build
    assert sum(emitted) < builds * (keys + 2)
    con.close()


def test_a_quiet_key_is_not_rewritten(compiled: dict[str, str], tmp_path: Path) -> None:
    """A key in tolerance with an unchanged quantity emits nothing; the watermark moves."""
    con = duckdb.connect(str(tmp_path / "stockdrift.duckdb"))
    con.execute(HISTORY_DDL)
    con.execute(f"create table {STATE} as ({compiled['int_variance_states:full']}) limit 0")
    for c in range(3):
        at = START + timedelta(minutes=5 * c)
        con.execute("insert into intermediate.int_snapshots_deduplicated values (?, 'erp', ?, ?)",
                    [f"erp-{c}", at, at])
        con.execute("insert into intermediate.int_snapshots_deduplicated values "
                    "(?, 'wms', ?, ?)", [f"wms-{c}", at, at])
        con.execute("insert into intermediate.int_variances_computed values "
                    "('wms', 'Q', 'L', 'erp', ?, ?, ?, 4, true, 'on_hand', 15)",
                    [f"wms-{c}", at, at])
        sql = compiled["int_variance_states:incremental"]
        emitted = con.execute(f"select state_kind from ({sql})").fetchall()
        assert sorted(e[0] for e in emitted) == (["applied", "key"] if c == 0 else ["applied"])
        _apply_incremental(con, compiled["int_variance_states:incremental"])
    con.close()


@pytest.mark.parametrize("seed", range(4))
def test_spine_folds_equal_a_full_build_after_every_build(
    compiled: dict[str, str], seed: int, tmp_path: Path
) -> None:
    """The comparison spine's runs (holder buckets, bundles, lots): the same property."""
    rng = random.Random(seed)
    rows = []
    for c in range(40):
        at = START + timedelta(minutes=5 * c)
        for kind, system, measure in (("holder_bucket", "shipbob", "committed"),
                                      ("holder_bucket", "shipbob", "incoming"),
                                      ("bundle", "shopify", "buildable"),
                                      ("lot_set", "wms", "lot_ids")):
            if rng.random() < 0.2:
                continue
            observed = at + timedelta(seconds=rng.randint(0, 90))
            for k in range(5):
                if rng.random() < 0.9:
                    drifting = rng.choices((True, False, None), (3, 6, 1))[0]
                    rows.append((kind, system, f"SKU-{k}", "L", measure, f"{system}-{c}", at,
                                 observed, drifting))
    con = duckdb.connect(str(tmp_path / "stockdrift.duckdb"))
    con.execute(HISTORY_DDL)
    full, incremental = (compiled[f"int_comparison_states:{f}"] for f in ("full", "incremental"))
    con.execute(f"create table {SPINE_STATE} as ({full}) limit 0")
    cycles = sorted({r[6] for r in rows})
    i, builds, emitted = 0, 0, 0
    while i < len(cycles):
        i = min(len(cycles), i + rng.randint(1, 3))
        con.execute("delete from intermediate.int_comparisons_unioned")
        con.executemany("insert into intermediate.int_comparisons_unioned values "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?)", [r for r in rows if r[6] <= cycles[i - 1]])
        emitted += _apply_incremental(con, incremental, SPINE_STATE, SPINE_KEY)
        builds += 1
        assert _state(con, SPINE_STATE) == _full(con, full), f"seed {seed}, build {builds}"
    keys = 20
    assert builds > 10 and emitted < builds * keys   # runs are written when they change
    con.close()
