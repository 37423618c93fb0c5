"""Every registered connector's columns match its raw table, and the config accepts it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from extractors.base import Connector
from extractors.registry import CONNECTORS, build_connector
from stockdrift.config import ConfigError, SystemConfig
from stockdrift.warehouse import ensure_schema

URLS = {"edi846": "file:///tmp/drop", "csv_drop": "file:///tmp/drop",
        "sql_wms": "sqlite:///tmp/wms.db"}


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(connection)
    yield connection
    connection.close()


@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_every_connector_matches_its_raw_table(con: duckdb.DuckDBPyConnection,
                                               name: str) -> None:
    system = SystemConfig(id="x", role="erp", connector=name,  # type: ignore[arg-type]
                          base_url=URLS.get(name, "https://example.com"),
                          freshness_target_minutes=5)
    connector = build_connector(system)
    assert isinstance(connector, Connector)
    cols = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' "
        "and table_name = ? order by ordinal_position", [connector.raw_table]).fetchall()]
    assert cols == ["snapshot_id", *connector.columns]


def test_missing_credential_is_a_recorded_failure_naming_the_variable() -> None:
    system = SystemConfig(id="amz", role="marketplace", connector="amazon_fba",
                          base_url="https://sellingpartnerapi-na.amazon.com",
                          credentials={"refresh_token": "NOPE_UNSET_VAR"},
                          freshness_target_minutes=5)
    with pytest.raises(ConfigError, match="NOPE_UNSET_VAR is not set"):
        next(iter(build_connector(system).pages()))
