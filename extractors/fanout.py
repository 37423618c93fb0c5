"""The one async engine: run a connector's independent request units concurrently.

A connector declares how its requests fan out as a list of *units*: each unit is an async
function that fetches one independent piece (a NetSuite offset page, a ShipBob page number,
a Shopify location batch's Link chain, a Square location's cursor chain, an Amazon
marketplace's nextToken chain) and returns its pages. Cursor-chained pages stay sequential
inside their unit. At most `system.max_concurrency` units are in flight (a semaphore), all
share one `httpx.AsyncClient` and one `Throttle`, and their pages come back in unit order,
so a concurrent snapshot lands exactly the rows and payload order of a sequential one.

The first failing unit (in unit order) fails the extraction: units not yet started are
skipped, the pages of the units before it are still yielded (their payloads are evidence),
then its `ExtractionError` is raised, as the sequential path would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence

import httpx

from extractors.base import Page, Unit


class _Skipped(Exception):
    """A unit not started because another one already failed."""


def fan_out(
    units: Sequence[Unit],
    *,
    client: Callable[[], httpx.AsyncClient],
    max_concurrency: int,
    close_client: bool = True,
) -> Iterator[list[Page]]:
    """Yield each unit's pages in unit order while later units keep running.

    The event loop runs only while we wait for the next unit in order; while the caller
    lands a page, workers pause (landing is the slower side anyway)."""
    if not units:
        return
    loop = asyncio.new_event_loop()
    shared = client()
    tasks: list[asyncio.Task[list[Page]]] = []
    try:
        async def start() -> None:
            gate = asyncio.Semaphore(max(1, max_concurrency))
            failed = asyncio.Event()

            async def guarded(unit: Unit) -> list[Page]:
                async with gate:
                    if failed.is_set():
                        raise _Skipped
                    try:
                        return await unit(shared)
                    except BaseException:
                        failed.set()
                        raise

            tasks.extend(loop.create_task(guarded(u)) for u in units)

        loop.run_until_complete(start())
        for task in tasks:
            try:
                pages = loop.run_until_complete(task)
            except _Skipped:
                raise _first_error(loop, tasks) from None
            yield pages
    finally:
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        if close_client:
            loop.run_until_complete(shared.aclose())
        loop.close()


def _first_error(loop: asyncio.AbstractEventLoop,
                 tasks: list[asyncio.Task[list[Page]]]) -> BaseException:
    """The real failure behind skipped units: the first failed unit in unit order."""
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if task.cancelled():
            continue
        exc = task.exception()
        if exc is not None and not isinstance(exc, _Skipped):
            return exc
    return RuntimeError("every unit was skipped without a failure")  # not reachable
