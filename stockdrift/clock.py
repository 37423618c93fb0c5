"""Injected time. Everything that asks "what time is it" takes a Clock, so the sandbox world
and the tests are deterministic. All times are timezone-aware UTC datetimes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe (sandbox servers read it)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            if when.astimezone(UTC) < self._now:
                raise ValueError(f"clock cannot go backwards: {when} < {self._now}")
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class OffsetClock:
    """Wall time shifted and sped up: sim = start + (wall - wall_start) * speed."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self._start = start.astimezone(UTC)
        self._wall_start = datetime.now(UTC)
        self._speed = speed

    def now(self) -> datetime:
        return self._start + (datetime.now(UTC) - self._wall_start) * self._speed


def to_naive_utc(when: datetime) -> datetime:
    """Warehouse timestamps are naive UTC (portable to Spark)."""
    return when.astimezone(UTC).replace(tzinfo=None)


def parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
