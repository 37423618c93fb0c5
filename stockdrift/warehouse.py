"""The DuckDB warehouse: connection and the tables stockdrift owns outside dbt.

Schemas:
- `raw`: one table per connector (vendor-shaped columns, one row per vendor record) plus
  `raw.snapshots` (one row per extraction attempt) and `raw.payloads` (every vendor response,
  gzip-compressed, so any snapshot can be re-landed without calling the vendor).
- `config`: the running config as data (systems, locations), rewritten at the start of every
  cycle, so dbt models read tolerances and targets through `source()`.
- `ops`: the exception queue, its transition log, the alert outbox and cycle log.
- dbt builds `staging`, `intermediate` and `marts` from these.

All timestamps are naive UTC. Writers hold one connection per process; DuckDB's file lock
makes a second concurrent writer fail loudly instead of corrupting the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from stockdrift.config import StockdriftConfig

RAW_DDL = """
create schema if not exists raw;
create table if not exists raw.snapshots (
    snapshot_id varchar primary key,
    system_id varchar not null,
    connector varchar not null,
    cycle_at timestamp not null,        -- the monitoring cycle this snapshot belongs to
    started_at timestamp not null,
    finished_at timestamp,
    source_as_of timestamp,             -- the vendor's own notion of "as of" (or finished_at)
    status varchar not null,            -- succeeded | failed
    row_count integer not null default 0,
    pages integer not null default 0,
    attempts integer not null default 0,
    error_cause varchar                 -- human-actionable: status, vendor code, message, page
);
create table if not exists raw.payloads (
    snapshot_id varchar not null,
    seq integer not null,
    method varchar not null,
    url varchar not null,               -- secrets never appear in URLs we build
    status_code integer not null,
    response_headers json,
    body_gzip blob not null,
    primary key (snapshot_id, seq)
);
-- NetSuite SuiteQL rows, as returned (numbers are strings, keys lowercase, NULLs omitted).
create table if not exists raw.netsuite_inventory (
    snapshot_id varchar not null,
    item varchar not null,              -- internal item id
    itemid varchar,                     -- the SKU-like item name
    location varchar not null,          -- internal location id
    location_name varchar,
    quantityonhand varchar,
    quantityavailable varchar,
    quantitycommitted varchar,
    quantityonorder varchar,
    averagecost varchar
);
-- Shopify REST inventory_levels joined with inventory_items.sku by the extractor.
create table if not exists raw.shopify_inventory_levels (
    snapshot_id varchar not null,
    inventory_item_id bigint not null,
    location_id bigint not null,
    sku varchar,
    available integer,                  -- null for untracked items
    updated_at varchar                  -- ISO-8601 with the shop's UTC offset
);
-- ShipBob v1.0 /inventory, one row per item x fulfillment center.
create table if not exists raw.shipbob_inventory (
    snapshot_id varchar not null,
    inventory_id bigint not null,
    name varchar,
    fulfillment_center_id bigint not null,
    fulfillment_center_name varchar,
    onhand_quantity integer,
    committed_quantity integer,
    fulfillable_quantity integer,
    awaiting_quantity integer,
    internal_transfer_quantity integer
);
"""

CONFIG_DDL = """
create schema if not exists config;
create or replace table config.systems (
    system_id varchar primary key,
    role varchar not null,
    connector varchar not null,
    is_master boolean not null,
    is_listing boolean not null,
    freshness_target_minutes integer not null,
    timezone varchar not null,
    channel_buffer integer not null,
    tolerance_units integer not null,
    tolerance_percent double not null,
    sync_stopped_share double not null,
    sync_stopped_min_keys integer not null
);
create or replace table config.locations (
    location_id varchar primary key,
    name varchar not null,
    timezone varchar not null,
    master_system_id varchar not null
);
"""

OPS_DDL = """
create schema if not exists ops;
create table if not exists ops.cycles (
    cycle_id varchar primary key,
    cycle_at timestamp not null,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,            -- running | succeeded | failed
    detail varchar
);
create table if not exists ops.exceptions (
    fingerprint varchar primary key,    -- stable: hash of cause, system, sku, location
    cause varchar not null,
    system_id varchar,
    canonical_sku varchar,
    canonical_location varchar,
    external_id varchar,
    owner_id varchar not null,
    severity varchar not null,          -- critical | high | medium | low
    severity_score double not null,
    status varchar not null,            -- open | acknowledged | snoozed | resolved
    snoozed_until timestamp,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null,
    resolved_at timestamp,
    times_opened integer not null default 1,
    title varchar not null,
    probable_cause varchar not null,
    suggested_check varchar not null,
    evidence json not null,
    alerted_at timestamp,
    alert_id varchar
);
create table if not exists ops.exception_events (
    fingerprint varchar not null,
    occurred_at timestamp not null,
    from_status varchar,
    to_status varchar not null,
    actor varchar not null,             -- 'stockdrift' for data-driven changes, else a person
    reason varchar not null
);
create table if not exists ops.alert_outbox (
    alert_id varchar primary key,       -- deterministic: kind + group + cycle
    created_at timestamp not null,
    kind varchar not null,              -- opened | resolved | escalated | reminder | digest
    owner_id varchar not null,
    slack_target varchar not null,
    fingerprints json not null,
    message json not null,              -- the platform-neutral message model
    status varchar not null,            -- pending | sent | failed
    attempts integer not null default 0,
    last_error varchar,
    sent_at timestamp,
    delivered_to varchar,               -- slack channel id, or 'file'
    slack_ts varchar
);
"""


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)
    con.execute(OPS_DDL)
    con.execute("create schema if not exists config")


def write_config(con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig) -> None:
    """Config as data, so dbt reads targets and tolerances through sources."""
    from stockdrift.config import LISTING_ROLES

    con.execute(CONFIG_DDL)
    tol = cfg.tolerances
    con.executemany(
        "insert into config.systems values (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                s.id,
                s.role,
                s.connector,
                s.id == cfg.master,
                s.role in LISTING_ROLES,
                s.freshness_target_minutes,
                s.timezone,
                s.channel_buffer,
                tol.units,
                tol.percent,
                tol.sync_stopped_share,
                tol.sync_stopped_min_keys,
            )
            for s in cfg.systems
        ],
    )
    con.executemany(
        "insert into config.locations values (?,?,?,?)",
        [(loc.id, loc.name, loc.timezone, cfg.master_for(loc.id)) for loc in cfg.locations],
    )


@contextmanager
def open_warehouse(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path)
    try:
        ensure_schema(con)
        yield con
    finally:
        con.close()
