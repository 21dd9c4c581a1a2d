"""Issue #9's acceptance, point by point, through the real app as the CRM calls it.

1. A `calculate` callback for a 2-package order Moscow → Kazan returns offers from several
   carriers with costs equal to `POST /v1/quotes` for the same shipment, and pickup offers carry
   their points.
2. A `save` then `get` returns the same carrier, service and price; an unknown `clientId` is 403.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from router.core.models import Location
from router.core.regions import regions
from router.http import appkeys as keys
from tests.integrations import published
from tests.integrations.conftest import StartCrm
from tests.integrations.crm_client import PREFIX
from tests.integrations.test_retailcrm_callbacks import (
    MOSCOW_KAZAN_TWO_PACKAGES,
    SAME_SHIPMENT_AS_API,
    save_payload,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest


async def test_acceptance_calculate_for_a_two_package_order_moscow_to_kazan_offers_several_carriers_at_the_quotes_api_costs_and_pickup_offers_carry_their_points(
    connect_crm: StartCrm,
) -> None:
    connected = await connect_crm()
    # The API first, on an app that has quoted nothing yet, so its prices are worked out afresh.
    api = await connected.api.post("/v1/quotes", json=SAME_SHIPMENT_AS_API)
    assert api.status == 201
    api_offers = {o["id"]: o for o in (await api.json())["offers"]}
    results = (await connected.crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result

    carriers = {r["code"].split(":")[0] for r in results}
    assert len(carriers) >= 3, carriers
    for result in results:
        offer = api_offers[result["code"]]
        assert Decimal(str(result["cost"])) == Decimal(offer["price"]["total"]), result["code"]
        # The CRM speaks Russian: its names are the Russian ones.
        assert result["group"] == offer["carrier_name_ru"]
        assert result["name"] == f"{offer['carrier_name_ru']}: {offer['service_name_ru']}"
        assert "раб. дн." in result["description"]
        assert result["type"] == {"courier": "courier", "pickup": "selfDelivery"}[offer["delivery_type"]]
        assert (result["minTerm"], result["maxTerm"]) == (offer["eta"]["min_days"], offer["eta"]["max_days"])
    # Every courier offer the API makes reaches the CRM; a pickup offer only with somewhere to pick up.
    assert {r["code"] for r in results if r["type"] == "courier"} == {
        c for c, o in api_offers.items() if o["delivery_type"] == "courier"
    }

    pickups = [r for r in results if r["type"] == "selfDelivery"]
    assert len({r["code"].split(":")[0] for r in pickups}) >= 2
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    kazan = connected.api.server.app[keys.PLACES].resolve(Location(country="RU", city="Казань"), "")
    for offer in pickups:
        assert offer["pickuppointList"], offer["code"]
        for point in offer["pickuppointList"]:
            found = directory.get(point["code"])
            assert found is not None and found.carrier == offer["code"].split(":")[0]
            assert (
                regions().of_written(found.country, found.region) == kazan.region == "RU-TA"
                and abs(found.lat - kazan.lat) < 0.5
                and abs(found.lon - kazan.lon) < 0.5
            )
            assert point["cost"] == offer["cost"]
            assert point["name"] and point["address"] and point["schedule"]
            assert (point["coordinates"]["latitude"], point["coordinates"]["longitude"]) == (found.lat, found.lon)


async def test_acceptance_save_then_get_returns_the_same_carrier_service_and_price_and_an_unknown_client_id_is_403(
    connect_crm: StartCrm,
) -> None:
    connected = await connect_crm()
    results = (await connected.crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result
    quote_id = results[0]["extraData"]["quoteId"]
    locked = {o["id"]: o for o in (await connected.quote(quote_id))["offers"]}
    chosen = [next(r for r in results if r["type"] == kind) for kind in ("courier", "selfDelivery")]
    for i, offer in enumerate(chosen):
        saved = (await connected.crm.save(save_payload(offer, order=f"acc-{i}"))).result
        loaded = (await connected.crm.load(saved["deliveryId"])).result
        quoted = locked[offer["code"]]
        carrier, service = loaded["tariff"].split(":")
        assert (carrier, service) == (quoted["carrier"], quoted["service"])
        assert loaded["tariffName"] == f"{quoted['carrier_name_ru']}: {quoted['service_name_ru']}"
        assert Decimal(str(saved["cost"])) == Decimal(str(loaded["cost"])) == Decimal(quoted["price"]["total"])

    stranger = {"clientId": "6f1c1c2e-0000-4000-8000-000000000000"}
    calls = [
        connected.api.post(f"{PREFIX}/calculate", data={**stranger, "calculate": "{}"}),
        connected.api.post(f"{PREFIX}/save", data={**stranger, "save": "{}"}),
        connected.api.get(f"{PREFIX}/get", params={**stranger, "deliveryId": saved["deliveryId"]}),
        connected.api.post(
            f"{PREFIX}/delete", data={**stranger, "delete": '{{"deliveryId": "{}"}}'.format(saved["deliveryId"])}
        ),
        connected.api.get(f"{PREFIX}/tariffList", params=stranger),
        connected.api.get(f"{PREFIX}/shipmentPointList", params={**stranger, "city": "Казань"}),
    ]
    for call in calls:
        resp = await call
        body: dict[str, Any] = await resp.json()
        assert resp.status == 403, body
        published.check(body, published.ERROR_RESPONSE)
    assert (await connected.crm.load(saved["deliveryId"])).status == 200  # the stranger's delete did nothing
