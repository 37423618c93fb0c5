from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina
from extract_vendors import TOKENS_ENV, Sleeps


@pytest.fixture(autouse=True)
def _no_real_backoff(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tokens in the env; stamina test mode: no backoff sleeps, attempts capped at 5."""
    for name, value in TOKENS_ENV.items():
        monkeypatch.setenv(name, value)
    with stamina.set_testing(True, attempts=5, cap=True):
        yield


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
