from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from carriers.base import Carrier
from carriers.ratecard import (
    RateCardCarrier,
    load_ratecards,
    parse_ratecard,
    validate_directory,
)
from router.core.calendar import make_eta
from router.core.errors import ConfigError
from router.core.models import CarrierQuote, DeliveryType, Offer, Parcel, PriceLineKind
from tests.carriers.conftest import (
    DEMO_DIR,
    IN_A,
    IN_B,
    OUTSIDE,
    SHIP_AT,
    place,
    request_for,
    square,
)

# 30×20×10 cm at 5000 cm³/kg is 1.2 kg volumetric; 1.2 kg actual: chargeable 1200 g.
BOX = Parcel(1200, 30, 20, 10)


def carrier_from(card: dict[str, Any]) -> RateCardCarrier:
    return parse_ratecard(card, "test.json")


def offer(quote: CarrierQuote, service: str) -> Offer:
    found = [o for o in quote.offers if o.service == service]
    assert found, f"no {service} offer; rejections: {quote.rejections}"
    return found[0]


def amounts(o: Offer) -> dict[PriceLineKind, Decimal]:
    return {line.kind: line.amount for line in o.price.lines}


# --- the carrier seam


def test_rate_card_carrier_satisfies_the_carrier_protocol_and_describes_its_services(
    card: dict[str, Any],
) -> None:
    carrier = carrier_from(card)
    assert isinstance(carrier, Carrier)
    info = carrier.info()
    assert (info.code, info.kind, info.demo) == ("testpost", "ratecard", False)
    assert [(s.code, s.delivery_type) for s in info.services] == [
        ("courier", DeliveryType.COURIER),
        ("pickup", DeliveryType.PICKUP),
    ]


async def test_offers_carry_the_ids_the_quote_would_assign(card: dict[str, Any]) -> None:
    quote = await carrier_from(card).quote(request_for(BOX))
    assert quote.offers and all(o == o.with_id() for o in quote.offers)


async def test_a_lane_quoted_before_prices_new_parcels_as_a_fresh_carrier_does(card: dict[str, Any]) -> None:
    # Zones, fixed lines and transit days are kept per lane; nothing of one shipment may leak
    # into the next on the same lane.
    card["zones"]["origin"] = square(30, 50, 40, 60)
    card["zones"]["inbound"] = {"fee": "120.00", "extra_days": 2}
    kept = carrier_from(card)
    shipments = [
        dict(parcels=(BOX,)),
        dict(parcels=(Parcel(4500, 40, 30, 20), BOX), declared_value="1234.56", cod=True),
        dict(parcels=(Parcel(10001, 20, 20, 20),), declared_value="99.99"),
        dict(parcels=(Parcel(300, 10, 10, 10),), cod=True),
    ]
    for origin in (IN_A, IN_B):
        for destination in (IN_A, IN_B, OUTSIDE):
            for shipment in shipments:
                request = request_for(*shipment.pop("parcels"), origin=origin, destination=destination, **shipment)
                assert await kept.quote(request) == await carrier_from(card).quote(request)
                shipment["parcels"] = request.shipment.parcels


# --- prices worked out by hand from the test tariff


async def test_courier_price_is_base_plus_weight_break_plus_fuel(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(BOX)), "courier")
    # zone A: base 200, 1200 g falls in the ≤3000 g break (50), fuel 10 % of 250.
    assert amounts(o) == {
        PriceLineKind.BASE: Decimal("200.00"),
        PriceLineKind.WEIGHT: Decimal("50.00"),
        PriceLineKind.FUEL: Decimal("25.00"),
    }
    assert o.price.total == Decimal("275.00")
    assert o.price.currency == "RUB"
    assert o.chargeable_weight_g == 1200


async def test_weight_in_the_first_free_break_adds_no_weight_line(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(Parcel(800, 10, 10, 10))), "courier")
    assert PriceLineKind.WEIGHT not in amounts(o)
    assert o.price.total == Decimal("220.00")  # 200 + 10 % fuel


async def test_volumetric_weight_is_charged_when_it_exceeds_the_actual_weight(card: dict[str, Any]) -> None:
    light_and_bulky = Parcel(500, 40, 30, 20)  # 24000 cm³ / 5000 = 4.8 kg
    o = offer(await carrier_from(card).quote(request_for(light_and_bulky)), "courier")
    assert o.chargeable_weight_g == 4800
    # past the last break (3000 g, 50): 1800 g more is two started kilograms at 25.
    assert amounts(o)[PriceLineKind.WEIGHT] == Decimal("50.00") + 2 * Decimal("25.00")


async def test_actual_weight_is_charged_when_it_exceeds_the_volumetric_weight(card: dict[str, Any]) -> None:
    small_and_heavy = Parcel(4100, 10, 10, 10)  # 0.2 kg volumetric
    o = offer(await carrier_from(card).quote(request_for(small_and_heavy)), "courier")
    assert o.chargeable_weight_g == 4100
    assert amounts(o)[PriceLineKind.WEIGHT] == Decimal("50.00") + 2 * Decimal("25.00")


async def test_carrier_divisor_changes_the_volumetric_weight(card: dict[str, Any]) -> None:
    card["volumetric_divisor"] = 6000
    light_and_bulky = Parcel(500, 40, 30, 20)  # 24000 cm³ / 6000 = 4.0 kg
    o = offer(await carrier_from(card).quote(request_for(light_and_bulky)), "courier")
    assert o.chargeable_weight_g == 4000
    assert amounts(o)[PriceLineKind.WEIGHT] == Decimal("50.00") + 1 * Decimal("25.00")


async def test_each_parcel_pays_base_and_its_own_weight(card: dict[str, Any]) -> None:
    bulky = Parcel(500, 40, 30, 20)  # 4800 g chargeable
    o = offer(await carrier_from(card).quote(request_for(BOX, bulky)), "courier")
    base = 2 * Decimal("200.00")
    # priced parcel by parcel (50 + 100), not on the 6000 g sum (which would be 50 + 3 × 25)
    weight = Decimal("50.00") + (Decimal("50.00") + 2 * Decimal("25.00"))
    assert amounts(o)[PriceLineKind.BASE] == base
    assert amounts(o)[PriceLineKind.WEIGHT] == weight
    assert amounts(o)[PriceLineKind.FUEL] == (base + weight) / 10
    assert o.chargeable_weight_g == 1200 + 4800


async def test_zone_decides_the_tariff_and_a_remote_zone_adds_its_fee(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(BOX, destination=IN_B)), "courier")
    # zone B: base 300, ≤3000 g break 80, fuel 10 % of 380, remote-area fee 100.
    assert amounts(o) == {
        PriceLineKind.BASE: Decimal("300.00"),
        PriceLineKind.WEIGHT: Decimal("80.00"),
        PriceLineKind.FUEL: Decimal("38.00"),
        PriceLineKind.REMOTE_AREA: Decimal("100.00"),
    }
    assert (o.eta.min_days, o.eta.max_days) == (2, 4)


async def test_insurance_is_a_percentage_of_declared_value_rounded_half_up(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(BOX, declared_value="1234.50")), "courier")
    # 1 % of 1234.50 is 12.345: half-up gives 12.35 (banker's rounding would give 12.34).
    assert amounts(o)[PriceLineKind.INSURANCE] == Decimal("12.35")
    assert o.price.total == Decimal("275.00") + Decimal("12.35")


async def test_insurance_never_goes_below_its_minimum(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(BOX, declared_value="300")), "courier")
    assert amounts(o)[PriceLineKind.INSURANCE] == Decimal("10.00")  # 1 % would be 3.00


async def test_nothing_declared_means_no_insurance_line(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(BOX)), "courier")
    assert PriceLineKind.INSURANCE not in amounts(o)


async def test_cash_on_delivery_adds_its_fee_and_leaves_out_services_without_it(card: dict[str, Any]) -> None:
    quote = await carrier_from(card).quote(request_for(BOX, declared_value="5000", cod=True))
    o = offer(quote, "courier")
    assert amounts(o)[PriceLineKind.COD] == Decimal("100.00")  # 2 % of 5000
    assert amounts(o)[PriceLineKind.INSURANCE] == Decimal("50.00")  # 1 % of 5000
    assert o.price.total == Decimal("275.00") + Decimal("100.00") + Decimal("50.00")
    [rejected] = quote.rejections
    assert (rejected.service, rejected.reason) == ("pickup", "cash on delivery not offered")


async def test_cash_on_delivery_fee_has_a_minimum(card: dict[str, Any]) -> None:
    o = offer(await carrier_from(card).quote(request_for(BOX, declared_value="1000", cod=True)), "courier")
    assert amounts(o)[PriceLineKind.COD] == Decimal("50.00")  # 2 % would be 20.00


async def test_fuel_is_rounded_half_up_to_kopecks_and_lines_still_sum_to_the_total(
    card: dict[str, Any],
) -> None:
    card["surcharges"]["fuel_pct"] = "12.5"
    card["services"][0]["zones"]["A"]["base"] = "200.36"
    o = offer(await carrier_from(card).quote(request_for(BOX)), "courier")
    # 12.5 % of (200.36 + 50.00) = 31.295 → 31.30
    assert amounts(o)[PriceLineKind.FUEL] == Decimal("31.30")
    assert o.price.total == Decimal("200.36") + Decimal("50.00") + Decimal("31.30")
    assert sum((line.amount for line in o.price.lines), Decimal(0)) == o.price.total
    assert all(isinstance(line.amount, Decimal) and line.amount.as_tuple().exponent == -2 for line in o.price.lines)


async def test_distance_pricing_charges_per_started_kilometre(card: dict[str, Any]) -> None:
    card["services"][0]["zones"]["A"]["per_km"] = "10.00"
    # 1° of latitude is 111.19 km on geopy's sphere: 112 started kilometres.
    request = request_for(BOX, origin=place(52.0, 35.0), destination=place(53.0, 35.0))
    o = offer(await carrier_from(card).quote(request), "courier")
    lines = amounts(o)
    assert lines[PriceLineKind.DISTANCE] == Decimal("1120.00")
    assert lines[PriceLineKind.FUEL] == (Decimal("200.00") + Decimal("50.00") + Decimal("1120.00")) / 10


async def test_origin_outside_the_home_area_pays_line_haul_and_waits_extra_days(card: dict[str, Any]) -> None:
    card["zones"]["origin"] = square(30, 50, 40, 60)  # zone A is home
    card["zones"]["inbound"] = {"fee": "120.00", "extra_days": 2}
    carrier = carrier_from(card)

    at_home = offer(await carrier.quote(request_for(BOX, origin=IN_A)), "courier")
    assert PriceLineKind.OTHER not in amounts(at_home)
    assert (at_home.eta.min_days, at_home.eta.max_days) == (1, 2)

    from_away = offer(await carrier.quote(request_for(BOX, origin=IN_B)), "courier")
    assert amounts(from_away)[PriceLineKind.OTHER] == Decimal("120.00")
    assert from_away.price.total == Decimal("275.00") + Decimal("120.00")
    assert (from_away.eta.min_days, from_away.eta.max_days) == (1 + 2, 2 + 2)


async def test_origin_outside_the_home_area_is_refused_without_line_haul(card: dict[str, Any]) -> None:
    card["zones"]["origin"] = square(30, 50, 40, 60)
    quote = await carrier_from(card).quote(request_for(BOX, origin=IN_B))
    assert quote.offers == ()
    assert {r.reason for r in quote.rejections} == {"origin outside service area"}


# --- what cannot be carried, and why


async def test_destination_outside_every_zone_rejects_every_service_with_the_reason(
    card: dict[str, Any],
) -> None:
    quote = await carrier_from(card).quote(request_for(BOX, destination=OUTSIDE))
    assert quote.offers == ()
    assert {(r.carrier, r.service) for r in quote.rejections} == {
        ("testpost", "courier"),
        ("testpost", "pickup"),
    }
    assert all(r.reason == "destination outside service area" for r in quote.rejections)


async def test_service_that_does_not_price_a_zone_is_rejected_naming_the_zone(card: dict[str, Any]) -> None:
    quote = await carrier_from(card).quote(request_for(BOX, destination=IN_B))
    [rejected] = quote.rejections
    assert rejected.service == "pickup"
    assert "zone B" in rejected.reason


@pytest.mark.parametrize(
    ("parcel", "limit"),
    [
        (Parcel(10001, 20, 20, 20), "weight limit"),
        (Parcel(1000, 10, 61, 10), "side limit"),  # the longest side counts whichever way it lies
        (Parcel(1000, 55, 40, 30), "sum-of-sides limit"),  # 125 cm > 120 cm, each side ≤ 60
    ],
)
async def test_parcel_over_a_limit_is_rejected_naming_the_limit_and_the_parcel(
    card: dict[str, Any], parcel: Parcel, limit: str
) -> None:
    quote = await carrier_from(card).quote(request_for(BOX, parcel))
    [rejected] = quote.rejections
    assert rejected.service == "pickup"
    assert limit in rejected.reason
    assert rejected.reason.startswith("parcels[1]")
    assert [o.service for o in quote.offers] == ["courier"]  # the courier's limits are wider


async def test_parcel_exactly_at_the_limits_is_accepted(card: dict[str, Any]) -> None:
    at_limits = Parcel(10000, 60, 40, 20)  # 10 kg, longest 60 cm, sum 120 cm
    quote = await carrier_from(card).quote(request_for(at_limits))
    assert {o.service for o in quote.offers} == {"courier", "pickup"}


async def test_foreign_destination_is_rejected_when_the_card_names_its_countries(
    card: dict[str, Any],
) -> None:
    card["countries"] = ["RU"]
    abroad = dataclasses.replace(IN_A, country="KZ")
    quote = await carrier_from(card).quote(request_for(BOX, destination=abroad))
    assert quote.offers == ()
    assert all("KZ" in r.reason for r in quote.rejections)


# --- dates


async def test_eta_comes_from_the_calendar_with_the_cutoff_origin_timezone_and_zone_days(
    card: dict[str, Any],
) -> None:
    origin = place(55.0, 35.0, timezone="Europe/Samara")
    quote = await carrier_from(card).quote(request_for(BOX, origin=origin))
    assert offer(quote, "courier").eta == make_eta(SHIP_AT, "Europe/Samara", time(14, 0), 1, 2)
    assert offer(quote, "pickup").eta == make_eta(SHIP_AT, "Europe/Samara", time(14, 0), 2, 3)
    # 16:00 in Samara (UTC+4) is past the 14:00 cut-off: the parcel leaves a working day later.
    late = SHIP_AT.replace(hour=15)
    quote = await carrier_from(card).quote(request_for(BOX, origin=origin, ship_at=late))
    assert offer(quote, "courier").eta == make_eta(late, "Europe/Samara", time(14, 0), 1, 2)
    assert offer(quote, "courier").eta.ship_date > make_eta(SHIP_AT, "Europe/Samara", time(14, 0), 1, 2).ship_date


# --- loading and validation


def test_valid_card_loads_from_a_directory(card: dict[str, Any], write_card: Callable[[str, Any], Path]) -> None:
    directory = write_card("testpost.json", card).parent
    [carrier] = load_ratecards(directory)
    assert carrier.code == "testpost"
    assert validate_directory(directory) == []


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


_DELETE = object()
_ZONE_A = "services/0/zones/A"
_BOWTIE = {"type": "Polygon", "coordinates": [[[30, 50], [40, 60], [40, 50], [30, 60], [30, 50]]]}


@pytest.mark.parametrize(
    ("change", "value", "path", "says"),
    [
        ("code", _DELETE, "code", "required"),
        ("code", "Test Post", "code", "carrier code"),
        ("cutoff", "25:00", "cutoff", "HH:MM"),
        # A buyer reads every name in Russian or English: a file with one only is refused.
        ("name", "Test Post", "name", "object"),
        ("name/ru", _DELETE, "name.ru", "required"),
        ("services/1/name/en", _DELETE, "services[1].name.en", "required"),
        ("services/0/name/ru", " ", "services[0].name.ru", "blank"),
        ("volumetric_divisor", 0, "volumetric_divisor", "at least 1"),
        ("surcharges/fule_pct", "5", "surcharges.fule_pct", "unknown field"),
        ("surcharges/insurance/pct", 1.5, "surcharges.insurance.pct", "percentage"),
        ("surcharges/remote_area/zones", ["Z"], "surcharges.remote_area.zones[0]", "unknown zone"),
        (f"{_ZONE_A}/base", 200.0, "services[0].zones.A.base", "string"),
        (f"{_ZONE_A}/base", "200.005", "services[0].zones.A.base", "2 decimals"),
        (f"{_ZONE_A}/weight_breaks/1/max_g", 1000, "services[0].zones.A.weight_breaks[1].max_g", "greater"),
        (f"{_ZONE_A}/weight_breaks/0/price", None, "services[0].zones.A.weight_breaks[0].price", "string"),
        (f"{_ZONE_A}/per_extra_kg", _DELETE, "services[0].zones.A.per_extra_kg", "up to 20000 g"),
        (
            f"{_ZONE_A}/transit_days",
            {"min": 3, "max": 1},
            "services[0].zones.A.transit_days.max",
            "at least min",
        ),
        ("services/1/zones/C", {}, "services[1].zones.C", "unknown zone"),
        ("services/1/delivery_type", "drone", "services[1].delivery_type", "courier"),
        ("services/1/code", "courier", "services[1].code", "duplicate service"),
        ("services/1/limits/max_weight_g", "10kg", "services[1].limits.max_weight_g", "whole number"),
        ("services", [], "services", "empty"),
        ("zones/type", "hexagons", "zones.type", "polygons"),
        ("zones/inbound", {"fee": "100.00", "extra_days": 1}, "zones.inbound", "needs zones.origin"),
        (
            "zones/destination/features/1/properties/zone",
            "A",
            "zones.destination.features[1].properties.zone",
            "duplicate",
        ),
        (
            "zones/destination/features/0/geometry",
            _BOWTIE,
            "zones.destination.features[0].geometry.coordinates",
            "Self-intersection",
        ),
        (
            "zones/destination/features/0/geometry",
            {"type": "Polygon", "coordinates": [[[55, 30], [55, 100], [60, 100], [55, 30]]]},
            "zones.destination.features[0].geometry.coordinates",
            "longitude, latitude",
        ),
        (
            "zones/destination/features/0/geometry",
            {"type": "Point", "coordinates": [35, 55]},
            "zones.destination.features[0].geometry.type",
            "Polygon",
        ),
    ],
)
def test_bad_field_is_reported_with_the_file_name_and_field_path(
    card: dict[str, Any],
    write_card: Callable[[str, Any], Path],
    change: str,
    value: Any,
    path: str,
    says: str,
) -> None:
    _set(card, change, value)
    directory = write_card("broken.json", card).parent
    with pytest.raises(ConfigError) as raised:
        load_ratecards(directory)
    assert raised.value.source == "broken.json"
    assert raised.value.path == path
    assert says in raised.value.message


def test_distance_bands_and_cities_are_validated_with_paths(card: dict[str, Any]) -> None:
    card["zones"] = {
        "type": "distance",
        "bands": [{"zone": "A", "max_km": 500}, {"zone": "B", "max_km": 100}],
    }
    with pytest.raises(ConfigError) as raised:
        parse_ratecard(card, "bands.json")
    assert (raised.value.path, raised.value.source) == ("zones.bands[1].max_km", "bands.json")

    card["zones"] = {
        "type": "cities",
        "cities": [{"zone": "A", "name": "X", "lat": 95, "lon": 37, "radius_km": 30}],
    }
    with pytest.raises(ConfigError) as raised:
        parse_ratecard(card, "cities.json")
    assert raised.value.path == "zones.cities[0].lat"


def test_an_infinite_distance_built_in_code_is_refused_as_json_could_never_send_it(card: dict[str, Any]) -> None:
    card["zones"] = {"type": "distance", "bands": [{"zone": "A", "max_km": float("inf")}]}
    with pytest.raises(ConfigError) as raised:
        parse_ratecard(card, "bands.json")
    assert raised.value.path == "zones.bands[0].max_km"
    assert "positive number" in raised.value.message


def test_file_that_is_not_json_is_named(write_card: Callable[[str, Any], Path]) -> None:
    directory = write_card("garbled.json", '{"code": "x",}').parent
    [error] = validate_directory(directory)
    assert error.source == "garbled.json"
    assert "not valid JSON" in error.message


def test_duplicate_carrier_codes_across_files_are_an_error(
    card: dict[str, Any], write_card: Callable[[str, Any], Path]
) -> None:
    write_card("a.json", card)
    directory = write_card("b.json", card).parent
    [error] = validate_directory(directory)
    assert (error.source, error.path) == ("b.json", "code")
    assert "a.json" in error.message
    with pytest.raises(ConfigError):
        load_ratecards(directory)


def test_validate_directory_lists_every_problem_in_every_file(
    card: dict[str, Any], write_card: Callable[[str, Any], Path]
) -> None:
    good = dict(card, code="good")
    write_card("good.json", good)
    bad = dict(card, code="bad", cutoff="noon")
    bad["services"] = [dict(card["services"][0], delivery_type="drone"), card["services"][1]]
    write_card("bad.json", bad)
    directory = write_card("worse.json", '["not", "an", "object"]').parent
    errors = validate_directory(directory)
    assert {(e.source, e.path) for e in errors} == {
        ("bad.json", "cutoff"),
        ("bad.json", "services[0].delivery_type"),
        ("worse.json", "$"),
    }
    with pytest.raises(ConfigError) as raised:
        load_ratecards(directory)
    assert raised.value.source == "bad.json"  # files are read in name order


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_ratecards(tmp_path / "nowhere")


# --- the demo network


MOSCOW = place(55.752, 37.618, city="Moscow")
NOVOSIBIRSK = place(55.023, 82.932, city="Novosibirsk", timezone="Asia/Novosibirsk")
YEKATERINBURG = place(56.838, 60.597, city="Yekaterinburg", timezone="Asia/Yekaterinburg")


@pytest.fixture(scope="module")
def demo() -> list[RateCardCarrier]:
    return load_ratecards(DEMO_DIR)


async def quote_all(carriers: list[RateCardCarrier], origin: Any, destination: Any) -> list[Offer]:
    request = request_for(BOX, origin=origin, destination=destination, declared_value="3000")
    return [o for c in carriers for o in (await c.quote(request)).offers]


def test_demo_network_validates_cleanly_and_is_marked_as_demo(demo: list[RateCardCarrier]) -> None:
    assert validate_directory(DEMO_DIR) == []
    assert len(demo) >= 6
    assert all(c.info().demo for c in demo)
    assert all(b'"_note": "Demo data' in path.read_bytes() for path in DEMO_DIR.glob("*.json"))


def test_demo_network_has_every_kind_of_zone(demo: list[RateCardCarrier]) -> None:
    assert {c.card.zones_kind for c in demo} == {"polygons", "distance", "cities"}


async def test_moscow_to_novosibirsk_gets_offers_from_four_carriers_of_both_delivery_types(
    demo: list[RateCardCarrier],
) -> None:
    offers = await quote_all(demo, MOSCOW, NOVOSIBIRSK)
    assert len({o.carrier for o in offers}) >= 4
    assert {o.delivery_type for o in offers} == {DeliveryType.COURIER, DeliveryType.PICKUP}
    for o in offers:
        assert o.price.total == sum((line.amount for line in o.price.lines), Decimal(0))
        assert o.eta.ship_date <= o.eta.min_date <= o.eta.max_date


async def test_regional_couriers_are_cheaper_at_home_than_the_national_couriers(
    demo: list[RateCardCarrier],
) -> None:
    national = {"magistral", "vestnik"}
    trips = [(MOSCOW, NOVOSIBIRSK, "sibgonets"), (YEKATERINBURG, YEKATERINBURG, "kpoyas")]
    for origin, destination, regional in trips:
        offers = await quote_all(demo, origin, destination)
        couriers = [o for o in offers if o.delivery_type is DeliveryType.COURIER]
        cheapest_regional = min(o.price.total for o in couriers if o.carrier == regional)
        cheapest_national = min(o.price.total for o in couriers if o.carrier in national)
        assert cheapest_regional < cheapest_national


async def test_same_day_courier_serves_a_trip_within_moscow_priced_by_distance(
    demo: list[RateCardCarrier],
) -> None:
    across_town = place(55.70, 37.45)
    offers = await quote_all(demo, MOSCOW, across_town)
    sameday = [o for o in offers if o.carrier == "shustry" and o.service == "sameday"]
    assert sameday and PriceLineKind.DISTANCE in amounts(sameday[0])
    assert not [o for o in await quote_all(demo, MOSCOW, NOVOSIBIRSK) if o.carrier == "shustry"]


def test_committed_demo_files_match_what_the_generator_writes() -> None:
    script = DEMO_DIR.parents[1] / "scripts" / "make_demo_network.py"
    spec = importlib.util.spec_from_file_location("make_demo_network", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, data in module.network().items():
        assert (DEMO_DIR / name).read_bytes() == data, f"{name} is stale: run scripts/make_demo_network.py"
