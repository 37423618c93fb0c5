"""A cheaper monitoring cycle for the benchmark: the project's own compiled SQL, replayed.

`dbt run` costs ~3.5 s per cycle here, almost all of it dbt's per-node overhead (25 nodes),
which 576 cycles per seed cannot afford. After the first cycle has been built by dbt
(seeds, every relation, the incremental history), the project is compiled once with a
placeholder `cycle_at`; each later cycle substitutes the cycle's timestamp and executes the
same statements in DAG order with dbt's materializations (view and table: create or
replace; incremental append: insert; delete+insert: the emitted rows replace their keys').
The SQL is dbt's, byte for byte.

Only the models the exception queue depends on are replayed: the marts the GX suites read
(`from marts.<name>` in expectations/*.py) and their ancestors. Marts nobody checks (sync
lag reports, available-to-promise) cannot change a detection, so they are not rebuilt.
"""

from __future__ import annotations

import json
import re
import time
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

PLACEHOLDER = "2199-01-01 00:00:00"
EXPECTATIONS = Path(__file__).resolve().parents[1] / "expectations"


def suite_marts(folder: Path = EXPECTATIONS) -> set[str]:
    """The marts the GX suites query: what the exception queue is built from."""
    names = set()
    for path in folder.glob("*.py"):
        names.update(re.findall(r"\bfrom\s+marts\.(\w+)", path.read_text("utf-8")))
    if not names:
        raise RuntimeError(f"{folder}: no `from marts.<model>` query found in the suites")
    return names


def _ancestors(graph: dict[str, list[str]], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        uid = todo.pop()
        if uid not in seen:
            seen.add(uid)
            todo.extend(graph[uid])
    return seen


class CompiledProject:
    def __init__(self, runner: Any, args: list[str], target: Path) -> None:
        res = runner.invoke(["compile", "--vars", json.dumps({"cycle_at": PLACEHOLDER}), *args])
        if not res.success:
            raise RuntimeError(f"dbt compile failed: {res.exception}")
        manifest = json.loads((target / "manifest.json").read_text("utf-8"))
        models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
        graph = {uid: [d for d in n["depends_on"]["nodes"] if d in models]
                 for uid, n in models.items()}
        wanted = suite_marts()
        roots = [uid for uid, n in models.items() if n["name"] in wanted]
        missing = wanted - {models[uid]["name"] for uid in roots}
        if missing:
            raise RuntimeError(f"the GX suites query marts dbt does not build: {sorted(missing)}")
        needed = _ancestors(graph, roots)
        self.skipped = sorted(models[uid]["name"] for uid in models if uid not in needed)
        self.steps: list[tuple[str, str, str]] = []
        for uid in TopologicalSorter(graph).static_order():
            node = models[uid]
            if uid not in needed:
                continue      # nothing the queue reads depends on it
            if f"'{PLACEHOLDER}'" not in node["compiled_code"] and node["config"][
                    "materialized"] == "view":
                continue      # a view that does not depend on the cycle is already right
            materialized = node["config"]["materialized"]
            if materialized == "incremental" and node["config"].get(
                    "incremental_strategy") == "delete+insert":
                keys = node["config"]["unique_key"]
                materialized = "delete+insert:" + ",".join(
                    [keys] if isinstance(keys, str) else keys)
            self.steps.append((materialized, node["relation_name"], node["compiled_code"]))
        self.seconds: dict[str, float] = {}      # per relation, summed over cycles
        self.per_cycle: list[dict[str, float]] = []   # per relation, each replayed cycle

    def run(self, con: Any, cycle_at: str) -> None:
        this_cycle: dict[str, float] = {}
        self.per_cycle.append(this_cycle)
        for materialized, relation, code in self.steps:
            started = time.perf_counter()
            sql = code.replace(f"'{PLACEHOLDER}'", f"'{cycle_at}'")
            if materialized == "incremental":
                con.execute(f"insert into {relation} by name ({sql})")
            elif materialized.startswith("delete+insert:"):
                # dbt-duckdb's delete+insert: the emitted rows replace their keys' rows
                on = " and ".join(f"{relation}.{k} = replay_new.{k}"
                                  for k in materialized.split(":", 1)[1].split(","))
                con.execute(f"create or replace temp table replay_new as ({sql})")
                con.execute(f"delete from {relation} using replay_new where {on}")
                con.execute(f"insert into {relation} by name select * from replay_new")
                con.execute("drop table replay_new")
            else:
                kind = "view" if materialized == "view" else "table"
                con.execute(f"create or replace {kind} {relation} as ({sql})")
            name = relation.rsplit(".", 1)[-1].strip('"')
            this_cycle[name] = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + this_cycle[name]
