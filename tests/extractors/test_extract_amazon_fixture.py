"""Amazon FBA against the official model's sandbox response (vendor_api_facts.md §2.4),
through httpx.MockTransport: field mapping, `""` timestamps, LWA form, headers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from extract_vendors import Sleeps

from extractors.amazon_fba import AmazonFbaConnector
from extractors.errors import ExtractionError
from stockdrift.config import SystemConfig

BASE = "https://sellingpartnerapi-na.amazon.com"
ZERO_DETAILS = {
    "fulfillableQuantity": 0, "inboundWorkingQuantity": 0, "inboundShippedQuantity": 0,
    "inboundReceivingQuantity": 0,
    "reservedQuantity": {"totalReservedQuantity": 0, "pendingCustomerOrderQuantity": 0,
                         "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
    "researchingQuantity": {"totalResearchingQuantity": 0, "researchingQuantityBreakdown": []},
    "unfulfillableQuantity": {"totalUnfulfillableQuantity": 0, "customerDamagedQuantity": 0,
                              "warehouseDamagedQuantity": 0, "distributorDamagedQuantity": 0,
                              "carrierDamagedQuantity": 0, "defectiveQuantity": 0,
                              "expiredQuantity": 0},
}
OFFICIAL = {  # §2.4, the model's sandbox example (third summary abridged to its numbers)
    "pagination": {"nextToken": "seed"},
    "payload": {
        "granularity": {"granularityType": "Marketplace", "granularityId": "ATVPDKIKX0DER"},
        "inventorySummaries": [
            {"asin": "B0020MLK00", "fnSku": "B0020MLK00", "sellerSku": "EMTEC 1 GB",
             "condition": "NewItem", "inventoryDetails": ZERO_DETAILS, "lastUpdatedTime": "",
             "productName": "EMTEC 1 GB 60x SD Flash Memory Card with USB 2.0 Card Reader",
             "totalQuantity": 0},
            {"asin": "B00T9QONN6", "fnSku": "B00T9QONN6", "sellerSku": "Silicon Power 32GB",
             "condition": "NewItem",
             "inventoryDetails": {**ZERO_DETAILS, "fulfillableQuantity": 66,
                                  "inboundWorkingQuantity": 21},
             "lastUpdatedTime": "2018-03-31T23:40:39Z", "productName": "Silicon Power 32GB",
             "totalQuantity": 87},
        ],
    },
}


def handler(requests: list[httpx.Request], pages: list[dict[str, Any]]) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.host == "api.amazon.com":
            return httpx.Response(200, json={"access_token": "Atza|live-token",
                                             "token_type": "bearer", "expires_in": 3600})
        body = pages[min(len([r for r in requests if r.url.host != "api.amazon.com"]),
                         len(pages)) - 1]
        return httpx.Response(200, content=json.dumps(body).encode(),
                              headers={"x-amzn-RequestId": "a8c8d99a-6ab5-11e8"})
    return respond


@pytest.fixture
def system(monkeypatch: pytest.MonkeyPatch) -> SystemConfig:
    for name, value in {"AR": "Atzr|refresh-secret", "AC": "amzn1.app", "AS": "cs-secret"}.items():
        monkeypatch.setenv(name, value)
    return SystemConfig(id="amazon", role="marketplace", connector="amazon_fba", base_url=BASE,
                        credentials={"refresh_token": "AR", "client_id": "AC",
                                     "client_secret": "AS"}, freshness_target_minutes=15)


def test_official_example_maps_and_pages(system: SystemConfig) -> None:
    requests: list[httpx.Request] = []
    last = {**OFFICIAL, "pagination": {}}
    transport = httpx.MockTransport(handler(requests, [OFFICIAL, last]))
    sleeps = Sleeps()
    with httpx.Client(base_url=BASE, transport=transport) as client:
        pages = list(AmazonFbaConnector(system, client, sleep=sleeps).pages())
    lwa, first, second = requests
    assert parse_qs(lwa.content.decode()) == {
        "grant_type": ["refresh_token"], "refresh_token": ["Atzr|refresh-secret"],
        "client_id": ["amzn1.app"], "client_secret": ["cs-secret"]}
    assert first.headers["x-amz-access-token"] == "Atza|live-token"
    assert dict(first.url.params) == {"details": "true", "granularityType": "Marketplace",
                                      "granularityId": "ATVPDKIKX0DER",
                                      "marketplaceIds": "ATVPDKIKX0DER"}
    assert second.url.params["nextToken"] == "seed"
    row = pages[0].rows[1]
    assert (row["seller_sku"], row["fulfillable_quantity"], row["inbound_working_quantity"],
            row["total_quantity"], row["last_updated_time"]) == (
        "Silicon Power 32GB", 66, 21, 87, "2018-03-31T23:40:39Z")
    assert pages[0].rows[0]["last_updated_time"] == ""
    assert b"refresh-secret" not in pages[0].exchange.body


def test_details_missing_is_a_schema_error(system: SystemConfig) -> None:
    bare = json.loads(json.dumps(OFFICIAL))
    del bare["payload"]["inventorySummaries"][1]["inventoryDetails"]
    transport = httpx.MockTransport(handler([], [bare]))
    with httpx.Client(base_url=BASE, transport=transport) as client, \
            pytest.raises(ExtractionError) as info:
        list(AmazonFbaConnector(system, client, sleep=Sleeps()).pages())
    assert "required field 'inventoryDetails' missing in inventorySummaries[1]" in str(info.value)
    assert info.value.kind == "schema" and info.value.page == 1
