"""Raw snapshots as Parquet, the hand-off format for engines other than the DuckDB file.

Layout under one root (a local directory, or any path DuckDB and Spark can both read):

    <root>/<table>/system_id=<id>/snapshot_date=<YYYY-MM-DD>/<snapshot_id>_<n>.parquet
    <root>/config/<systems|locations>.parquet

`raw.snapshots` and every other raw table keyed by `snapshot_id` (found in the warehouse's
catalog, so a new connector's table is exported without a list to update) are
hive-partitioned by the snapshot's system and cycle date, so an engine scans only the systems
and days a query needs and a new cycle adds files instead of rewriting any. Writing is per
snapshot with the snapshot id in the file name, so exporting a snapshot twice overwrites the
same files (idempotent re-runs). `raw.payloads` (gzip bodies, forensics) is not exported.

Every exported table also gets one zero-row file in a partition no snapshot uses
(`EMPTY_PARTITION`), written from the warehouse's own DDL: a table no snapshot has rows in
yet (a connector not configured, lots not turned on) still reads as an empty, typed relation
on both engines instead of a missing path.

Both engines read the same files: `attach_duckdb_views` turns them into the `raw.*` and
`config.*` relations the dbt sources name; on Spark `dbt run-operation stage_raw_sources`
(dbt/macros/spark_sources.sql) does the same.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

NOT_EXPORTED: frozenset[str] = frozenset({"payloads"})  # response bodies, not data
CONFIG_TABLES: tuple[str, ...] = ("systems", "locations")
PARTITION_COLUMNS: tuple[str, ...] = ("system_id", "snapshot_date")
# Hive directory of the typed zero-row file; `_`-free names, since Spark skips `_*` files.
EMPTY_PARTITION = "system_id=none/snapshot_date=1970-01-01"
EMPTY_FILE = "empty.parquet"


def snapshot_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Raw tables (other than raw.snapshots) whose rows belong to one snapshot."""
    rows = con.execute(
        "select table_name from information_schema.columns where table_schema = 'raw' "
        "and column_name = 'snapshot_id' and table_name <> 'snapshots' order by 1"
    ).fetchall()
    return [str(r[0]) for r in rows if r[0] not in NOT_EXPORTED]


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _copy(con: duckdb.DuckDBPyConnection, select_sql: str, target: Path, pattern: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy ({select_sql}) to {_literal(str(target))} (format parquet, "
        f"partition_by ({', '.join(PARTITION_COLUMNS)}), overwrite_or_ignore true, "
        f"filename_pattern {_literal(pattern + '_{i}')})"
    )


def export_snapshot(con: duckdb.DuckDBPyConnection, root: Path, snapshot_id: str) -> None:
    """Write one landed snapshot (its `raw.snapshots` row and vendor rows) under `root`."""
    sid = _literal(snapshot_id)
    partition = "s.system_id, cast(s.cycle_at as date) as snapshot_date"
    # file names are safe for any snapshot id: keep letters, digits, '-' and '_'
    pattern = "".join(c if c.isalnum() or c in "-_" else "_" for c in snapshot_id)
    # raw.snapshots keeps system_id only as the partition column (DuckDB drops it from the
    # file); readers get it back from the path.
    _copy(
        con,
        f"select s.*, cast(s.cycle_at as date) as snapshot_date "
        f"from raw.snapshots s where s.snapshot_id = {sid}",
        root / "snapshots",
        pattern,
    )
    for table in snapshot_tables(con):
        has_rows = con.execute(
            f"select count(*) from raw.{table} where snapshot_id = {sid}"
        ).fetchone()
        if not has_rows or has_rows[0] == 0:
            continue  # a failed snapshot has no rows; readers see its raw.snapshots row
        _copy(
            con,
            f"select t.*, {partition} from raw.{table} t "
            f"join raw.snapshots s using (snapshot_id) where t.snapshot_id = {sid}",
            root / table,
            pattern,
        )


def export_config(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """The running config (rewritten every cycle) as one small file per table."""
    (root / "config").mkdir(parents=True, exist_ok=True)
    for table in CONFIG_TABLES:
        target = root / "config" / f"{table}.parquet"
        con.execute(f"copy config.{table} to {_literal(str(target))} (format parquet)")


def export_empty_tables(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """The typed zero-row file of every exported raw table (see the module docstring);
    partition columns stay in the path, as in the snapshot files."""
    for table in ("snapshots", *snapshot_tables(con)):
        target = root / table / EMPTY_PARTITION
        target.mkdir(parents=True, exist_ok=True)
        drop = " exclude (system_id)" if table == "snapshots" else ""
        con.execute(f"copy (select *{drop} from raw.{table} limit 0) to "
                    f"{_literal(str(target / EMPTY_FILE))} (format parquet)")


def export_warehouse(con: duckdb.DuckDBPyConnection, root: Path) -> int:
    """Export every snapshot and the config; returns the number of snapshots written."""
    ids = [r[0] for r in con.execute("select snapshot_id from raw.snapshots order by 1").fetchall()]
    for snapshot_id in ids:
        export_snapshot(con, root, snapshot_id)
    export_empty_tables(con, root)
    export_config(con, root)
    return len(ids)


def raw_table_glob(root: Path, table: str) -> str:
    return str(root / table / "**" / "*.parquet")


def attach_duckdb_views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Create `raw.*` and `config.*` in a DuckDB file as views over the Parquet under `root`.

    The views re-scan the files on every query, so snapshots exported later are seen
    without re-attaching. Partition values are read as text (`snapshot_date` as a date) so
    a numeric-looking system id never changes type.
    """
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists config")
    hive_types = "{'system_id': 'varchar', 'snapshot_date': 'date'}"
    tables = sorted(p.name for p in root.glob("*") if p.is_dir() and p.name != "config")
    if "snapshots" not in tables:
        raise FileNotFoundError(
            f"no raw.snapshots export under {root}: run "
            "stockdrift.parquet_export.export_warehouse first")
    for table in tables:
        files = list((root / table).glob("**/*.parquet"))
        if not files:
            raise FileNotFoundError(
                f"no Parquet files under {root / table}: re-run export_warehouse (it writes "
                "a typed empty file for every raw table)")
        con.execute(
            f"create or replace view raw.{table} as select * from read_parquet("
            f"{_literal(raw_table_glob(root, table))}, hive_partitioning = true, "
            f"hive_types = {hive_types})"
        )
    for table in CONFIG_TABLES:
        path = _literal(str(root / "config" / f"{table}.parquet"))
        con.execute(f"create or replace view config.{table} as select * from read_parquet({path})")
