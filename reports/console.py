"""Readable cycle summary for the terminal (rich tables), read from the warehouse."""

from __future__ import annotations

from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def freshness_table(con: duckdb.DuckDBPyConnection) -> Table:
    table = Table(title="Systems: freshness vs target")
    for col in ("system", "role", "target (min)", "age (min)", "last extraction", "state"):
        table.add_column(col)
    for sid, role, target, age, status, stale, err in _rows(
        con,
        """
            select system_id, role, freshness_target_minutes, age_minutes, last_status,
                   is_stale, last_error_cause from marts.fct_system_freshness order by 1""",
    ):
        state = (
            "[red]FAILED[/]: " + str(err)
            if status != "succeeded"
            else "[yellow]LATE[/]"
            if stale
            else "[green]on time[/]"
        )
        table.add_row(
            sid, role, str(target), "—" if age is None else f"{age:.0f}", str(status), state
        )
    return table


def exceptions_table(con: duckdb.DuckDBPyConnection) -> Table:
    table = Table(title="Open exceptions by cause and owner")
    for col in ("cause", "system", "owner", "severity", "count", "example"):
        table.add_column(col)
    for cause, system, owner, sev, n, example in _rows(
        con,
        """
            select cause, coalesce(system_id, '—'), owner_id, max(severity), count(*),
                   min(title) from ops.exceptions where status <> 'resolved'
            group by 1, 2, 3 order by 1, 2""",
    ):
        table.add_row(cause, system, owner, sev, str(n), example)
    return table


def alerts_table(con: duckdb.DuckDBPyConnection) -> Table:
    table = Table(title="Alerts sent")
    for col in ("created", "kind", "owner", "to", "status", "title"):
        table.add_column(col)
    for created, kind, owner, target, status, title in _rows(
        con,
        """
            select created_at, kind, owner_id, coalesce(delivered_to, slack_target), status,
                   json_extract_string(message, '$.title')
            from ops.alert_outbox order by created_at, alert_id""",
    ):
        table.add_row(f"{created:%H:%M}", kind, owner, str(target), status, str(title))
    return table


def print_summary(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    console.print(freshness_table(con))
    console.print(exceptions_table(con))
    console.print(alerts_table(con))
