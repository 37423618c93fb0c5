from pathlib import Path

import pytest
from cli_world import QueueWorld, build_world


@pytest.fixture
def world(tmp_path: Path) -> QueueWorld:
    return build_world(tmp_path)
