"""Fixtures for the sandbox tests: a world on a manual clock, served over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from sandbox.serve import SandboxServers
from sandbox.world import World
from stockdrift.clock import ManualClock

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def world() -> World:
    return World(7, START)


@pytest.fixture
def servers(world: World, clock: ManualClock) -> Iterator[SandboxServers]:
    with SandboxServers(world, clock) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
