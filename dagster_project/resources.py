"""Resources: the typed config (read at run time) and the clock policy."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from stockdrift.clock import Clock, ManualClock, WallClock, parse_utc
from stockdrift.config import StockdriftConfig, load_config

CYCLE_TAG = "stockdrift/cycle_at"
# Dagster logs every step at DEBUG on the console; our summary is the readable output.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class StockdriftResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the config lives and whether time is frozen at the cycle time (sandbox, tests)."""

    config_path: str
    frozen_clock: bool = False

    def load(self) -> StockdriftConfig:
        return load_config(self.config_path)

    def clock(self, cycle_at: datetime) -> Clock:
        return ManualClock(cycle_at) if self.frozen_clock else WallClock()


def cycle_time(context: dg.AssetExecutionContext) -> datetime:
    """One timestamp for the whole run: the run's cycle tag, else the run's creation time."""
    tag = context.run.tags.get(CYCLE_TAG)
    if tag:
        return parse_utc(tag)
    record = context.instance.get_run_record_by_id(context.run_id)
    created = record.create_timestamp if record else datetime.now(UTC)
    return created.astimezone(UTC).replace(second=0, microsecond=0)
