"""Callbacks that are wrong, hostile or from strangers: refused in the CRM's shape, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integrations import published
from tests.integrations.conftest import Service, StartCrm
from tests.integrations.crm_client import PREFIX, address, package
from tests.integrations.test_retailcrm_callbacks import MOSCOW_KAZAN_TWO_PACKAGES

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest

POSTS = ("calculate", "save", "delete", "tariffList")
GETS = ("get", "shipmentPointList", "tariffList")


async def refused(resp: Any, status: int) -> str:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    published.check(body, published.ERROR_RESPONSE)
    return str(body["errorMsg"])


@pytest.mark.parametrize("action", POSTS)
async def test_a_post_with_an_unknown_client_id_is_403(service: Service, action: str) -> None:
    form = {"clientId": "6f1c1c2e-0000-4000-8000-000000000000", action: "{}"}
    assert "clientId" in await refused(await service.api.post(f"{PREFIX}/{action}", data=form), 403)


@pytest.mark.parametrize("action", GETS)
async def test_a_get_without_a_client_id_is_403(service: Service, action: str) -> None:
    assert "clientId" in await refused(await service.api.get(f"{PREFIX}/{action}", params={"deliveryId": "d_1"}), 403)


async def test_a_disconnected_account_is_refused_at_once(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    assert (await connected.crm.tariffs()).status == 200
    await connected.book.remove(connected.account.id)
    assert (await connected.crm.tariffs()).status == 403


async def test_bad_json_in_the_action_field_is_400_naming_the_field(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    for action in ("calculate", "save", "delete"):
        answer = await connected.crm.post(action, None, published.SUCCESS_RESPONSE, raw='{"packages": [')
        assert answer.status == 400
        assert answer.error.startswith(f"{action}: is not valid JSON")


async def test_a_missing_action_field_is_400_naming_it(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    resp = await connected.api.post(f"{PREFIX}/calculate", data={"clientId": connected.crm.client_id})
    assert (await refused(resp, 400)).startswith("calculate: is required")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"packages": []}, "calculate.packages"),
        ({"packages": "two"}, "calculate.packages"),
        ({"packages": [package(0, 300, 200, 100)]}, "calculate.packages[0].weight"),
        ({"packages": [{**package(1200, 300, 200, 100), "weight": "heavy"}]}, "calculate.packages[0].weight"),
        ({"packages": [{**package(1200, 300, 200, 100), "weight": True}]}, "calculate.packages[0].weight"),
        ({"packages": [package(1200, 300, 0, 100)]}, "calculate.packages[0].width"),
        ({"packages": [package(2_000_000, 300, 200, 100)]}, "calculate.packages[0].weight"),
        ({"packages": [package(1200, 300, 200, 100)] * 51}, "calculate.packages"),
        ({"declaredValue": -5}, "calculate.declaredValue"),
        # Checked even beside a total that makes the items' amounts unneeded.
        (
            {"packages": [{**package(1200, 300, 200, 100), "items": [{"declaredValue": -5}]}]},
            "calculate.packages[0].items[0].declaredValue",
        ),
        ({"cod": "lots"}, "calculate.cod"),
        ({"currency": "USD"}, "calculate.currency"),
        ({"shipmentDate": "tomorrow"}, "calculate.shipmentDate"),
        ({"deliveryAddress": "Казань"}, "calculate.deliveryAddress"),
        ({"deliveryAddress": {"countryIso": "RU"}}, "calculate.deliveryAddress"),
        ({"deliveryAddress": address("Нигдеград")}, "calculate.deliveryAddress.city"),
        ({"deliveryAddress": {"countryIso": "RU", "index": "12"}}, "calculate.deliveryAddress.index"),
        ({"shipmentAddress": {"city": ["Москва"]}}, "calculate.shipmentAddress.city"),
    ],
)
async def test_a_wrong_calculate_field_is_400_naming_it(
    connect_crm: StartCrm, change: dict[str, Any], field: str
) -> None:
    connected = await connect_crm()
    answer = await connected.crm.calculate({**MOSCOW_KAZAN_TWO_PACKAGES, **change})
    assert answer.status == 400
    assert answer.error.startswith(f"{field}: ")


async def test_a_calculate_without_any_origin_asks_for_one(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    answer = await connected.crm.calculate({**MOSCOW_KAZAN_TWO_PACKAGES, "shipmentAddress": None})
    assert answer.status == 400 and "--origin" in answer.error


async def test_unknown_fields_anywhere_are_tolerated(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    noisy = json.loads(json.dumps(MOSCOW_KAZAN_TWO_PACKAGES))
    noisy["futureField"] = {"x": 1}
    noisy["packages"][0]["futureField"] = [1, 2]
    noisy["packages"][0]["items"][0]["markingCodes"] = ["010460406000590021N4N57RSCBUZTQ"]
    noisy["deliveryAddress"]["metro"] = "Кремлёвская"
    noisy["store"] = {"code": "main", "name": "Склад"}
    answer = await connected.crm.calculate(noisy)
    assert answer.status == 200 and answer.result


async def test_get_needs_a_delivery_id_and_an_unknown_one_is_404(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    assert (await connected.crm.get("get", {}, published.GET_RESPONSE)).error.startswith("deliveryId: is required")
    assert (await connected.crm.load("d_nope")).status == 404


async def test_a_delete_without_a_delivery_id_is_400(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    answer = await connected.crm.post("delete", {}, published.SUCCESS_RESPONSE)
    assert answer.status == 400 and answer.error.startswith("delete.deliveryId")


async def test_a_save_without_a_delivery_object_is_400(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    answer = await connected.crm.save({"order": "1"})
    assert answer.status == 400 and answer.error.startswith("save.delivery: is required")


async def test_a_save_with_a_with_cod_that_is_no_flag_is_400_naming_it(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    answer = await connected.crm.save({"order": "1", "delivery": {"tariff": "magistral:door", "withCod": "maybe"}})
    assert answer.status == 400 and answer.error.startswith("save.delivery.withCod")


async def test_shipment_points_need_a_city_the_service_knows(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    assert (await connected.crm.shipment_points(country="RU")).error.startswith("city: is required")
    assert (await connected.crm.shipment_points(city="Нигдеград")).status == 400


async def test_a_file_upload_in_place_of_a_field_is_400(connect_crm: StartCrm) -> None:
    import aiohttp

    connected = await connect_crm()
    form = aiohttp.FormData()
    form.add_field("clientId", connected.crm.client_id)
    form.add_field("calculate", b"{}", filename="calculate.json", content_type="application/json")
    assert "calculate" in await refused(await connected.api.post(f"{PREFIX}/calculate", data=form), 400)


async def test_a_body_over_the_limit_is_413_in_the_crms_shape(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    form = {"clientId": connected.crm.client_id, "calculate": "x" * 200_000}
    await refused(await connected.api.post(f"{PREFIX}/calculate", data=form), 413)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"clientId=", "multipart/form-data"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ],
)
async def test_an_unreadable_form_is_400(service: Service, body: bytes, content_type: str) -> None:
    resp = await service.api.post(f"{PREFIX}/calculate", data=body, headers={"Content-Type": content_type})
    assert (await refused(resp, 400)).startswith("body: ")


async def test_a_shipment_point_query_too_long_to_be_a_place_is_400_naming_it(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    assert (await connected.crm.shipment_points(city="Казань" * 20)).error.startswith("city: ")
