"""`mappings check|apply` with a file a newcomer got wrong: one line naming the file, the
column or row and field, the expected header and the fix; exit 2, never a traceback. And a
`--seed` typo refused with the nearest seed name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dagster_project.cli import main

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt" / "seeds"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A copy of the shipped seeds: `apply` writes to its seeds folder."""
    return Path(shutil.copytree(SEEDS, tmp_path / "seeds"))


@pytest.fixture
def config(tmp_path: Path, seeds: Path) -> Path:
    """The example config on an empty warehouse of its own (no snapshot needed here)."""
    data = yaml.safe_load((REPO / "stockdrift.example.yml").read_text(encoding="utf-8"))
    data["warehouse_path"] = str(tmp_path / "stockdrift.duckdb")
    data["out_dir"] = str(tmp_path / "out")
    path = tmp_path / "stockdrift.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    seeds = config.parent / "seeds"
    code = main(["mappings", *args[:1], "--config", str(config), "--seeds-dir", str(seeds),
                 *args[1:]])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out.strip()


def _one_line_error(code: int, out: str) -> str:
    assert code == 2
    assert "\n" not in out, out
    assert out.startswith("error: ")
    return out


def test_missing_proposed_file_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nofile.csv"
    out = _one_line_error(*_run(capsys, config, "check", "--proposed", str(missing)))
    assert str(missing) in out and "no such file" in out
    assert "system_id,external_sku,canonical_sku" in out  # the header it should have


def test_missing_column_names_file_column_expected_header_and_fix(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "new_sku_map.csv"
    bad.write_text("system_id,external_sku\nshopify,SD-1001\n", encoding="utf-8")
    out = _one_line_error(*_run(capsys, config, "check", "--proposed", str(bad)))
    assert str(bad) in out and "missing column canonical_sku" in out
    assert "expected system_id,external_sku,canonical_sku" in out
    assert "fix the first line" in out


def test_empty_field_names_the_line_and_field(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "new_sku_map.csv"
    bad.write_text("system_id,external_sku,canonical_sku\nshopify,SD-1001,SD-1001\n"
                   "shopify,SD-1002,\n", encoding="utf-8")
    out = _one_line_error(*_run(capsys, config, "check", "--proposed", str(bad)))
    assert f"{bad} line 3: field canonical_sku is empty" in out


def test_bad_component_qty_names_the_line_and_value(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bundles.csv"
    bad.write_text("bundle_sku,component_sku,component_qty\nSD-KIT-01,SD-1003,two\n",
                   encoding="utf-8")
    out = _one_line_error(*_run(capsys, config, "apply", str(bad), "--actor", "data-team",
                                "--reason", "kit"))
    assert f"{bad} line 2: field component_qty is 'two'" in out
    landed = (config.parent / "seeds" / "bundle_components.csv").read_text(encoding="utf-8")
    assert landed == (SEEDS / "bundle_components.csv").read_text(encoding="utf-8")


def test_unrecognised_header_lists_the_expected_headers(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("sku,location\nSD-1001,1\n", encoding="utf-8")
    out = _one_line_error(*_run(capsys, config, "check", "--proposed", str(odd)))
    assert "cannot tell which mapping seed" in out and "sku,location" in out
    assert "location_map: system_id,external_location,canonical_location" in out


def test_seed_typo_is_refused_with_the_nearest_name(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    """`--seed` goes through the shared validator (stockdrift/choices.py): a typo is refused
    (exit 1) naming the nearest seed, never an empty history or a check of nothing."""
    new = tmp_path / "new.csv"
    new.write_text((SEEDS / "sku_map.csv").read_text(encoding="utf-8"), encoding="utf-8")
    code, out = _run(capsys, config, "check", "--proposed", str(new), "--seed", "sku_mpa")
    text = " ".join(out.split())
    assert code == 1 and "unknown seed 'sku_mpa'; did you mean 'sku_map'?" in text
    # check and apply replace a mapping seed: only those three are valid there
    assert "valid seeds: bundle_components, location_map, sku_map" in text
    code, out = _run(capsys, config, "history", "--seed", "location_maps")
    assert code == 1 and "did you mean 'location_map'?" in " ".join(out.split())
    code, _ = _run(capsys, config, "history", "--seed", "sku_policies")  # any seed file
    assert code == 0
