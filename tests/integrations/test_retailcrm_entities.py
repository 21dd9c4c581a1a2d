"""The CRM's request types at the border: its units and its PHP-isms become the service's own."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import jsonschema
import msgspec
import pytest

from router.core.models import DeliveryType
from router.http.routes import openapi_document as document
from router.integrations.retailcrm import answers, registration
from router.integrations.retailcrm.deliveries import SavedDelivery
from router.integrations.retailcrm.entities import DeliveryAddress
from router.integrations.retailcrm.errors import Malformed
from router.integrations.retailcrm.openapi import FORM
from router.integrations.retailcrm.reading import parse_calculate, parse_save, read_calculate
from tests.integrations import published
from tests.integrations.crm_client import address, package
from tests.integrations.test_retailcrm_callbacks import MOSCOW_KAZAN_TWO_PACKAGES


def calculate(**fields: object) -> dict[str, object]:
    return {"packages": [package(1200, 300, 200, 100)], "deliveryAddress": address("Казань"), **fields}


def test_grams_are_rounded_up_and_millimetres_become_centimetres() -> None:
    (parcel,) = parse_calculate(calculate(packages=[package(800.01, 305, 200, 95)]), 50).packages
    assert parcel.weight_g == 801
    assert parcel.sides_cm == (30.5, 20.0, 9.5)


def test_money_keeps_the_decimal_the_crm_meant() -> None:
    parsed = parse_calculate(calculate(declaredValue=1500.1, cod=0.3), 50)
    assert (parsed.declared_value, parsed.cod) == (Decimal("1500.1"), Decimal("0.3"))


def test_without_a_total_the_declared_value_is_the_items_per_unit_value_times_quantity() -> None:
    two = package(1200, 300, 200, 100, declared=250.5)
    two["items"][0]["quantity"] = 2
    parsed = parse_calculate(calculate(packages=[two, package(500, 100, 100, 100, declared=100)]), 50)
    assert parsed.declared_value == Decimal("601.0")


def test_php_empty_arrays_stand_for_empty_objects() -> None:
    parsed = parse_calculate(calculate(shipmentAddress=[], extraData=[]), 50)
    assert not parsed.shipment_address.given
    save = parse_save({"delivery": {"tariff": "a:b", "extraData": [], "deliveryAddress": []}})
    assert save.delivery.extra_data == {} and save.delivery.delivery_address.terminal is None
    empty_terminal = parse_save({"delivery": {"deliveryAddress": {"city": "Казань", "terminalData": []}}})
    assert empty_terminal.delivery.delivery_address.wire == {"city": "Казань", "terminalData": []}


def test_both_date_layouts_the_crm_has_used_are_read() -> None:
    assert parse_calculate(calculate(shipmentDate="2026-11-24"), 50).shipment_date.isoformat() == "2026-11-24T00:00:00"  # type: ignore[union-attr]
    assert parse_calculate(calculate(shipmentDate="2026-11-24 15:30:00"), 50).shipment_date.hour == 15  # type: ignore[union-attr]


def test_the_address_is_handed_back_with_the_crms_own_field_names_only() -> None:
    sent = address("Казань", "420000", street="Баумана", metro="Кремлёвская", somethingNew="x", flat=None)
    wire = parse_calculate(calculate(deliveryAddress=sent), 50).delivery_address.wire
    assert wire == {k: v for k, v in sent.items() if k not in ("somethingNew", "flat")}


def test_every_bad_field_is_named_in_one_refusal() -> None:
    bad = calculate(packages=[{**package(1200, 300, 200, 100), "weight": "heavy"}], cod="lots")
    with pytest.raises(Malformed) as refused:
        parse_calculate(bad, 50)
    assert refused.value.field == "calculate.packages[0].weight"
    assert "; calculate.cod: " in refused.value.message


def test_checks_across_fields_are_named_together_too() -> None:
    bad = calculate(packages=[package(0, 300, 0, 100)], currency="USD")
    with pytest.raises(Malformed) as refused:
        parse_calculate(bad, 50)
    named = [part.split(": ")[0] for part in refused.value.message.split("; ")]
    assert named == ["calculate.currency", "calculate.packages[0].weight", "calculate.packages[0].width"]


def test_the_form_fields_json_text_reads_as_the_parsed_value_does() -> None:
    text = json.dumps(calculate(declaredValue=1500.1, shipmentDate="2026-11-24"), ensure_ascii=False)
    assert read_calculate(text, 50) == parse_calculate(json.loads(text), 50)
    assert read_calculate('{"packages": [{"weight": "800.5"}], "cod": "12.30"}', 50).cod == Decimal("12.30")


def test_the_address_type_declares_exactly_the_crms_delivery_address_fields() -> None:
    declared = {f.encode_name for f in msgspec.structs.fields(DeliveryAddress)}
    assert declared == set(published.DELIVERY_ADDRESS["properties"])


@pytest.mark.parametrize(
    ("kind", "published_type"),
    [
        (answers.Terminal, published.TERMINAL),
        (answers.ResponseCalculate, published.RESPONSE_CALCULATE),
        (answers.Tariff, published.TARIFF),
        (answers.ResponseSave, published.RESPONSE_SAVE),
        (answers.ResponseLoadDeliveryData, published.RESPONSE_LOAD_DELIVERY_DATA),
        (answers.StatusInfo, published.STATUS_INFO),
        (registration.IntegrationModule, published.INTEGRATION_MODULE),
        (registration.DeliveryConfiguration, published.DELIVERY_CONFIGURATION),
        (registration.Status, published.STATUS),
        (registration.DeliveryDataField, published.DELIVERY_DATA_FIELD),
    ],
)
def test_each_type_the_module_sends_uses_only_the_crms_published_field_names(
    kind: type[msgspec.Struct], published_type: dict[str, object]
) -> None:
    assert {f.encode_name for f in msgspec.structs.fields(kind)} <= set(published_type["properties"])  # type: ignore[call-overload]


def test_costs_are_json_numbers_with_the_decimals_own_digits() -> None:
    saved = SavedDelivery(
        id="d_1", account_id="a", quote_id="q_1", tariff="magistral:door", tariff_name="Магистраль: Курьер",
        carrier="magistral", delivery_type=DeliveryType.COURIER, cost=Decimal("1234.50"),
        ship_date=date(2026, 11, 24), delivery_date=date(2026, 11, 27),
        saved_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC), delivery_address={"city": "Казань"},
    )  # fmt: skip
    body = answers.ENCODER.encode(answers.success(answers.load_result(saved)))
    assert b'"cost":1234.50' in body
    published.check(json.loads(body), published.GET_RESPONSE)
    failure = json.loads(answers.ENCODER.encode(answers.failure("no")))
    published.check(failure, published.ERROR_RESPONSE)


def _request_schema(action: str) -> dict[str, object]:
    doc = document()
    form = doc["paths"][f"/integrations/retailcrm/{action}"]["post"]["requestBody"]["content"][FORM]["schema"]
    return {**form["properties"][action]["contentSchema"], "components": doc["components"]}


def test_the_documents_request_types_take_what_the_crm_sends_and_refuse_what_the_reader_refuses() -> None:
    validator = jsonschema.Draft202012Validator(_request_schema("calculate"))
    validator.validate(json.loads(json.dumps(MOSCOW_KAZAN_TWO_PACKAGES)))
    validator.validate(calculate(shipmentAddress=[], cod="3000.50"))
    for wrong in (calculate(packages=[]), calculate(cod=True), calculate(shipmentAddress="Москва")):
        assert not validator.is_valid(wrong)
        with pytest.raises(Malformed):
            parse_calculate(wrong, 50)
    jsonschema.Draft202012Validator(_request_schema("delete")).validate({"deliveryId": "d_1"})


def test_a_date_in_another_layout_is_refused_in_words_the_manager_can_act_on() -> None:
    with pytest.raises(Malformed) as refused:
        parse_calculate(calculate(shipmentDate="24.11.2026"), 50)
    assert refused.value.message == "calculate.shipmentDate: must be a date such as 2026-11-24 or 2026-11-24 10:00:00"
