"""`stockdrift mappings check`: the mapping seeds against what the systems hold right now.

Reads each system's latest successful snapshot (`intermediate.int_positions_unioned`, every
connector's rows in one shape) and reports, before anyone finds out from a wrong alert:
unmapped SKUs and locations (with the stock they hide), one external id mapped to two
canonical ids, duplicate rows, mapped locations without a time zone (not in
`config.locations`), rows for unknown systems, bundle components the master does not map,
bundles no channel lists, and, for a proposed seed, every SKU or location with stock that
the change would orphan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from stockdrift.audit import Row, parse_seed
from stockdrift.audit_seed_file import MAPPING_COLUMNS, read_seed_file, seed_name_for
from stockdrift.config import StockdriftConfig

__all__ = ["CheckResult", "Position", "Problem", "check_mappings", "latest_positions",
           "load_seeds", "seed_name_for"]

KIND_OF = {"sku": ("sku_map", "external_sku"), "location": ("location_map", "external_location")}


@dataclass(frozen=True)
class Problem:
    kind: str
    severity: str  # error | warning
    seed: str
    system_id: str
    key: str
    detail: str
    units: int = 0


@dataclass
class CheckResult:
    problems: list[Problem] = field(default_factory=list)
    snapshots: dict[str, str] = field(default_factory=dict)  # system -> snapshot checked

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


@dataclass(frozen=True)
class Position:
    system_id: str
    snapshot_id: str
    external_sku: str
    external_location: str
    units: int


def latest_positions(con: duckdb.DuckDBPyConnection) -> list[Position]:
    """Every record of each system's latest successful snapshot (empty before any cycle)."""
    try:
        rows = con.execute(
            """with p as (select * from intermediate.int_positions_unioned),
            latest as (select system_id, arg_max(snapshot_id, (cycle_at, snapshot_id)) as sid
                       from p group by 1)
            select p.system_id, p.snapshot_id, p.external_sku, p.external_location,
                coalesce(p.on_hand, p.available, 0)
            from p join latest on p.system_id = latest.system_id and p.snapshot_id = latest.sid"""
        ).fetchall()
    except duckdb.CatalogException:
        return []
    return [Position(s, sid, str(k), str(loc), int(u)) for s, sid, k, loc, u in rows]


def load_seeds(seeds_dir: Path) -> dict[str, list[Row]]:
    """Every seed on disk; the mapping seeds checked like a proposed file (a seed missing a
    column fails naming the file, not as a bare KeyError)."""
    paths = sorted(seeds_dir.glob("*.csv"))
    return {p.stem: read_seed_file(p, p.stem) if p.stem in MAPPING_COLUMNS
            else parse_seed(p.read_text(encoding="utf-8"))[1] for p in paths}


def _mapping(rows: list[Row], column: str) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    target = "canonical_" + column.removeprefix("external_")
    for r in rows:
        out[(r.get("system_id", ""), r.get(column, ""))].add(r.get(target, ""))
    return out


def _stock(positions: list[Position], kind: str) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for p in positions:
        key = p.external_sku if kind == "sku" else p.external_location
        out[(p.system_id, key)] += max(p.units, 0)
    return out


def _table_problems(seed: str, rows: list[Row], cfg: StockdriftConfig) -> list[Problem]:
    problems = []
    for row_text, n in Counter(tuple(r.items()) for r in rows).items():
        if n > 1:
            row = dict(row_text)
            problems.append(Problem("duplicate_row", "warning", seed, row.get("system_id", ""),
                                    ",".join(row.values()), f"row appears {n} times"))
    systems = {s.id for s in cfg.systems}
    for sid in sorted({r["system_id"] for r in rows if "system_id" in r} - systems):
        problems.append(Problem("unknown_system", "warning", seed, sid, sid,
                                f"rows for system {sid!r}, which config does not define"))
    for kind, (name, column) in KIND_OF.items():
        if name != seed:
            continue
        for (sid, ext), canon in sorted(_mapping(rows, column).items()):
            if len(canon) > 1:
                problems.append(Problem(f"ambiguous_{kind}", "error", seed, sid, ext,
                                        f"mapped to {len(canon)} canonical ids: "
                                        f"{', '.join(sorted(canon))}"))
    if seed == "location_map":
        zoned = {loc.id for loc in cfg.locations}
        for loc in sorted({r["canonical_location"] for r in rows} - zoned):
            problems.append(Problem("location_without_timezone", "error", seed, "", loc,
                                    "not in config `locations` (id, name, timezone); posting "
                                    "windows and business days cannot be computed"))
    return problems


def _unmapped(seeds: dict[str, list[Row]], positions: list[Position]) -> list[Problem]:
    problems = []
    for kind, (seed, column) in KIND_OF.items():
        mapped = _mapping(seeds.get(seed, []), column)
        for (sid, ext), units in sorted(_stock(positions, kind).items()):
            if (sid, ext) not in mapped:
                problems.append(Problem(f"unmapped_{kind}", "error" if units > 0 else "warning",
                                        seed, sid, ext, f"{units} units not compared anywhere",
                                        units))
    return problems


def _bundles(seeds: dict[str, list[Row]], cfg: StockdriftConfig) -> list[Problem]:
    """Components are stock the master books, so each needs a master sku_map row. A bundle
    (kit) is built from them and has no stock of its own in the master: it only needs a
    channel that lists it (any system's sku_map row), else nothing compares it."""
    sku_rows = seeds.get("sku_map", [])
    on_master = {r["canonical_sku"] for r in sku_rows if r["system_id"] == cfg.master}
    listed = {r["canonical_sku"] for r in sku_rows}
    problems = []
    for bundle in sorted({r["bundle_sku"] for r in seeds.get("bundle_components", [])}
                         - listed):
        problems.append(Problem("bundle_unlisted", "warning", "bundle_components", "",
                                bundle, "no system's sku_map maps to this bundle, so no "
                                "listing of it is compared with what its components build"))
    for r in seeds.get("bundle_components", []):
        sku = r["component_sku"]
        if sku not in on_master:
            problems.append(Problem("bundle_component_unmapped", "error",
                                    "bundle_components", cfg.master, sku,
                                    f"component_sku of bundle {r['bundle_sku']} has no "
                                    f"sku_map row on the master ({cfg.master})"))
    return problems


def _orphans(current: dict[str, list[Row]], proposed: dict[str, list[Row]],
             positions: list[Position]) -> list[Problem]:
    """Keys with stock that the current seeds map and the proposed seeds would not."""
    problems = []
    for kind, (seed, column) in KIND_OF.items():
        if seed not in proposed:
            continue
        before, after = _mapping(current.get(seed, []), column), _mapping(proposed[seed], column)
        for (sid, ext), units in sorted(_stock(positions, kind).items()):
            if units > 0 and (sid, ext) in before and (sid, ext) not in after:
                problems.append(Problem("would_orphan_stock", "error", seed, sid, ext,
                                        f"{units} units would lose their mapping "
                                        f"({', '.join(sorted(before[(sid, ext)]))})", units))
    return problems


def check_mappings(
    con: duckdb.DuckDBPyConnection,
    cfg: StockdriftConfig,
    seeds_dir: Path,
    proposed: dict[str, Path] | None = None,
) -> CheckResult:
    """Validate the seeds (with `proposed` files replacing theirs) against the latest stock."""
    current = load_seeds(seeds_dir)
    replacing = {s: read_seed_file(p, s) for s, p in (proposed or {}).items()}
    seeds = {**current, **replacing}
    positions = latest_positions(con)
    result = CheckResult(snapshots={p.system_id: p.snapshot_id for p in positions})
    for seed, rows in seeds.items():
        result.problems += _table_problems(seed, rows, cfg)
    result.problems += _unmapped(seeds, positions)
    result.problems += _bundles(seeds, cfg)
    result.problems += _orphans(current, replacing, positions)
    return result
