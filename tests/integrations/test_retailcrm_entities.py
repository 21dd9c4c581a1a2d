"""The CRM's request types at the border: its units and its PHP-isms become the service's own."""

from __future__ import annotations

from decimal import Decimal

from router.integrations.retailcrm.reading import parse_calculate, parse_save
from tests.integrations.crm_client import address, package


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


def test_both_date_layouts_the_crm_has_used_are_read() -> None:
    assert parse_calculate(calculate(shipmentDate="2026-11-24"), 50).shipment_date.isoformat() == "2026-11-24T00:00:00"  # type: ignore[union-attr]
    assert parse_calculate(calculate(shipmentDate="2026-11-24 15:30:00"), 50).shipment_date.hour == 15  # type: ignore[union-attr]


def test_the_address_is_handed_back_with_the_crms_own_field_names_only() -> None:
    sent = address("Казань", "420000", street="Баумана", metro="Кремлёвская", somethingNew="x", flat=None)
    wire = parse_calculate(calculate(deliveryAddress=sent), 50).delivery_address.wire
    assert wire == {k: v for k, v in sent.items() if k not in ("somethingNew", "flat")}
