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

import os
import re
import time
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
-- Shopify Admin GraphQL inventoryLevel.quantities (one row per level; names as documented).
create table if not exists raw.shopify_inventory_quantities (
    snapshot_id varchar not null,
    inventory_level_id varchar not null,    -- GID
    inventory_item_id bigint not null,
    sku varchar,
    location_id bigint not null,
    location_name varchar,
    available integer, on_hand integer, committed integer, reserved integer,
    incoming integer, damaged integer, safety_stock integer, quality_control integer,
    updated_at varchar                      -- ISO-8601 UTC (Z)
);
-- Amazon SP-API FBA Inventory v1 summaries (details=true), one row per seller SKU.
create table if not exists raw.amazon_fba_inventory (
    snapshot_id varchar not null,
    marketplace_id varchar not null,
    seller_sku varchar not null,
    asin varchar,
    fn_sku varchar,
    condition varchar,
    product_name varchar,
    total_quantity integer,
    fulfillable_quantity integer,
    inbound_working_quantity integer,
    inbound_shipped_quantity integer,
    inbound_receiving_quantity integer,
    reserved_quantity integer,
    pending_customer_order_quantity integer,
    pending_transshipment_quantity integer,
    fc_processing_quantity integer,
    researching_quantity integer,
    unfulfillable_quantity integer,
    last_updated_time varchar               -- ISO-8601 Z, or '' as Amazon sends it
);
-- Square Inventory counts/batch-retrieve: one row per catalog object x location x state.
create table if not exists raw.square_inventory_counts (
    snapshot_id varchar not null,
    catalog_object_id varchar not null,
    catalog_object_type varchar,
    state varchar not null,
    location_id varchar not null,
    quantity varchar,                       -- decimal string, up to 5 decimal places
    calculated_at varchar                   -- RFC 3339 with milliseconds
);
-- EDI X12 846 (supplier feed): one row per QTY, plus one per SCH breakdown under it.
create table if not exists raw.edi846_inventory (
    snapshot_id varchar not null,
    file_name varchar not null,
    interchange_control varchar,            -- ISA13
    transaction_control varchar,            -- ST02
    sender_id varchar,                      -- ISA06
    purpose_code varchar,                   -- BIA01: 00 original, 25 incremental
    report_date varchar,                    -- BIA04 CCYYMMDD
    report_time varchar,                    -- BIA05 HHMM[SS..]
    line_no varchar,                        -- LIN01
    item_id varchar,                        -- preferred product id (SK, VN, VP, UP, ...)
    item_id_qualifier varchar,
    product_ids varchar,                    -- every LIN pair, "VP:ABC;UP:0123"
    description varchar,                    -- PID05
    quantity_qualifier varchar,             -- QTY01 (33 available for sale, 17 on hand...)
    quantity varchar,                       -- QTY02 or SCH01, decimal text
    uom varchar,
    location varchar,                       -- SCH04 (warehouse) or N1 name; null = total
    is_breakdown boolean not null,          -- true for SCH rows
    segment_position integer not null       -- segment number in the file (forensics)
);
-- CSV drop folder, after the declared column mapping; bad rows go to quarantine/.
create table if not exists raw.csv_drop_inventory (
    snapshot_id varchar not null,
    file_name varchar not null,
    row_number integer not null,            -- 1-based data row (header = row 0)
    sku varchar not null,
    location varchar,
    on_hand integer,
    available integer,
    committed integer,
    incoming integer,
    updated_at varchar
);
-- Amazon SP-API Listings Items searchListingsItems: merchant-fulfilled (DEFAULT channel)
-- quantity per seller SKU (fulfillmentAvailability), one row per SKU x channel code.
create table if not exists raw.amazon_mfn_listings (
    snapshot_id varchar not null,
    marketplace_id varchar not null,
    seller_sku varchar not null,
    asin varchar,
    product_type varchar,
    item_name varchar,
    status varchar,                         -- summaries[].status joined by ',' (BUYABLE...)
    fulfillment_channel_code varchar not null,  -- DEFAULT = merchant fulfilled
    quantity integer,
    last_updated_date varchar               -- summaries[].lastUpdatedDate, ISO-8601
);
-- SQL WMS export (keyset-paged from a database URL), after the declared column mapping.
create table if not exists raw.wms_inventory (
    snapshot_id varchar not null,
    sku varchar not null,
    location varchar not null,
    on_hand integer,
    allocated integer,
    available integer,
    updated_at varchar
);
-- How a snapshot was made (issue 3), beside raw.snapshots so its column list stays put:
-- full, incremental (changed rows merged onto base_snapshot_id's rows) or re-landed.
create table if not exists raw.snapshot_modes (
    snapshot_id varchar primary key,
    mode varchar not null,              -- full | incremental
    base_snapshot_id varchar,           -- incremental: the last good snapshot merged onto
    changed_rows integer,               -- rows the vendor sent (incremental: changed only)
    cursor_value varchar,               -- the `since` sent (incremental)
    replayed_at timestamp               -- set by `stockdrift replay` (rows re-landed)
);
-- Inventory semantics (docs/SEMANTICS.md): lots/serials and returns. Timestamps are ISO-8601
-- text with a UTC offset or Z (a value without one is read as UTC).
-- ShipBob v1.0 /inventory `fulfillable_quantity_by_lot[]` x its nested
-- `fulfillable_quantity_by_fulfillment_center[]` (vendor_api_facts.md §3.2).
create table if not exists raw.shipbob_inventory_lots (
    snapshot_id varchar not null,
    inventory_id bigint not null,
    lot_number varchar,
    expiration_date varchar,
    fulfillment_center_id bigint not null,
    onhand_quantity integer,
    committed_quantity integer,
    fulfillable_quantity integer,
    awaiting_quantity integer
);
-- NetSuite SuiteQL inventorynumberlocation (lot/serial x location) joined with
-- inventorynumber (item, number text, expiry as TO_CHAR(expirationdate, 'YYYY-MM-DD'));
-- extractors/netsuite.py LOT_QUERY, option `lots: "true"`.
create table if not exists raw.netsuite_inventory_lots (
    snapshot_id varchar not null,
    item varchar not null,
    itemid varchar,
    location varchar not null,
    inventorynumber varchar,            -- lot or serial number text
    expirationdate varchar,             -- YYYY-MM-DD
    quantityonhand varchar,
    quantityavailable varchar
);
-- WMS SQL export, lot/serial balances (table `lots`, after the declared column mapping).
create table if not exists raw.wms_lots (
    snapshot_id varchar not null,
    sku varchar not null,
    location varchar not null,
    lot_number varchar,                 -- null for serial-only items
    serial_number varchar,              -- one row per serial (on_hand 1) when serialized
    expiration_date varchar,            -- YYYY-MM-DD
    on_hand integer
);
-- WMS SQL export, customer returns still in the export (table `returns`).
create table if not exists raw.wms_returns (
    snapshot_id varchar not null,
    return_id varchar not null,
    sku varchar not null,
    location varchar not null,
    qty integer,
    received_at varchar,
    inspected_at varchar,
    restocked_at varchar,
    disposition varchar                 -- restock | scrap | vendor_return | null (undecided)
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
-- One row per system: the incremental cursor, advanced in the transaction that lands the
-- snapshot it came from (extractors/cursors.py).
create table if not exists ops.extract_cursors (
    system_id varchar primary key,
    cursor_value varchar,               -- ISO-8601 UTC high-water mark (null: none yet)
    snapshot_id varchar not null,       -- the last good snapshot (an incremental's base)
    last_full_refresh_at timestamp,     -- finished_at of the last full snapshot
    full_refresh_requested boolean not null default false,  -- `stockdrift cursors reset`
    updated_at timestamp not null
);
-- The seed files (mappings, policies) last loaded by a per-cycle `dbt build`: a cycle
-- rebuilds seeds only when their files changed (dagster_project/defs/transform.py).
create table if not exists ops.dbt_seed_loads (
    fingerprint varchar primary key,    -- sha256 over dbt/seeds/* (names and bytes)
    loaded_at timestamp not null
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


LOCK_WAIT_SECONDS = 120.0
# DuckDB's own default memory limit is 80% of RAM: at 6M rows per cycle a build grew to
# 15-19 GB. Capped, it spills to `<warehouse>.tmp` instead. The dbt profile sets the same
# (profiles.yml `settings`), so every connection of a process agrees. 4GB: measured to
# build 6M rows per cycle (peak RSS 4.5 GB); 1.5GB ran out of memory there (a window and
# an insert of 5M rows that DuckDB could not spill), though it builds 1.8M rows in 2.0 GB.
MEMORY_LIMIT_ENV, MEMORY_LIMIT_DEFAULT = "STOCKDRIFT_DUCKDB_MEMORY_LIMIT", "4GB"
THREADS_ENV, THREADS_DEFAULT = "STOCKDRIFT_DUCKDB_THREADS", "2"
_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


def duckdb_settings() -> dict[str, str]:
    """memory_limit and threads from the environment, checked: they are spliced into SET."""
    memory = os.environ.get(MEMORY_LIMIT_ENV, MEMORY_LIMIT_DEFAULT).strip()
    threads = os.environ.get(THREADS_ENV, THREADS_DEFAULT).strip()
    if not _SIZE.match(memory):
        raise ValueError(f"{MEMORY_LIMIT_ENV}={memory!r}: expected a size such as 1536MB or 2GB")
    if not threads.isdigit() or int(threads) < 1:
        raise ValueError(f"{THREADS_ENV}={threads!r}: expected a whole number >= 1")
    return {"memory_limit": memory, "threads": threads}


def connect(path: str | Path, read_only: bool = False,
            wait_seconds: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. DuckDB allows one writing process per file: when Dagster's
    multiprocess executor runs steps side by side, a step waits for the file instead of
    failing, and after `wait_seconds` the error names the file and why."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
            continue
        # SET, not connect(config=...): DuckDB refuses a second in-process connection to the
        # same file with another config, and dbt-duckdb connects without one
        for name, value in duckdb_settings().items():
            con.execute(f"set {name} = '{value}'")
        # dbt's sessions turn this off to stream large builds (profiles.yml); readers here
        # get DuckDB's default back: rows in the order they were written
        con.execute("set preserve_insertion_order = true")
        return con


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
