"""The variance step three ways on the same data: dbt's `int_variances_computed` (timed by
dbt itself), one hand-written DuckDB query, and a generic table diff (reladiff).

The hand-written query computes what the dbt model computes for one cycle, minus the
"last master change" lookup over history (reported separately as its own query), so the
ratio isolates the cost of the model's shape, not of the rule.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

HAND_VARIANCES = """
create or replace table bench_hand_variances as
with snaps as (
    select snapshot_id, system_id, cycle_at from raw.snapshots
    where status = 'succeeded' and cycle_at = $cycle_at
),
positions as (
    select system_id, itemid as ext_sku, location as ext_loc,
        cast(quantityonhand as bigint) as on_hand, cast(quantityavailable as bigint) as available
    from raw.netsuite_inventory join snaps using (snapshot_id)
    union all
    select system_id, sku, cast(location_id as varchar), null, available
    from raw.shopify_inventory_levels join snaps using (snapshot_id)
    union all
    select system_id, cast(inventory_id as varchar), cast(fulfillment_center_id as varchar),
        onhand_quantity, fulfillable_quantity
    from raw.shipbob_inventory join snaps using (snapshot_id)
),
keyed as (
    select p.system_id, m.canonical_sku, l.canonical_location, sys.is_master, sys.is_listing,
        sys.channel_buffer, sys.tolerance_units, sys.tolerance_percent,
        sum(p.on_hand) as on_hand, sum(p.available) as available
    from positions p
    join mappings.sku_map m on m.system_id = p.system_id and m.external_sku = p.ext_sku
    join mappings.location_map l
        on l.system_id = p.system_id and l.external_location = p.ext_loc
    join config.systems sys on sys.system_id = p.system_id
    group by all
),
compared as (
    select c.system_id, c.canonical_sku, c.canonical_location, c.tolerance_units,
        c.tolerance_percent,
        case when c.is_listing then c.available else c.on_hand end as observed_qty,
        case when c.is_listing then greatest(0, m.available - c.channel_buffer)
             else m.on_hand end as expected_qty
    from keyed c
    left join keyed m on m.is_master and m.canonical_sku = c.canonical_sku
        and m.canonical_location = c.canonical_location
    where not c.is_master
)
select *, observed_qty - expected_qty as variance_units,
    case when observed_qty - expected_qty is null then null
         when abs(observed_qty - expected_qty) <= tolerance_units then true
         when tolerance_percent > 0 and expected_qty <> 0
              and 100.0 * abs(observed_qty - expected_qty) / abs(expected_qty)
                  <= tolerance_percent then true
         else false end as within_tolerance
from compared
"""

DBT_VARIANCES = """
select count(*), sum(abs(variance_units)), count(*) filter (where not within_tolerance)
from intermediate.int_variances_computed where cycle_at = $cycle_at
"""


@dataclass
class Comparison:
    hand_seconds: float
    hand_rows: int
    results_match: bool
    detail: str
    diff_seconds: float | None = None
    diff_prep_seconds: float | None = None
    diff_rows: int | None = None
    diff_note: str = ""


def hand_written(con: duckdb.DuckDBPyConnection, cycle_at: datetime) -> Comparison:
    t0 = time.perf_counter()
    con.execute(HAND_VARIANCES, {"cycle_at": cycle_at})
    seconds = time.perf_counter() - t0
    hand = con.execute(
        "select count(*), sum(abs(variance_units)), count(*) filter (where not within_tolerance)"
        " from bench_hand_variances"
    ).fetchone()
    dbt = con.execute(DBT_VARIANCES, {"cycle_at": cycle_at}).fetchone()
    match = tuple(hand or ()) == tuple(dbt or ())
    detail = f"hand {tuple(hand or ())} vs dbt {tuple(dbt or ())} (rows, sum |var|, drifting)"
    return Comparison(seconds, int(hand[0]) if hand else 0, match, detail)


def table_diff(warehouse: str, con: duckdb.DuckDBPyConnection, comparison: Comparison) -> None:
    """reladiff between expected and observed per key (both materialised first, timed apart)."""
    try:
        import reladiff
    except ImportError:
        comparison.diff_note = "reladiff not installed (pip install reladiff==0.6.0)"
        return
    t0 = time.perf_counter()
    for name, column in (("bench_expected", "expected_qty"), ("bench_observed", "observed_qty")):
        con.execute(
            f"create or replace table main.{name} as select row_number() over (order by "
            f"system_id, canonical_sku, canonical_location) as key_id, {column} as qty "
            "from bench_hand_variances"
        )
    con.execute("checkpoint")
    comparison.diff_prep_seconds = time.perf_counter() - t0
    con.close()  # reladiff opens the file itself
    uri = f"duckdb://{warehouse}"
    t0 = time.perf_counter()
    left: Any = reladiff.connect_to_table(uri, "bench_expected", "key_id", extra_columns=("qty",))
    right: Any = reladiff.connect_to_table(uri, "bench_observed", "key_id", extra_columns=("qty",))
    diff = list(reladiff.diff_tables(left, right))
    comparison.diff_seconds = time.perf_counter() - t0
    comparison.diff_rows = len({row[1][0] for row in diff})
    comparison.diff_note = "reladiff 0.6.0, integer key = rank of system|sku|location, column qty"
