"""The sandbox world's file and database feeds, written into one folder before each cycle.

    write_feeds(world, folder, now)     # after world.advance_to(now)

- `wms.db` (SQLite): the WMS export of both buildings with its `returns` and `lots` tables,
  rewritten every call (a WMS export job runs every few minutes);
- `supplier-846/`: the drop-ship supplier's X12 846, one file per hourly report (report time
  in the supplier's own timezone, as X12 dates carry no zone);
- `partner-csv/`: the DALLAS-3PL partner's CSV stock export every 30 minutes.

A file already delivered (still in the folder or moved to `processed/` by the connector) is
never written twice, so the connectors see each report once and carry it forward after.
`FEED_URLS` gives each feed's `base_url` for the config.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sandbox.files.csv_drop import partner_csv, write_csv
from sandbox.files.edi846 import drop_846, render_846
from sandbox.files.wms_db import world_side_rows, world_wms_rows, write_wms_db
from sandbox.world import World

CSV_EVERY = timedelta(minutes=30)
SUPPLIER_TZ = ZoneInfo("America/Chicago")   # config systems[supplier].timezone
SUPPLIER_WAREHOUSE = "ACME-RENO"            # location_map: supplier -> DROPSHIP-ACME
WMS_FILE = "wms.db"
SUPPLIER_DIR = "supplier-846"
CSV_DIR = "partner-csv"


def feed_urls(folder: Path) -> dict[str, str]:
    """`base_url` per feed system id (absolute: the connectors run from any directory)."""
    root = folder.resolve()
    return {"wms": f"sqlite://{root / WMS_FILE}", "supplier": (root / SUPPLIER_DIR).as_uri(),
            "partner_csv": (root / CSV_DIR).as_uri()}


def _delivered(folder: Path, name: str) -> bool:
    return (folder / name).exists() or (folder / "processed" / name).exists()


def write_feeds(world: World, folder: Path, now: datetime) -> list[Path]:
    """Write every feed due at `now` (the world must already stand at `now`); returns the
    files written."""
    if world.now != now.replace(second=0, microsecond=0):
        raise ValueError(f"write_feeds at {now.isoformat()}: the world stands at "
                         f"{world.now.isoformat()}; advance it first")
    written = [write_wms_db(world, folder / WMS_FILE, rows=world_wms_rows(world),
                            side_tables=world_side_rows(world))]
    reported_at, items = world.supplier_report()
    local = reported_at.astimezone(SUPPLIER_TZ)
    control = int((reported_at - world.start).total_seconds() // 3600) + 1
    edi_dir = folder / SUPPLIER_DIR
    if not _delivered(edi_dir, f"846_{local:%Y%m%d%H%M}_{control:09d}.edi"):
        text = render_846(items, local, control, warehouses=(SUPPLIER_WAREHOUSE,),
                          qualifiers=("17", "33"), buyer_sku=False)
        written.append(drop_846(edi_dir, text, local, control))
    # the partner's export slot now due (every CSV_EVERY from the start); a caller that
    # skips past a slot (a fast dev clock) still gets it once, with the state at `now`
    csv_dir = folder / CSV_DIR
    slot = world.start + (world.now - world.start) // CSV_EVERY * CSV_EVERY
    name = f"stock_{slot:%Y%m%d%H%M}.csv"
    if not _delivered(csv_dir, name):
        written.append(write_csv(world, csv_dir, name, rows=partner_csv(world)))
    return written
