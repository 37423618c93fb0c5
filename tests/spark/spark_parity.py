"""Helpers for the DuckDB-vs-Spark parity test: run dbt on a target, read marts as rows.

Both engines read the same Parquet export (`stockdrift/parquet_export.py`); rows are
normalised for comparison only (timestamps as text, numbers rounded, booleans kept), never
the data itself.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib.util
import shutil
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt"

Row = tuple[Any, ...]


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here, or None when it can."""
    if shutil.which("java") is None:
        return "Java is not installed (the Spark target needs a JRE 17+ on PATH)"
    for module in ("pyspark", "dbt.adapters.spark"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -c constraints.txt -e '.[spark]')"
    return None


def dbt_args(target: str, tmp: Path) -> list[str]:
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(tmp / f"target-{target}"),
        "--log-path",
        str(tmp / f"logs-{target}"),
        "--quiet",
    ]


def mart_tables(manifest: Any) -> list[str]:
    """Every table-materialized mart of our project (issue work may add marts later)."""
    return sorted(
        node.name
        for node in manifest.nodes.values()
        if node.resource_type == "model"
        and node.package_name == "stockdrift"
        and node.schema == "marts"
        and node.config.materialized == "table"
    )


def normalise(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | decimal.Decimal):
        return round(float(value), 6)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def sort_rows(rows: list[Row]) -> list[Row]:
    # None sorts first, then by type name and value, so mixed-None columns order stably
    return sorted(rows, key=lambda r: tuple((v is not None, type(v).__name__, v) for v in r))


def duckdb_mart(warehouse: Path, mart: str) -> tuple[list[str], list[Row]]:
    # default config: dbt-duckdb still holds this file open in-process
    con = duckdb.connect(str(warehouse))
    try:
        cur = con.execute(f"select * from marts.{mart}")
        names = [d[0] for d in cur.description]
        return names, [tuple(normalise(v) for v in row) for row in cur.fetchall()]
    finally:
        con.close()


def spark_mart(mart: str) -> tuple[list[str], list[Row]]:
    """Read a mart through the SparkSession dbt-spark's session mode opened in-process.

    Timestamps are formatted by Spark itself (session time zone UTC), so the Python
    process's local time zone never shifts them.
    """
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    frame = spark.table(f"marts.{mart}")
    columns = [
        f"date_format(`{f.name}`, 'yyyy-MM-dd HH:mm:ss') as `{f.name}`"
        if f.dataType.typeName() in ("timestamp", "timestamp_ntz")
        else f"`{f.name}`"
        for f in frame.schema.fields
    ]
    rows = frame.selectExpr(*columns).collect()
    return list(frame.columns), [tuple(normalise(v) for v in row) for row in rows]
