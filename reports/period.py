"""The reporting period: `--from/--to` or `--last 24h`, as naive-UTC bounds (inclusive)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from stockdrift.clock import parse_utc, to_naive_utc

DEFAULT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Period:
    start: datetime  # naive UTC
    end: datetime  # naive UTC

    @property
    def bucket(self) -> str:
        """Trend granularity: hours for short periods (the demo), days beyond two days."""
        return "hour" if self.end - self.start <= timedelta(hours=48) else "day"

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"


def parse_window(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)\s*([mhdw])", text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a window like 90m, 24h, 7d or 2w")
    n, unit = int(match.group(1)), match.group(2)
    minutes = {"m": 1, "h": 60, "d": 1440, "w": 10080}[unit]
    return timedelta(minutes=n * minutes)


def resolve_period(
    now: datetime | None,
    start: str | None = None,
    end: str | None = None,
    last: str | None = None,
) -> Period:
    """`end` defaults to `now` (the `stockdrift report` command passes the warehouse's
    latest cycle); `start` to `end - last` (24h when neither is given)."""
    if last and start:
        raise ValueError("give either --from or --last, not both")
    if end:
        stop = to_naive_utc(parse_utc(end))
    elif now is not None:
        stop = to_naive_utc(now)
    else:
        raise ValueError("the period has no end: give --to")
    if start:
        begin = to_naive_utc(parse_utc(start))
    else:
        begin = stop - (parse_window(last) if last else DEFAULT_WINDOW)
    if begin >= stop:
        raise ValueError(f"the period is empty: --from {begin} is not before --to {stop}")
    return Period(begin, stop)
