"""Synthetic mid-market warehouse: N SKUs x L locations x S systems, written with set-based
DuckDB SQL (`range()`), never Python loops, into the real raw.* schema
(`stockdrift/warehouse.py`) so dbt, the suites and the alert path run unchanged.

Values are a pure function of (sku, location, cycle), so any cycle can be generated without
reading the previous one:
- master on-hand = base + number of "bumps" so far; a key bumps once every `period` cycles
  at a phase given by its hash, so exactly `1/period` of keys change between two cycles;
- every other system mirrors the master (listing channels: available; physical holders:
  on-hand) except a fixed `drift_share` of keys per system, which show +5 units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from stockdrift.config import StockdriftConfig
from stockdrift.warehouse import ensure_schema, write_config

START = datetime(2026, 11, 2, 14, 0)
CYCLE_MINUTES = 5
# (role, connector) for systems after the master, in order; repeats when S > 6.
CHANNEL_KINDS: tuple[tuple[str, str], ...] = (
    ("storefront", "shopify_rest"),
    ("3pl", "shipbob"),
    ("marketplace", "shopify_rest"),
    ("3pl", "shipbob"),
    ("storefront", "shopify_rest"),
)
RAW_TABLE = {
    "netsuite_suiteql": "raw.netsuite_inventory",
    "shopify_rest": "raw.shopify_inventory_levels",
    "shipbob": "raw.shipbob_inventory",
}


@dataclass(frozen=True)
class Shape:
    skus: int = 100_000
    locations: int = 10
    systems: int = 6
    change_share: float = 0.01  # share of keys whose master value moves per cycle
    drift_share: float = 0.0005  # share of keys per non-master system that drift

    @property
    def rows_per_cycle(self) -> int:
        return self.skus * self.locations * self.systems

    @property
    def period(self) -> int:
        return max(1, round(1 / self.change_share))

    @property
    def drift_bp(self) -> int:
        return round(self.drift_share * 10_000)


@dataclass(frozen=True)
class BenchSystem:
    index: int
    system_id: str
    role: str
    connector: str


def bench_systems(shape: Shape) -> list[BenchSystem]:
    out = [BenchSystem(0, "erp", "erp", "netsuite_suiteql")]
    for i in range(1, shape.systems):
        role, connector = CHANNEL_KINDS[(i - 1) % len(CHANNEL_KINDS)]
        out.append(BenchSystem(i, f"{connector.split('_')[0]}_{i}", role, connector))
    return out


def bench_config(shape: Shape, warehouse: str, out_dir: str) -> StockdriftConfig:
    systems = [
        {
            "id": s.system_id, "role": s.role, "connector": s.connector,
            "base_url": f"http://127.0.0.1:1/{s.system_id}", "freshness_target_minutes": 5,
        }
        for s in bench_systems(shape)
    ]
    return StockdriftConfig.model_validate({
        "warehouse_path": warehouse,
        "out_dir": out_dir,
        "master": "erp",
        "systems": systems,
        "locations": [
            {"id": f"LOC-{i:02d}", "name": f"Location {i}", "timezone": "UTC"}
            for i in range(1, shape.locations + 1)
        ],
        "tolerances": {"units": 0, "percent": 0, "sync_stopped_share": 0.3,
                       "sync_stopped_min_keys": 5},
        "owners": {"inventory-ops": {"slack": "C0INVOPS01"}, "data-team": {"slack": "S0DATA0001"}},
        "routing": {"default_owner": "inventory-ops", "mapping_owner": "data-team"},
    })


def cycle_time(cycle_no: int) -> datetime:
    return START + timedelta(minutes=CYCLE_MINUTES * cycle_no)


def write_mappings(con: duckdb.DuckDBPyConnection, shape: Shape, cfg: StockdriftConfig) -> None:
    """The dbt seeds' tables, written directly (the bench excludes seeds from `dbt build`)."""
    ensure_schema(con)
    write_config(con, cfg)
    con.execute("create schema if not exists mappings")
    sku_rows = []
    loc_rows = []
    for s in bench_systems(shape):
        sku_rows.append(
            f"select '{s.system_id}' as system_id, {_external_sku(s)} as external_sku, "
            f"{_sku_name('r.range')} as canonical_sku from range(1, {shape.skus + 1}) r"
        )
        loc_rows.append(
            f"select '{s.system_id}' as system_id, cast({_external_loc(s, 'r.range')} as varchar) "
            f"as external_location, 'LOC-' || lpad(cast(r.range as varchar), 2, '0') "
            f"as canonical_location from range(1, {shape.locations + 1}) r"
        )
    con.execute("create or replace table mappings.sku_map as " + " union all ".join(sku_rows))
    con.execute(
        "create or replace table mappings.location_map as " + " union all ".join(loc_rows)
    )


def _sku_name(expr: str) -> str:
    return f"'SKU-' || lpad(cast({expr} as varchar), 7, '0')"


def _external_sku(s: BenchSystem, expr: str = "r.range") -> str:
    if s.connector == "shipbob":  # ShipBob's external SKU is its inventory id
        return f"cast({_shipbob_id(s, expr)} as varchar)"
    return _sku_name(expr)


def _shipbob_id(s: BenchSystem, expr: str) -> str:
    return f"({s.index} * 100000000 + {expr})"


def _external_loc(s: BenchSystem, expr: str) -> str:
    if s.connector == "netsuite_suiteql":
        return expr
    return f"({s.index} * 1000 + {expr})"


def _keys_sql(shape: Shape, cycle_no: int) -> str:
    """One row per key with the master's values at this cycle."""
    return f"""
        select sku, loc,
            (sku * 7919 + loc * 104729) % 500
                + (({cycle_no} + hash(sku * 64 + loc) % {shape.period}) // {shape.period})
                as on_hand,
            (sku + loc) % 3 as committed
        from range(1, {shape.skus + 1}) s(sku), range(1, {shape.locations + 1}) l(loc)
    """


def land_cycle(con: duckdb.DuckDBPyConnection, shape: Shape, cycle_no: int) -> int:
    """Write every system's snapshot for one cycle in one transaction; returns rows written."""
    at = cycle_time(cycle_no)
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    con.execute("begin")
    try:
        con.execute(f"create or replace temp table bench_keys as {_keys_sql(shape, cycle_no)}")
        total = 0
        for s in bench_systems(shape):
            snapshot_id = f"{s.system_id}-{cycle_no:05d}"
            total += _insert_rows(con, shape, s, snapshot_id, stamp)
            con.execute(
                "insert into raw.snapshots values "
                "(?, ?, ?, ?, ?, ?, ?, 'succeeded', ?, 1, 1, null)",
                [snapshot_id, s.system_id, s.connector, at, at, at, at,
                 shape.skus * shape.locations],
            )
        con.execute("drop table bench_keys")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return total


def _insert_rows(
    con: duckdb.DuckDBPyConnection, shape: Shape, s: BenchSystem, snapshot_id: str, stamp: str
) -> int:
    drift = f"(case when (sku * 13 + loc * 7 + {s.index} * 3) % 10000 < {shape.drift_bp} " \
            "then 5 else 0 end)"
    available = "greatest(0, on_hand - committed)"
    if s.connector == "netsuite_suiteql":
        sql = f"""insert into raw.netsuite_inventory
            select '{snapshot_id}', cast(sku as varchar), {_sku_name('sku')}, cast(loc as varchar),
                'Location ' || loc, cast(on_hand as varchar), cast({available} as varchar),
                cast(committed as varchar), '0', '12.50'
            from bench_keys"""
    elif s.connector == "shopify_rest":
        sql = f"""insert into raw.shopify_inventory_levels
            select '{snapshot_id}', {s.index} * 10000000000 + sku, {_external_loc(s, 'loc')},
                {_sku_name('sku')}, {available} + {drift},
                strftime(timestamp '{stamp}', '%Y-%m-%dT%H:%M:%S') || '+00:00'
            from bench_keys"""
    else:
        sql = f"""insert into raw.shipbob_inventory
            select '{snapshot_id}', {_shipbob_id(s, 'sku')}, {_sku_name('sku')},
                {_external_loc(s, 'loc')}, 'FC ' || loc, on_hand + {drift}, committed,
                {available}, 0, 0
            from bench_keys"""
    con.execute(sql)
    return shape.skus * shape.locations
