"""The alert path watches itself.

- `delivery_findings`: an owner whose alerts keep failing (an alert past `slack.max_attempts`)
  or cannot be resolved at all (unknown e-mail, user group without a channel: at once) becomes
  one `alert_delivery_failed` finding per owner, with the evidence a person needs: owner,
  channel, Slack's error, attempts, how many alerts wait. The queue routes it to
  `routing.default_owner` and resolves it by the data once the alerts go out.
- `heartbeat`: one message a day to the default owner saying the monitor ran and how many
  cycles succeeded, so a silently broken alert path is noticed by the missing heartbeat.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import duckdb

from alerts.followups import daily_id
from alerts.model import AlertMessage
from alerts.senders import hint_for
from expectations.findings import Finding, Scope, SuiteOutcome
from stockdrift.config import StockdriftConfig

CAUSE = "alert_delivery_failed"
SCOPE = Scope(causes=frozenset({CAUSE}))
# The owner cannot be resolved: retrying will not help, so do not wait for max_attempts.
UNRESOLVABLE = frozenset({"users_not_found", "no_channel_for_user_group"})
_CODE = re.compile(r"\[([a-z_]+)\]$")


def delivery_findings(con: duckdb.DuckDBPyConnection, max_attempts: int) -> list[Finding]:
    rows = con.execute(
        "select owner_id, slack_target, attempts, last_error, created_at "
        "from ops.alert_outbox where status in ('pending', 'failed') and attempts > 0 "
        "order by owner_id, attempts desc, created_at"
    ).fetchall()
    waiting = dict(con.execute(
        "select owner_id, count(*) from ops.alert_outbox "
        "where status in ('pending', 'failed') group by 1").fetchall())
    findings: dict[str, Finding] = {}
    for owner, target, attempts, last_error, created_at in rows:
        code = _code(last_error)
        if owner in findings or not (attempts >= max_attempts or code in UNRESOLVABLE):
            continue
        findings[owner] = _finding(owner, target, int(attempts), code, str(last_error or ""),
                                   created_at, int(waiting.get(owner, 1)))
    return list(findings.values())


def delivery_outcome(con: duckdb.DuckDBPyConnection, max_attempts: int) -> SuiteOutcome:
    """Findings as a suite outcome: exceptions of owners that recovered resolve by the data."""
    findings = delivery_findings(con, max_attempts)
    return SuiteOutcome("alert_delivery", not findings, len(findings), len(findings), findings,
                        SCOPE)


def _finding(owner: str, target: str, attempts: int, code: str, last_error: str,
             oldest: datetime, queued: int) -> Finding:
    error = last_error.split(": ", 1)[-1].removesuffix(f" [{code}]")
    hint = hint_for(code, owner) or "read the Slack error below and fix the owner's target"
    return Finding(
        cause=CAUSE, system_id="slack", canonical_sku=None, canonical_location=None,
        external_id=owner, severity="high", severity_score=float(queued),
        title=f"Alerts for owner '{owner}' are not reaching {target} ({queued} queued)",
        probable_cause=f"Slack answered {code} after {attempts} attempt(s)",
        suggested_check=f"{hint}; queued alerts go out on the next cycle once fixed",
        evidence={"owner": owner, "channel": target, "slack_error": code, "attempts": attempts,
                  "queued_alerts": queued, "oldest_queued_at": oldest.isoformat(),
                  "detail": error},
    )


def _code(last_error: str | None) -> str:
    match = _CODE.search(last_error or "")
    return match.group(1) if match else "unknown"


def heartbeat(
    con: duckdb.DuckDBPyConnection, cfg: StockdriftConfig, at: datetime, report_url: str = "",
) -> AlertMessage | None:
    """Today's heartbeat, once the day's heartbeat hour has passed (None before it)."""
    if at.hour < cfg.slack.heartbeat_hour_utc:
        return None
    since = at - timedelta(hours=24)
    counts = dict(con.execute(
        "select status, count(*) from ops.cycles where cycle_at >= ? and cycle_at < ? "
        "group by 1", [since, at]).fetchall())
    total = sum(counts.values())
    queue_row = con.execute("select count(*) from ops.exceptions where status <> 'resolved'"
                            ).fetchone()
    unsent_row = con.execute("select count(*) from ops.alert_outbox where status in "
                             "('pending', 'failed')").fetchone()
    open_now = int(queue_row[0]) if queue_row else 0
    unsent = int(unsent_row[0]) if unsent_row else 0
    owner = cfg.routing.default_owner
    succeeded = int(counts.get("succeeded", 0))
    history = (
        f"In the 24 h before: {succeeded} of {total} cycle{'s' if total != 1 else ''} succeeded"
        f"{', ' + str(counts['failed']) + ' failed' if counts.get('failed') else ''}"
        if total else "No earlier cycle in the last 24 h (first run, or the monitor was down)"
    )
    summary = (
        f"stockdrift ran at {at:%Y-%m-%d %H:%M} UTC. {history}. "
        f"{open_now} exception{'s' if open_now != 1 else ''} open, "
        f"{unsent} alert{'s' if unsent != 1 else ''} waiting to be delivered."
    )
    return AlertMessage(
        alert_id=daily_id("heartbeat", owner, at), kind="heartbeat", owner_id=owner,
        slack_target=cfg.owners[owner].slack, cause="heartbeat", system_id="stockdrift",
        severity="info", title=f"stockdrift is alive: {succeeded}/{total} cycles succeeded in 24 h",
        summary=summary, probable_cause="",
        suggested_check="" if succeeded == total else
        "Some cycles did not succeed: open the Dagster UI and check the monitor_cycle runs.",
        since=at, evidence={"cycles": counts, "open_exceptions": open_now, "unsent": unsent},
        report_url=report_url or cfg.slack.report_url or "",
    )
