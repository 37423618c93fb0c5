"""`make env` (the first step of `make demo` and `make test`) says what it does before pip
runs for a minute, and lets pip show each package instead of installing silently."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_env_step_announces_itself_before_pip(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n: print the recipe without running it; a fresh VENV path so the step is due.
    done = subprocess.run(["make", "-n", "-B", f"VENV={tmp_path / 'venv'}", "env"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    pips = [i for i, line in enumerate(lines) if "pip install" in line]
    first_echo = next(i for i, line in enumerate(lines) if line.startswith("echo"))
    assert first_echo < pips[0]
    announced = " ".join(lines[first_echo:pips[0]])
    assert "minute" in announced and "GB" in announced  # expected time and size
    main_install = next(line for line in lines if '-e ".[dev]"' in line)
    assert "--quiet" not in main_install
    assert any(f"{tmp_path / 'venv'}/bin/stockdrift" in line for line in lines)
