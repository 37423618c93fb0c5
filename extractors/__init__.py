"""Source-system connectors (httpx) and atomic snapshot landing into raw.* (DuckDB)."""

from extractors.base import Connector, Exchange, Page
from extractors.errors import ExtractionError, redact
from extractors.landing import SnapshotResult, land_snapshot
from extractors.registry import build_connector

__all__ = [
    "Connector",
    "Exchange",
    "ExtractionError",
    "Page",
    "SnapshotResult",
    "build_connector",
    "land_snapshot",
    "redact",
]
