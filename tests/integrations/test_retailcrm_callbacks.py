"""Every callback through the real app, sent as the CRM sends it, answered in the CRM's types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import jsonschema
import orjson
import pytest

from pickup_points.model import Feature
from router.core.models import Location
from router.core.regions import regions
from router.http import appkeys as keys
from router.http.routes import openapi_document as document
from router.integrations.retailcrm.deliveries import DeliveryBook
from router.store.packing import pack_quote, unpack_owned_quote
from tests.integrations.conftest import Connected, StartCrm
from tests.integrations.crm_client import address, package

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest

MOSCOW_KAZAN_TWO_PACKAGES: dict[str, Any] = {
    "packages": [package(1200, 300, 200, 100), package(800.5, 200, 150, 100)],
    "shipmentAddress": address("Москва", "101000", street="Тверская", building="1"),
    "deliveryAddress": address("Казань", "420000", street="Баумана", building="5"),
    "declaredValue": 3000,
    "cod": 0,
    "currency": "RUB",
    "shipmentDate": "2020-01-01 10:00:00",
}
# The same shipment in the API's units: grams rounded up, millimetres as centimetres.
SAME_SHIPMENT_AS_API: dict[str, Any] = {
    "origin": {"country": "RU", "city": "Москва", "postal_code": "101000", "address": "г. Москва"},
    "destination": {"country": "RU", "city": "Казань", "postal_code": "420000", "address": "г. Казань"},
    "parcels": [
        {"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10},
        {"weight_g": 801, "length_cm": 20, "width_cm": 15, "height_cm": 10},
    ],
    "declared_value": "3000",
}


def deliveries(connected: Connected) -> DeliveryBook:
    app = connected.api.server.app
    return DeliveryBook(app[keys.RETAILCRM_ACCOUNTS].db, app[keys.STORE])


def offers_by_code(quote: dict[str, Any]) -> dict[str, Decimal]:
    return {o["id"]: Decimal(o["price"]["total"]) for o in quote["offers"]}


def collecting_per_item() -> list[dict[str, Any]]:
    """The two packages of MOSCOW_KAZAN_TWO_PACKAGES, each item collecting its declared value."""
    packages = [package(1200, 300, 200, 100), package(800.5, 200, 150, 100)]
    for p in packages:
        p["items"][0]["cod"] = p["items"][0]["declaredValue"]
    return packages


async def calculated(connect_crm: StartCrm, payload: dict[str, Any] = MOSCOW_KAZAN_TWO_PACKAGES, **account: Any):  # type: ignore[no-untyped-def]
    connected = await connect_crm(**account)
    return connected, (await connected.crm.calculate(payload)).result


# The acceptance points themselves are in test_retailcrm_acceptance.py.


async def test_every_calculated_offer_is_locked_under_a_quote_kept_for_the_account(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    (quote_id,) = {r["extraData"]["quoteId"] for r in results}
    locked = await connected.quote(quote_id)
    assert {r["code"]: Decimal(str(r["cost"])) for r in results}.items() <= offers_by_code(locked).items()


async def test_pickup_offers_carry_their_own_carriers_points_near_the_buyer(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    pickups = [r for r in results if r["type"] == "selfDelivery"]
    assert len(pickups) >= 2
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    for offer in pickups:
        carrier = offer["code"].split(":")[0]
        assert offer["pickuppointList"], offer["code"]
        for point in offer["pickuppointList"]:
            assert directory.get(point["code"]).carrier == carrier
            assert point["cost"] == offer["cost"]
            assert (
                abs(point["coordinates"]["latitude"] - 55.79) < 0.5
                and abs(point["coordinates"]["longitude"] - 49.12) < 0.5
            )
    assert all("pickuppointList" not in r for r in results if r["type"] == "courier")


async def test_a_cash_on_delivery_order_is_offered_only_points_that_take_cash(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm, {**MOSCOW_KAZAN_TWO_PACKAGES, "cod": 3000})
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    points = [p for r in results for p in r.get("pickuppointList", [])]
    assert points
    assert all(Feature.COD in directory.get(p["code"]).features for p in points)


async def test_cash_collected_per_item_counts_as_cash_on_delivery_when_the_order_sends_no_total(
    connect_crm: StartCrm,
) -> None:
    collecting = collecting_per_item()
    without_total = {k: v for k, v in MOSCOW_KAZAN_TWO_PACKAGES.items() if k != "cod"}
    connected, results = await calculated(connect_crm, {**without_total, "packages": collecting})
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    points = [p for r in results for p in r.get("pickuppointList", [])]
    assert points and all(Feature.COD in directory.get(p["code"]).features for p in points)
    _, prepaid = await calculated(connect_crm, without_total)
    assert any(
        Feature.COD not in directory.get(p["code"]).features for r in prepaid for p in r.get("pickuppointList", [])
    )


async def test_calculate_offers_only_the_accounts_carriers(connect_crm: StartCrm) -> None:
    _, results = await calculated(connect_crm, carriers={"magistral"})
    assert results and {r["code"].split(":")[0] for r in results} == {"magistral"}


async def test_packages_without_sizes_are_quoted_at_the_accounts_parcel_size(connect_crm: StartCrm) -> None:
    sizeless = {**MOSCOW_KAZAN_TWO_PACKAGES, "packages": [{"weight": 1200, "items": []}, {"weight": 800.5}]}
    connected, results = await calculated(connect_crm, sizeless, parcel_cm=(30.0, 20.0, 10.0))
    api_quote = await (
        await connected.api.post(
            "/v1/quotes",
            json={
                **SAME_SHIPMENT_AS_API,
                "parcels": [
                    {"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10},
                    {"weight_g": 801, "length_cm": 30, "width_cm": 20, "height_cm": 10},
                ],
            },
        )
    ).json()
    api_costs = offers_by_code(api_quote)
    assert all(Decimal(str(r["cost"])) == api_costs[r["code"]] for r in results)


async def test_an_order_without_a_shipment_address_leaves_from_the_accounts_origin(connect_crm: StartCrm) -> None:
    # PHP sends an empty object as [].
    without = {**MOSCOW_KAZAN_TWO_PACKAGES, "shipmentAddress": []}
    _, from_origin = await calculated(connect_crm, without, origin="Москва")
    assert from_origin


async def test_a_future_shipment_date_is_when_the_carriers_take_the_parcels(connect_crm: StartCrm) -> None:
    ships_on = date.today() + timedelta(days=20)
    connected, results = await calculated(
        connect_crm, {**MOSCOW_KAZAN_TWO_PACKAGES, "shipmentDate": f"{ships_on:%Y-%m-%d} 10:00:00"}
    )
    quote = await connected.quote(results[0]["extraData"]["quoteId"])
    assert all(date.fromisoformat(o["eta"]["ship_date"]) >= ships_on for o in quote["offers"])


def pick(results: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(r for r in results if r["type"] == kind)


def save_payload(offer: dict[str, Any], order: str = "1001", **delivery: Any) -> dict[str, Any]:
    """A RequestSave as the CRM sends it once the manager picked `offer` (and, for pickup, its first point)."""
    deliver_to = address("Казань", "420000")
    if offer.get("pickuppointList"):
        deliver_to["terminal"] = offer["pickuppointList"][0]["code"]
    return {
        "deliveryId": None,
        "order": order,
        "orderNumber": f"{order}A",
        "site": "shop",
        "siteName": "Shop",
        "legalEntity": "ООО Магазин",
        "customer": {"id": 5, "firstName": "Анна", "lastName": "Петрова", "phones": [{"number": "+79990000000"}]},
        "manager": {"id": 1, "firstName": "Олег", "phone": "+7 495 123-45-67"},
        "packages": MOSCOW_KAZAN_TWO_PACKAGES["packages"],
        "delivery": {
            "shipmentAddress": address("Москва", "101000"),
            "deliveryAddress": deliver_to,
            "withCod": False,
            "cod": 0,
            "cost": offer["cost"],
            "vatRate": "none",
            "tariff": offer["code"],
            "payerType": "receiver",
            "shipmentDate": "2026-11-24",
            "extraData": dict(offer["extraData"]),
            **delivery,
        },
        "currency": "RUB",
    }


async def test_get_returns_what_save_recorded_with_the_addresses_payer_and_pickup_point(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    for kind in ("selfDelivery", "courier"):
        offer = pick(results, kind)
        saved = (await connected.crm.save(save_payload(offer, order=kind))).result
        assert saved["cost"] == offer["cost"] and saved["status"] == "booked" and saved["trackNumber"]
        loaded = (await connected.crm.load(saved["deliveryId"])).result
        assert (loaded["tariff"], loaded["cost"]) == (offer["code"], offer["cost"])
        assert loaded["tariffName"] == offer["name"]
        assert loaded["extraData"]["quoteId"] == offer["extraData"]["quoteId"]
        assert loaded["deliveryAddress"]["city"] == "Казань" and loaded["payerType"] == "receiver"
    pickup = pick(results, "selfDelivery")
    loaded_pickup = (
        await connected.crm.load((await connected.crm.save(save_payload(pickup, "p2"))).result["deliveryId"])
    ).result
    assert loaded_pickup["extraData"]["pickupPoint"] == pickup["pickuppointList"][0]["code"]


async def test_a_saved_delivery_keeps_the_quoted_price_after_the_quote_expires(
    connect_crm: StartCrm, later: Callable[[timedelta], None]
) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "courier")
    saved = (await connected.crm.save(save_payload(offer))).result
    later(timedelta(days=2))
    assert (await connected.crm.load(saved["deliveryId"])).result["cost"] == offer["cost"]


async def test_save_of_an_expired_quote_is_refused_and_says_to_recalculate(
    connect_crm: StartCrm, later: Callable[[timedelta], None]
) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "courier")
    later(timedelta(hours=1))
    refused = await connected.crm.save(save_payload(offer))
    assert refused.status == 400
    assert "expired" in refused.error and offer["extraData"]["quoteId"] in refused.error
    assert "calculate the delivery again" in refused.error


async def as_estimates(connected: Connected, quote_id: str, offer_ids: set[str]) -> None:
    """Mark offers of a kept quote as a down carrier's last good answer, as the engine writes them."""
    store = connected.api.server.app[keys.STORE]
    owner, body = unpack_owned_quote(await store.get("quote:" + quote_id) or b"")
    quote = orjson.loads(body)
    for offer in quote["offers"]:
        if offer["id"] in offer_ids:
            offer.update(estimate=True, stale=True, as_of="2026-11-23T09:30:00Z")
    await store.set("quote:" + quote_id, pack_quote(orjson.dumps(quote), owner), 3600)


async def test_save_of_an_estimate_is_refused_and_says_to_recalculate(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    courier, pickup = pick(results, "courier"), pick(results, "selfDelivery")
    quote_id = courier["extraData"]["quoteId"]
    await as_estimates(connected, quote_id, {courier["code"]})
    refused = await connected.crm.save(save_payload(courier))
    assert refused.status == 400
    assert "estimate" in refused.error and quote_id in refused.error and "calculate the delivery again" in refused.error
    assert (await connected.crm.save(save_payload(pickup))).status == 200  # a firm offer of the same quote

    await as_estimates(connected, quote_id, {r["code"] for r in results})
    refused = await connected.crm.save(save_payload(pickup, order="1002"))
    assert refused.status == 400 and "estimate" in refused.error and quote_id in refused.error


async def test_save_of_an_unknown_quote_is_refused(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    refused = await connected.crm.save(save_payload(pick(results, "courier"), extraData={"quoteId": "q_never"}))
    assert refused.status == 400 and "q_never" in refused.error and "unknown" in refused.error


async def test_save_without_a_quote_id_is_refused(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    refused = await connected.crm.save(save_payload(pick(results, "courier"), extraData=[]))
    assert refused.status == 400 and "quoteId" in refused.error


async def test_save_of_a_tariff_the_quote_did_not_offer_is_refused(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    refused = await connected.crm.save(save_payload(pick(results, "courier"), tariff="kpoyas:teleport"))
    assert refused.status == 400 and "kpoyas:teleport" in refused.error


async def test_save_of_a_pickup_offer_needs_one_of_its_carriers_points(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "selfDelivery")
    carrier = offer["code"].split(":")[0]
    no_point = save_payload(offer)
    del no_point["delivery"]["deliveryAddress"]["terminal"]
    assert "pickup point" in (await connected.crm.save(no_point)).error
    other = next(r for r in results if r["type"] == "selfDelivery" and not r["code"].startswith(carrier + ":"))
    foreign = save_payload(offer)
    foreign["delivery"]["deliveryAddress"]["terminal"] = other["pickuppointList"][0]["code"]
    assert "is not one of" in (await connected.crm.save(foreign)).error


async def test_save_paid_on_delivery_at_a_point_that_takes_no_cash_is_refused(connect_crm: StartCrm) -> None:
    # Calculated with cod, the offers carry only points that take cash: the manager typed another.
    connected, results = await calculated(connect_crm, {**MOSCOW_KAZAN_TWO_PACKAGES, "cod": 3000})
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    kazan = connected.api.server.app[keys.PLACES].resolve(Location(country="RU", city="Казань"), "")
    nearby = [n.point for n in directory.nearest(kazan.lat, kazan.lon, 1000, 30.0).results]
    offer, point = next(
        (r, p.id)
        for r in results
        if r["type"] == "selfDelivery"
        for p in nearby
        if p.carrier == r["code"].split(":")[0] and Feature.COD not in p.features
    )
    payload = save_payload(offer, withCod=True, cod=3000)
    payload["delivery"]["deliveryAddress"]["terminal"] = point
    refused = await connected.crm.save(payload)
    assert refused.status == 400 and point in refused.error and "cash" in refused.error
    payload["delivery"]["deliveryAddress"]["terminal"] = offer["pickuppointList"][0]["code"]
    assert (await connected.crm.save(payload)).status == 200


COLLECTING_3000: dict[str, Any] = {**MOSCOW_KAZAN_TWO_PACKAGES, "cod": 3000}


async def test_save_collecting_cash_on_a_prepaid_calculation_is_refused_naming_cod(connect_crm: StartCrm) -> None:
    connected, prepaid = await calculated(connect_crm)
    offer = pick(prepaid, "courier")
    refused = await connected.crm.save(save_payload(offer, withCod=True, cod=3000))
    assert refused.status == 400 and refused.error.startswith("save.delivery.cod: ")
    assert "3000.00 RUB" in refused.error and "priced prepaid" in refused.error
    assert "calculate the delivery again with the order's cod" in refused.error
    assert (await connected.crm.save(save_payload(offer, withCod=False))).result["cost"] == offer["cost"]


async def test_a_delivery_calculated_with_cash_on_delivery_saves_at_the_price_with_the_cod_fee(
    connect_crm: StartCrm,
) -> None:
    connected, prepaid = await calculated(connect_crm)
    collecting = (await connected.crm.calculate(COLLECTING_3000)).result
    offer = pick(collecting, "courier")
    quote = await connected.quote(offer["extraData"]["quoteId"])
    lines = next(o for o in quote["offers"] if o["id"] == offer["code"])["price"]["breakdown"]
    assert "cod" in {line["kind"] for line in lines}
    without_fee = next(r for r in prepaid if r["code"] == offer["code"])
    assert Decimal(str(offer["cost"])) > Decimal(str(without_fee["cost"]))
    saved = (await connected.crm.save(save_payload(offer, withCod=True, cod=3000))).result
    assert saved["cost"] == offer["cost"]
    record = await deliveries(connected).get(connected.account.id, saved["deliveryId"])
    assert record is not None and record.cod == Decimal("3000.00")


async def test_a_prepaid_save_of_a_cash_on_delivery_calculation_is_refused_naming_with_cod(
    connect_crm: StartCrm,
) -> None:
    connected, collecting = await calculated(connect_crm, COLLECTING_3000)
    refused = await connected.crm.save(save_payload(pick(collecting, "courier"), withCod=False))
    assert refused.status == 400 and refused.error.startswith("save.delivery.withCod: ")
    assert "prepaid" in refused.error and "3000.00 RUB" in refused.error


async def test_save_collecting_another_amount_than_calculated_keeps_the_price(connect_crm: StartCrm) -> None:
    # The order total with delivery, say: the fee depends on the declared value, not on this sum.
    connected, collecting = await calculated(connect_crm, COLLECTING_3000)
    offer = pick(collecting, "courier")
    saved = await connected.crm.save(save_payload(offer, withCod=True, cod=3450.5))
    assert saved.status == 200 and saved.result["cost"] == offer["cost"]
    record = await deliveries(connected).get(connected.account.id, saved.result["deliveryId"])
    assert record is not None and record.cod == Decimal("3450.50")


async def test_one_quote_calculated_for_two_amounts_saves_with_either(connect_crm: StartCrm) -> None:
    # The quote cache shares one quote between calculations that differ only in the amount.
    connected, first = await calculated(connect_crm, COLLECTING_3000)
    second = (await connected.crm.calculate({**MOSCOW_KAZAN_TWO_PACKAGES, "cod": 1000})).result
    offer = pick(second, "courier")
    assert offer["extraData"] == pick(first, "courier")["extraData"]
    for order, amount in (("a", 3000), ("b", 1000)):
        assert (await connected.crm.save(save_payload(offer, order=order, withCod=True, cod=amount))).status == 200
    assert (await connected.crm.save(save_payload(offer, order="c", withCod=False))).status == 400


async def test_the_items_amounts_stand_in_when_save_sends_no_cod_total(connect_crm: StartCrm) -> None:
    collecting = collecting_per_item()
    payload = {k: v for k, v in MOSCOW_KAZAN_TWO_PACKAGES.items() if k != "cod"}
    connected, results = await calculated(connect_crm, {**payload, "packages": collecting})
    save = save_payload(pick(results, "courier"), withCod=True)
    del save["delivery"]["cod"]
    save["packages"] = collecting
    assert (await connected.crm.save(save)).status == 200
    save["packages"] = MOSCOW_KAZAN_TWO_PACKAGES["packages"]  # collecting nothing
    assert (await connected.crm.save(save)).error.startswith("save.delivery.cod: is required with withCod")


async def test_save_of_a_quote_this_account_never_calculated_is_refused(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    api_quote = await (
        await connected.api.post("/v1/quotes", json={**SAME_SHIPMENT_AS_API, "declared_value": "3001"})
    ).json()
    courier = next(o for o in api_quote["offers"] if o["delivery_type"] == "courier")
    offer = {
        "code": courier["id"],
        "cost": float(courier["price"]["total"]),
        "extraData": {"quoteId": api_quote["quote_id"]},
    }
    refused = await connected.crm.save(save_payload(offer))
    assert refused.status == 400 and refused.error.startswith("save.delivery.extraData.quoteId: ")
    assert api_quote["quote_id"] in refused.error and "calculate the delivery again" in refused.error


async def test_one_accounts_quote_is_as_unknown_to_another_account_and_to_the_api_as_a_made_up_id(
    connect_crm: StartCrm,
) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "courier")
    theirs = offer["extraData"]["quoteId"]
    other = await connect_crm(crm_url="https://other.retailcrm.ru")
    refused = await other.crm.save(save_payload(offer))
    made_up = await other.crm.save(save_payload({**offer, "extraData": {"quoteId": "q_never_made"}}))
    assert refused.status == made_up.status == 400
    assert refused.error == made_up.error.replace("q_never_made", theirs)
    assert refused.error.startswith("save.delivery.extraData.quoteId: ")
    assert (await connected.api.get(f"/v1/quotes/{theirs}")).status == 404
    assert (await connected.crm.save(save_payload(offer))).status == 200  # its own account saves it


async def test_two_accounts_calculating_the_same_delivery_each_get_a_quote_of_their_own(
    connect_crm: StartCrm,
) -> None:
    first, results = await calculated(connect_crm)
    second, again = await calculated(connect_crm, crm_url="https://other.retailcrm.ru")
    ours, theirs = ({r["extraData"]["quoteId"] for r in answer} for answer in (results, again))
    assert ours.isdisjoint(theirs)
    assert (await first.crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result == results  # each its own, from the cache


async def test_a_second_save_of_the_same_order_answers_its_delivery(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    first = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    again = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    assert again == first
    assert (await connected.crm.load(first["deliveryId"])).result["tariff"] == pick(results, "courier")["code"]


async def test_a_booked_delivery_saved_with_another_choice_is_refused_until_deleted(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    first = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    refused = await connected.crm.save(save_payload(pick(results, "selfDelivery")))
    assert "already booked" in refused.error and first["trackNumber"] in refused.error
    assert "delete it" in refused.error
    assert (await connected.crm.load(first["deliveryId"])).result["tariff"] == pick(results, "courier")["code"]
    assert (await connected.crm.delete(first["deliveryId"])).status == 200
    again = (await connected.crm.save(save_payload(pick(results, "selfDelivery")))).result
    assert again["trackNumber"] != first["trackNumber"]
    assert (await connected.crm.load(again["deliveryId"])).result["tariff"] == pick(results, "selfDelivery")["code"]


async def test_delete_cancels_the_delivery(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    assert (await connected.crm.delete(saved["deliveryId"])).status == 200
    assert (await connected.crm.load(saved["deliveryId"])).status == 404
    assert (await connected.crm.delete(saved["deliveryId"])).status == 404


async def test_one_accounts_deliveries_are_invisible_to_another(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    _, other_id = await connected.book.create("https://other.retailcrm.ru", "carrier-router")
    connected.crm.client_id = other_id
    assert (await connected.crm.load(saved["deliveryId"])).status == 404


async def test_tariff_list_names_every_service_of_the_accounts_carriers(connect_crm: StartCrm) -> None:
    connected = await connect_crm(carriers={"magistral", "vestnik"})
    tariffs = (await connected.crm.tariffs()).result
    assert {t["code"] for t in tariffs} == {"magistral:pickup", "magistral:door", "vestnik:parcel", "vestnik:courier"}
    assert {t["code"]: t["type"] for t in tariffs}["vestnik:parcel"] == "selfDelivery"
    by_post = await connected.api.post("/integrations/retailcrm/tariffList", data={"clientId": connected.crm.client_id})
    assert (await by_post.json())["result"] == tariffs


async def test_shipment_point_list_gives_the_accounts_carriers_points_in_the_city(connect_crm: StartCrm) -> None:
    connected = await connect_crm(carriers={"vestnik"})
    points = (await connected.crm.shipment_points(country="RU", region="Республика Татарстан", city="Казань")).result
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    assert points
    assert all(directory.get(p["code"]).carrier == "vestnik" for p in points)
    assert all(directory.get(p["code"]).city == "Казань" for p in points)


async def test_shipment_point_list_keeps_to_the_citys_region(connect_crm: StartCrm) -> None:
    # Volzhsk (Mari El) is across the Volga from Zelenodolsk (Tatarstan), well within reach.
    connected = await connect_crm()
    directory = connected.api.server.app[keys.PICKUP_POINTS].directory
    places = connected.api.server.app[keys.PLACES]
    zelenodolsk = places.resolve(Location(country="RU", city="Зеленодольск"), "")
    nearby = directory.nearest(zelenodolsk.lat, zelenodolsk.lon, 1000, 30.0).results
    # The demo networks write a region as its GeoNames admin1 code; places carry ISO 3166-2.
    region_of = regions().of_written
    assert any(region_of(n.point.country, n.point.region) != zelenodolsk.region for n in nearby)
    points = (
        await connected.crm.shipment_points(country="RU", region="Республика Татарстан", city="Зеленодольск")
    ).result
    assert points
    assert {region_of("RU", directory.get(p["code"]).region) for p in points} == {zelenodolsk.region} == {"RU-TA"}


def documented(path: str, method: str, status: str) -> dict[str, Any]:
    doc = document()
    schema = doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


async def test_answers_match_the_services_openapi_document(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    saved = await connected.crm.save(save_payload(pick(results, "selfDelivery")))
    loaded = await connected.crm.load(saved.result["deliveryId"])
    answers = [
        ("/integrations/retailcrm/calculate", "post", {"success": True, "result": results}),
        ("/integrations/retailcrm/save", "post", saved.body),
        ("/integrations/retailcrm/get", "get", loaded.body),
        ("/integrations/retailcrm/tariffList", "get", (await connected.crm.tariffs()).body),
        ("/integrations/retailcrm/shipmentPointList", "get", (await connected.crm.shipment_points(city="Казань")).body),
        ("/integrations/retailcrm/delete", "post", (await connected.crm.delete(saved.result["deliveryId"])).body),
    ]
    for path, method, body in answers:
        jsonschema.Draft202012Validator(documented(path, method, "200")).validate(body)
    refusal = (await connected.crm.load(saved.result["deliveryId"])).body
    jsonschema.Draft202012Validator(documented("/integrations/retailcrm/get", "get", "404")).validate(refusal)
