"""Scoring of the detection benchmark: matching, precision, recall, cause accuracy, ttd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.detect_score import matches, score
from sandbox.scenario import Fault

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
NAIVE_T0 = T0.replace(tzinfo=None)


def alarm(cause: str, system: str, sku: str | None, loc: str | None, minutes: int,
          external: str | None = None) -> dict[str, object]:
    return {"cause": cause, "system_id": system, "canonical_sku": sku,
            "canonical_location": loc, "external_id": external,
            "first_seen_at": NAIVE_T0 + timedelta(minutes=minutes)}


def test_system_level_fault_matches_no_per_key_flood() -> None:
    stopped = Fault("sync_stopped", "shopify", None, "EAST-DC", T0)
    assert matches(stopped, alarm("sync_stopped", "shopify", None, "EAST-DC", 10))
    assert not matches(stopped, alarm("sync_lag_breach", "shopify", "SD-1", "EAST-DC", 10))
    unmapped = Fault("unmapped_sku", "erp", None, None, T0, {"external_sku": "X/1"})
    assert matches(unmapped, alarm("unmapped_sku", "erp", None, None, 5, "X/1"))
    assert not matches(unmapped, alarm("unmapped_sku", "erp", None, None, 5, "X/2"))


def test_precision_recall_cause_accuracy_and_time_to_detect() -> None:
    faults = [
        Fault("missing_listing", "shopify", "A", "EAST-DC", T0),
        Fault("duplicate_record", "shipbob", "B", "CICERO-3PL", T0),
        Fault("oversell_risk", "shopify", "C", "EAST-DC", T0),
    ]
    alarms = [
        alarm("missing_listing", "shopify", "A", "EAST-DC", 10),
        alarm("sync_lag_breach", "shipbob", "B", "CICERO-3PL", 20),   # found, wrong cause
        alarm("duplicate_record", "shipbob", "B", "CICERO-3PL", 25),  # right cause, later
        alarm("sync_lag_breach", "shopify", "Z", "EAST-DC", 5),       # nobody injected it
    ]
    tallies = score(faults, alarms, ttd_limits={"shopify": 10, "shipbob": 20})
    overall = tallies["overall"]
    assert (overall.faults, overall.detected, overall.right_cause) == (3, 2, 1)
    assert overall.recall == 2 / 3 and overall.cause_accuracy == 1 / 2
    assert (overall.alarms, overall.true_alarms) == (4, 3)
    assert overall.ttd == [10.0] and overall.on_time == 1
    assert tallies["sync_lag_breach"].precision == 1 / 2
    naive = score(faults, alarms, cause_key=None)["overall"]
    assert naive.cause_accuracy == 0 and naive.recall == 2 / 3


def test_time_to_detect_starts_when_the_fault_first_shows_in_a_number() -> None:
    """A sync that stops before anything changes is invisible: its clock starts at the first
    change it failed to carry (`evident_at`), not at the injection."""
    stopped = Fault("sync_stopped", "shopify", None, "CICERO-3PL", T0,
                    {"evident_at": T0 + timedelta(minutes=12)})
    found = alarm("sync_stopped", "shopify", None, "CICERO-3PL", 20)
    overall = score([stopped], [found], ttd_limits={"shopify": 10})["overall"]
    assert overall.ttd == [8.0] and overall.on_time == 1
