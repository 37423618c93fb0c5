"""Connector lookup by `SystemConfig.connector`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from extractors.amazon_fba import AmazonFbaConnector
from extractors.amazon_mfn import AmazonMfnConnector
from extractors.base import Connector
from extractors.csv_drop import CsvDropConnector
from extractors.cursors import INCREMENTAL
from extractors.edi846 import Edi846Connector
from extractors.netsuite import NetSuiteConnector
from extractors.shipbob import ShipBobConnector
from extractors.shopify import ShopifyConnector
from extractors.shopify_graphql import ShopifyGraphqlConnector
from extractors.sql_wms import SqlWmsConnector
from extractors.square import SquareConnector
from stockdrift.config import ConfigError, SystemConfig

Factory = Callable[[SystemConfig, httpx.Client | None], Connector]

CONNECTORS: dict[str, Factory] = {
    "netsuite_suiteql": NetSuiteConnector,
    "shopify_rest": ShopifyConnector,
    "shipbob": ShipBobConnector,
    "shopify_graphql": ShopifyGraphqlConnector,
    "amazon_fba": AmazonFbaConnector,
    "amazon_mfn": AmazonMfnConnector,
    "square": SquareConnector,
    # File and database connectors take no HTTP client (the argument is ignored).
    "edi846": Edi846Connector,
    "csv_drop": CsvDropConnector,
    "sql_wms": SqlWmsConnector,
}


def build_connector(system: SystemConfig, client: httpx.Client | None = None, *,
                    since: datetime | None = None) -> Connector:
    """Credentials are resolved when the connector runs, so a missing secret becomes a
    recorded failed snapshot instead of an exception here. `since` (incremental, see
    extractors/cursors.py) is passed to connectors in `INCREMENTAL` only."""
    factory = CONNECTORS.get(system.connector)
    if factory is None:
        raise ConfigError(
            f"systems[{system.id}].connector: unknown connector {system.connector!r}; "
            f"known connectors: {', '.join(sorted(CONNECTORS))}"
        )
    if since is not None:
        if system.connector not in INCREMENTAL:
            raise ValueError(f"{system.id}: connector {system.connector} has no change "
                             "filter; it only extracts in full")
        return factory(system, client, since=since)  # type: ignore[call-arg]
    return factory(system, client)
