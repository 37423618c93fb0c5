"""Amazon SP-API FBA Inventory v1 `getInventorySummaries` (details=true), one row per SKU.

vendor_api_facts.md §2: `GET /fba/inventory/v1/summaries?details=true&granularityType=
Marketplace&granularityId=<mp>&marketplaceIds=<mp>[&startDateTime=][&nextToken=]`, header
`x-amz-access-token` (LWA, §2.1; no SigV4 since 2023-10-02), envelope `{payload:
{granularity, inventorySummaries}, pagination: {nextToken}, errors}`. Usage plan 2 rps,
burst 2 (§2.3): we pace ourselves; a 429 `QuotaExceeded` (no Retry-After) backs off.
Incremental: `startDateTime` = last high-water mark; it must accompany every `nextToken`
(§2.2 "Important"). Inbound quantity changes are not detected incrementally (§2.2), so a
periodic full refresh stays necessary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from extractors.base import Exchange, Page, Unit
from extractors.errors import ExtractionError, Kind
from extractors.http import (
    Sleep,
    Throttle,
    arequest_with_retries,
    asleep,
    attempts_of,
    make_async_client,
    make_client,
    malformed,
    parse_json,
    request_with_retries,
)
from extractors.lwa import DEFAULT_ENDPOINT, LwaTokens
from extractors.vendor_errors import add_attempts, copy_error, with_vendor_code
from stockdrift.clock import parse_utc
from stockdrift.config import SystemConfig

PATH = "/fba/inventory/v1/summaries"
DEFAULT_MARKETPLACE = "ATVPDKIKX0DER"  # US (§2.2 example)
RATE_PER_S, BURST = 2.0, 2  # §2.3 usage plan
PACE_MARGIN = 0.9  # pace 10% under the plan: network jitter must not cost a 429
MAX_PAGES = 100_000

COLUMNS: tuple[str, ...] = (
    "marketplace_id", "seller_sku", "asin", "fn_sku", "condition", "product_name",
    "total_quantity", "fulfillable_quantity", "inbound_working_quantity",
    "inbound_shipped_quantity", "inbound_receiving_quantity", "reserved_quantity",
    "pending_customer_order_quantity", "pending_transshipment_quantity",
    "fc_processing_quantity", "researching_quantity", "unfulfillable_quantity",
    "last_updated_time",
)
DETAIL_INTS = ("fulfillableQuantity", "inboundWorkingQuantity", "inboundShippedQuantity",
               "inboundReceivingQuantity")


class Pacer:
    """Client-side token bucket so we stay inside the usage plan instead of meeting 429s."""

    def __init__(self, rate: float, burst: int, sleep: Sleep,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._sleep, self._now = rate, burst, sleep, now
        self._tokens = float(burst)
        self._at = now()

    def take(self) -> None:
        t = self._now()
        self._tokens = min(self.burst, self._tokens + (t - self._at) * self.rate)
        self._at = t
        if self._tokens < 1:
            wait = (1 - self._tokens) / self.rate
            self._sleep(wait)
            self._tokens, self._at = 1.0, self._at + wait
        self._tokens -= 1

    async def atake(self) -> None:
        """`take` for concurrent workers: each reserves its slot before waiting, so the
        workers together stay inside the one usage plan of the selling partner."""
        t = self._now()
        self._tokens = min(self.burst, self._tokens + (t - self._at) * self.rate) - 1
        self._at = t
        if self._tokens < 0:
            await asleep(self._sleep, -self._tokens / self.rate)


class AmazonFbaConnector:
    system_id: str
    raw_table = "amazon_fba_inventory"
    columns = COLUMNS
    # One raw row per key: an incremental answer replaces the base snapshot's row.
    key_columns: tuple[str, ...] = ("marketplace_id", "seller_sku")
    # What a subclass for another SP-API list operation changes (extractors/amazon_mfn.py).
    path = PATH
    token_param = "nextToken"  # the query parameter that carries the page token
    rate_per_s, burst = RATE_PER_S, BURST

    def __init__(self, system: SystemConfig, client: httpx.Client | None = None, *,
                 sleep: Sleep = time.sleep, since: datetime | None = None,
                 now: Callable[[], float] = time.monotonic,
                 async_client: httpx.AsyncClient | None = None) -> None:
        self.system, self.system_id = system, system.id
        self._client, self._sleep, self._now = client, sleep, now
        self.marketplace = system.options.get("marketplace_id", DEFAULT_MARKETPLACE)
        # Several marketplaces: one nextToken chain each, run by the async engine (§2.2:
        # granularityId and marketplaceIds name one marketplace per request).
        self.marketplaces = [m for m in system.options.get(
            "marketplace_ids", self.marketplace).split(",") if m]
        self.max_concurrency = system.max_concurrency
        self._async_client = async_client
        self.lwa_endpoint = system.options.get("lwa_endpoint", DEFAULT_ENDPOINT)
        self.since = since  # None = full refresh
        # Pages are full until the last (observed, not documented): a short page that still
        # has a nextToken reads as cut. `strict_pages: "false"` turns the check off.
        self.strict_pages = system.options.get("strict_pages", "true") != "false"
        self.high_water_mark: datetime | None = None  # newest lastUpdatedTime seen
        self._secrets: tuple[str, ...] = ()
        self.tokens: LwaTokens | None = None

    def source_as_of(self) -> datetime | None:
        return None  # summaries are live; lastUpdatedTime is per SKU (high_water_mark)

    def pages(self) -> Iterator[Page]:
        creds = {n: self.system.credential(n)
                 for n in ("refresh_token", "client_id", "client_secret")}
        self._secrets = (creds["refresh_token"], creds["client_secret"])
        client = self._client or make_client(self.system.base_url, self.system.timeout_seconds)
        endpoint = self.lwa_endpoint
        if endpoint.startswith("/"):  # sandbox: the fake LWA lives beside the fake SP-API
            endpoint = str(httpx.URL(self.system.base_url).join(endpoint))
        self.tokens = LwaTokens(client, endpoint, system_id=self.system_id, sleep=self._sleep,
                                now=self._now, **creds)
        pacer = Pacer(self.rate_per_s * PACE_MARGIN, self.burst, self._sleep, self._now)
        try:
            if len(self.marketplaces) > 1:
                yield from self._per_marketplace(pacer)
                return
            next_token: str | None = None
            first_size: int | None = None
            for n in range(1, MAX_PAGES + 1):
                params = {**self._base(self.marketplace),
                          **({self.token_param: next_token} if next_token else {})}
                pacer.take()
                label = n if next_token is None else f"{n} (nextToken {next_token[:16]})"
                response = self._get(client, params, label)
                page, next_token = self._page(response, label, self.marketplace, first_size)
                first_size = first_size or len(page.rows)
                yield page
                if not next_token:
                    return  # §2.4: no nextToken = no more items
            raise ExtractionError(self.system_id, "malformed", detail=f"over {MAX_PAGES} pages")
        finally:
            if self._client is None:
                client.close()

    def _base(self, marketplace: str) -> dict[str, Any]:
        base: dict[str, Any] = {
            "details": "true", "granularityType": "Marketplace",
            "granularityId": marketplace, "marketplaceIds": marketplace,
        }
        if self.since is not None:
            base["startDateTime"] = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return base

    def _page(self, response: httpx.Response, label: int | str, marketplace: str,
              first_size: int | None) -> tuple[Page, str | None]:
        data = parse_json(response, system_id=self.system_id, page=label,
                          secrets=self._secrets)
        rows, next_token = self._parse(response, data, label, marketplace)
        first_size = first_size or len(rows)
        if self.strict_pages and next_token and len(rows) < first_size:
            raise self._fail(response, label, f"truncated page: {len(rows)} summaries "
                             f"after a first page of {first_size}, and a nextToken")
        return Page(rows, Exchange.from_response(
            response, attempts=attempts_of(response), secrets=self._all_secrets()),
            str(label)), next_token

    def _per_marketplace(self, pacer: Pacer) -> Iterator[Page]:
        """One unit per marketplace (its nextToken chain sequential), sharing the pacer: the
        usage plan is per selling partner and operation, not per marketplace (§2.3)."""
        from extractors.fanout import fan_out

        assert self.tokens is not None
        tokens = self.tokens
        throttle = Throttle(self._sleep, self._now)
        spent = [tokens.requests]  # LWA calls so far land on the first page
        tokens.requests = 0

        def unit(marketplace: str) -> Unit:
            async def fetch(client: httpx.AsyncClient) -> list[Page]:
                pages: list[Page] = []
                next_token: str | None = None
                first_size: int | None = None
                for n in range(1, MAX_PAGES + 1):
                    params = {**self._base(marketplace),
                              **({self.token_param: next_token} if next_token else {})}
                    await pacer.atake()
                    label = f"{marketplace} {n}" + (
                        f" (nextToken {next_token[:16]})" if next_token else "")
                    response = await self._aget(client, throttle, params, label, spent)
                    add_attempts(response, spent[0] + tokens.requests)
                    spent[0], tokens.requests = 0, 0
                    page, next_token = self._page(response, label, marketplace, first_size)
                    first_size = first_size or len(page.rows)
                    pages.append(page)
                    if not next_token:
                        return pages
                raise ExtractionError(self.system_id, "malformed",
                                      detail=f"over {MAX_PAGES} pages")
            return fetch

        injected = self._async_client

        def client() -> httpx.AsyncClient:
            return injected or make_async_client(self.system.base_url,
                                                 self.system.timeout_seconds)

        for pages in fan_out([unit(m) for m in self.marketplaces], client=client,
                             max_concurrency=self.max_concurrency,
                             close_client=injected is None):
            yield from pages

    async def _aget(self, client: httpx.AsyncClient, throttle: Throttle,
                    params: dict[str, Any], label: str, spent: list[int]) -> httpx.Response:
        """`_get` for a marketplace worker: an access token that expired mid-run (403) is
        refreshed once (§2.5) and shared with the other workers."""
        assert self.tokens is not None
        for refreshed in (False, True):
            headers = {"x-amz-access-token": self.tokens.token(),  # §2.1
                       "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")}
            try:
                return await arequest_with_retries(
                    client, "GET", self.path, system_id=self.system_id, page=label,
                    params=params, headers=headers, throttle=throttle,
                    secrets=self._all_secrets())
            except ExtractionError as exc:
                exc = with_vendor_code(exc, self._all_secrets())
                if exc.kind == "auth" and not refreshed:
                    spent[0] += exc.attempts
                    self.tokens.invalidate()
                    continue
                raise copy_error(exc, attempts=exc.attempts + spent[0]
                                 + self.tokens.requests) from None
        raise AssertionError("unreachable")

    def _all_secrets(self) -> tuple[str, ...]:
        return self._secrets + (self.tokens.secrets if self.tokens else ())

    def _get(self, client: httpx.Client, params: dict[str, Any], page: int | str
             ) -> httpx.Response:
        """One page; on an auth failure refresh the LWA token once (expired mid-run)."""
        assert self.tokens is not None
        spent = self.tokens.requests  # LWA requests since the last page count here
        for refreshed in (False, True):
            headers = {
                "x-amz-access-token": self.tokens.token(),  # §2.1
                "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
            }
            try:
                response = request_with_retries(
                    client, "GET", self.path, system_id=self.system_id, page=page, params=params,
                    headers=headers, sleep=self._sleep, secrets=self._all_secrets(),
                )
            except ExtractionError as exc:
                exc = with_vendor_code(exc, self._all_secrets())
                spent += exc.attempts
                if exc.kind == "auth" and not refreshed:
                    self.tokens.invalidate()  # §2.5: 403 "Unauthorized" / expired token
                    continue
                raise copy_error(exc, attempts=spent + self.tokens.requests) from None
            finally:
                spent, self.tokens.requests = spent + self.tokens.requests, 0
            return add_attempts(response, spent)
        raise AssertionError("unreachable")

    def _parse(self, response: httpx.Response, data: Any, page: int | str,
               marketplace: str) -> tuple[list[dict[str, Any]], str | None]:
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
            raise self._fail(response, page, "field 'payload' missing or not an object", "schema")
        summaries = data["payload"].get("inventorySummaries")
        if not isinstance(summaries, list):
            raise self._fail(response, page, "payload.inventorySummaries missing", "schema")
        pagination = data.get("pagination") or {}
        token = pagination.get("nextToken") if isinstance(pagination, dict) else None
        rows = [self._row(response, s, i, page, marketplace) for i, s in enumerate(summaries)]
        return rows, (str(token) if token else None)

    def _row(self, response: httpx.Response, s: Any, i: int, page: int | str,
             marketplace: str) -> dict[str, Any]:
        if not isinstance(s, dict):
            raise self._fail(response, page, f"inventorySummaries[{i}] is not an object")
        for key in ("sellerSku", "inventoryDetails", "totalQuantity"):
            if key not in s:  # details=true always adds inventoryDetails (§2.4)
                raise self._fail(response, page,
                                 f"required field '{key}' missing in inventorySummaries[{i}]",
                                 "schema")
        d = s["inventoryDetails"]
        missing = [k for k in (*DETAIL_INTS, "reservedQuantity", "unfulfillableQuantity")
                   if not isinstance(d, dict) or k not in d]
        if missing:
            raise self._fail(response, page, f"required field '{missing[0]}' missing in "
                             f"inventorySummaries[{i}].inventoryDetails", "schema")
        reserved, unful = d["reservedQuantity"] or {}, d["unfulfillableQuantity"] or {}
        research = d.get("researchingQuantity") or {}
        row = {
            "marketplace_id": marketplace, "seller_sku": s["sellerSku"],
            "asin": s.get("asin"), "fn_sku": s.get("fnSku"), "condition": s.get("condition"),
            "product_name": s.get("productName"), "total_quantity": s["totalQuantity"],
            "fulfillable_quantity": d["fulfillableQuantity"],
            "inbound_working_quantity": d["inboundWorkingQuantity"],
            "inbound_shipped_quantity": d["inboundShippedQuantity"],
            "inbound_receiving_quantity": d["inboundReceivingQuantity"],
            "reserved_quantity": reserved.get("totalReservedQuantity"),
            "pending_customer_order_quantity": reserved.get("pendingCustomerOrderQuantity"),
            "pending_transshipment_quantity": reserved.get("pendingTransshipmentQuantity"),
            "fc_processing_quantity": reserved.get("fcProcessingQuantity"),
            "researching_quantity": research.get("totalResearchingQuantity"),
            "unfulfillable_quantity": unful.get("totalUnfulfillableQuantity"),
            "last_updated_time": s.get("lastUpdatedTime"),  # may be "" (§2.4)
        }
        bad = [k for k in COLUMNS[6:-1] if not isinstance(row[k], int | None)]
        if bad:
            raise self._fail(response, page, f"inventorySummaries[{i}].{bad[0]} is not an int")
        self._track(row["last_updated_time"])
        return row

    def _track(self, value: Any) -> None:
        if not value:
            return
        try:
            when = parse_utc(str(value))
        except ValueError:
            return
        if self.high_water_mark is None or when > self.high_water_mark:
            self.high_water_mark = when

    def _fail(self, response: httpx.Response, page: int | str, detail: str,
              kind: Kind = "malformed") -> ExtractionError:
        return malformed(response, system_id=self.system_id, page=page, detail=detail,
                         kind=kind, secrets=self._all_secrets())
