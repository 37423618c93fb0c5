"""dbt models as Dagster assets (dagster-dbt), built once per cycle with the cycle's time.

Measured here: a `dbt build` subprocess re-parses the whole project whenever `--vars`
changes (every cycle, since `cycle_at` does), costing 10–13 s per cycle; dbt's programmatic
runner with the manifest parsed once per process and reused costs 4–6 s. The asset
therefore runs dbt in-process and reports each model's materialization to Dagster itself.

What a cycle builds: every model, and the data tests on the marts (the contracts the
expectations and alerts read, over the current cycle's rows). Seeds and their tests are
rebuilt only when a file under dbt/seeds changed. Tests on staging and intermediate models
(tagged `history_checks`: they scan the whole history) run in the hourly `dbt_data_tests`
job and in CI, and unit tests in CI (`tests/dbt`). Measured on the demo warehouse: a full
`dbt build` 8.3 s per cycle, models alone 2.9 s (214 tests, 7 seeds, 45 models).
"""

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from dagster_project.resources import StockdriftResource, cycle_time

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
DBT_ARGS = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
SEED_DIR = DBT_DIR / "seeds"
HISTORY_CHECKS = "tag:history_checks"  # set on staging/intermediate tests in dbt_project.yml


class DbtBuildError(RuntimeError):
    pass


def dbt_executable() -> str:
    """The project's own dbt, next to this interpreter (not whatever is first on PATH)."""
    return str(Path(sys.executable).parent / "dbt")


@cache
def runtime_target_path() -> str:
    """Per-process dbt target dir: concurrent processes (tests, a demo, the UI) never write
    the same partial-parse and run-result files."""
    import tempfile

    return tempfile.mkdtemp(prefix="stockdrift-dbt-target-")


def _parse(target_path: str | None = None) -> Any:
    from dbt.cli.main import dbtRunner

    extra = ["--target-path", target_path] if target_path else []
    result = dbtRunner().invoke(["parse", "--quiet", *DBT_ARGS, *extra])
    if not result.success:
        raise DbtBuildError(f"dbt parse failed in {DBT_DIR}: {result.exception}")
    return result.result


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
    if not project.manifest_path.exists():
        _parse()  # first use on a fresh clone
    return project


@cache
def parsed_manifest(warehouse: str | None) -> Any:
    """Parsed once per process and warehouse; dbt applies per-invocation --vars on top of it.
    Per warehouse because dbt-duckdb names the database after the file, and the manifest's
    relation names carry that name: a manifest parsed for `w.duckdb` fails on `stockdrift.duckdb`
    ("w" is not a catalog)."""
    return _parse(runtime_target_path())


class StockdriftTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        # dbt tests run inside `dbt build` and fail the step; they are not separate checks.
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


def dbt_vars(cycle_at: str) -> str:
    return json.dumps({"cycle_at": cycle_at})


def seed_fingerprint(folder: Path | None = None) -> str:
    """sha256 over the seed files' names and bytes: a changed mapping changes it."""
    folder = folder or SEED_DIR
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _loaded_seed_fingerprints(warehouse: str) -> set[str]:
    from stockdrift.warehouse import open_warehouse

    with open_warehouse(warehouse) as con:
        return {r[0] for r in con.execute("select fingerprint from ops.dbt_seed_loads").fetchall()}


def _record_seed_load(warehouse: str, fingerprint: str, cycle_at: str) -> None:
    from stockdrift.warehouse import open_warehouse

    with open_warehouse(warehouse) as con:
        con.execute("delete from ops.dbt_seed_loads")
        con.execute("insert into ops.dbt_seed_loads values (?, ?)", [fingerprint, cycle_at])


def _invoke(args: list[str]) -> list[Any]:
    from dbt.cli.main import dbtRunner

    result = dbtRunner(manifest=parsed_manifest(os.environ.get("STOCKDRIFT_WAREHOUSE"))).invoke(
        [*args, "--quiet", "--target-path", runtime_target_path(), *DBT_ARGS]
    )
    nodes = list(getattr(result.result, "results", None) or [])
    failed = [r for r in nodes if str(r.status) in {"error", "fail", "skipped"}]
    if not result.success or failed:
        detail = "; ".join(f"{r.node.unique_id}: {r.status} {r.message or ''}" for r in failed)
        raise DbtBuildError(f"dbt {args[0]} failed: {detail or result.exception}")
    return nodes


def cycle_build_args(cycle_at: str, *, seeds: bool) -> list[str]:
    """The `dbt build` selection of one cycle (the module docstring says why), shared with
    `bench.cycle` so the benchmark times what production runs."""
    exclude = [HISTORY_CHECKS] if seeds else [HISTORY_CHECKS, "resource_type:seed"]
    return ["build", "--vars", dbt_vars(cycle_at), "--exclude-resource-type", "unit_test",
            "--exclude", *exclude]


def run_dbt_build(cycle_at: str) -> list[Any]:
    """One cycle's `dbt build`, in-process (what it selects: the module docstring); returns
    dbt's node results. The warehouse is STOCKDRIFT_WAREHOUSE, as in profiles.yml."""
    warehouse = os.environ.get("STOCKDRIFT_WAREHOUSE")
    fingerprint = seed_fingerprint()
    seeds_current = bool(warehouse) and fingerprint in _loaded_seed_fingerprints(str(warehouse))
    nodes = _invoke(cycle_build_args(cycle_at, seeds=not seeds_current))
    if warehouse and not seeds_current:
        _record_seed_load(warehouse, fingerprint, cycle_at)
    return nodes


def run_dbt_data_tests(cycle_at: str) -> list[Any]:
    """Every data test, over the whole history (the hourly `dbt_data_tests` job)."""
    return _invoke(["test", "--vars", dbt_vars(cycle_at), "--exclude-resource-type",
                    "unit_test"])


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()
    translator = StockdriftTranslator()

    @dbt_assets(manifest=project.manifest_path, project=project, dagster_dbt_translator=translator)
    def stockdrift_dbt(
        context: dg.AssetExecutionContext, stockdrift: StockdriftResource
    ) -> Iterator[Any]:
        cfg = stockdrift.load()
        os.environ["STOCKDRIFT_WAREHOUSE"] = str(Path(cfg.warehouse_path).resolve())
        at = cycle_time(context).strftime("%Y-%m-%d %H:%M:%S")
        nodes = run_dbt_build(at)
        selected = context.selected_asset_keys
        for node in nodes:
            props = node.node.to_dict()
            if props.get("resource_type") not in {"model", "seed", "snapshot"}:
                continue
            key = translator.get_asset_key(props)
            if key in selected:
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={
                        "execution_time_s": round(float(node.execution_time), 3),
                        "status": str(node.status),
                        "cycle_at": at,
                    },
                )

    return stockdrift_dbt


def dbt_resource() -> DbtCliResource:
    """For ad-hoc `dbt` use from Dagster (e.g. docs); cycles run dbt in-process."""
    return DbtCliResource(
        project_dir=dbt_project(), profiles_dir=str(DBT_DIR), dbt_executable=dbt_executable()
    )


@dg.op(description="Every dbt data test over the whole history (a cycle runs the marts' own).")
def dbt_data_tests(context: dg.OpExecutionContext, stockdrift: StockdriftResource) -> None:
    cfg = stockdrift.load()
    os.environ["STOCKDRIFT_WAREHOUSE"] = str(Path(cfg.warehouse_path).resolve())
    at = cycle_time(context).strftime("%Y-%m-%d %H:%M:%S")  # type: ignore[arg-type]
    nodes = run_dbt_data_tests(at)
    context.log.info(f"{len(nodes)} dbt data tests passed at {at}")


@dg.job(description="Staging and intermediate data tests over the whole history, hourly.")
def dbt_data_tests_job() -> None:
    dbt_data_tests()


dbt_data_tests_schedule = dg.ScheduleDefinition(
    job=dbt_data_tests_job,
    cron_schedule="7 * * * *",
    name="dbt_data_tests_hourly",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
