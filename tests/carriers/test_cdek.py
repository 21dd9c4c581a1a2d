"""CDEK v2: the calculator body we send and the answers we read, in CDEK's published shapes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import msgspec
import orjson
import pytest

from carriers.api import CarrierApiError, CarrierAuthError, Secret
from carriers.cdek.carrier import CdekCarrier, parse_tarifflist, tarifflist_body
from carriers.cdek.client import (
    CdekClient,
    deliverypoints_query,
    parse_deliverypoints_page,
    parse_token,
    token_form,
    total_elements,
)
from carriers.cdek.codes import delivery_type
from router.core.models import DeliveryType, Parcel
from tests.carriers.sandbox_fixtures import MOSCOW, NOVOSIBIRSK, fixture, rate_request

CUTOFF = time(18, 0)


def parse(answer: object, **kw: object) -> object:
    """The calculator's answer read from the JSON a server would send for `answer`."""
    kw.setdefault("tariffs", None)
    return parse_tarifflist(
        orjson.dumps(answer),
        kw.pop("request", rate_request()),
        carrier="cdek",
        carrier_name="CDEK",
        cutoff=CUTOFF,
        **kw,  # type: ignore[arg-type]
    )


def body_of(request: object, **kw: str) -> dict:  # type: ignore[type-arg]
    """The calculator body as the JSON object sent."""
    return orjson.loads(msgspec.json.encode(tarifflist_body(request, **kw)))  # type: ignore[arg-type]


# ------------------------------------------------------------------ request


def test_body_sends_grams_and_whole_centimetres_rounded_up() -> None:
    request = rate_request(parcels=(Parcel(1250, 30.2, 20, 9.5), Parcel(300, 10, 10, 10)))
    body = body_of(request)
    assert body["packages"] == [
        {"weight": 1250, "length": 31, "width": 20, "height": 10},
        {"weight": 300, "length": 10, "width": 10, "height": 10},
    ]


def test_body_asks_for_roubles_on_an_eshop_contract() -> None:
    body = body_of(rate_request(), lang="eng")
    assert body["type"] == 1
    assert body["currency"] == 1
    assert body["lang"] == "eng"


def test_body_writes_the_ship_date_with_a_colonless_offset() -> None:
    assert body_of(rate_request())["date"] == "2025-04-11T10:00:00+0300"


def test_body_locates_both_ends_by_postal_code_city_and_coordinates() -> None:
    body = body_of(rate_request(MOSCOW, NOVOSIBIRSK))
    assert body["from_location"] == {
        "country_code": "RU",
        "postal_code": "101000",
        "city": "Moscow",
        "latitude": 55.7558,
        "longitude": 37.6173,
    }
    assert body["to_location"]["latitude"] == pytest.approx(55.0415)
    assert body["to_location"]["longitude"] == pytest.approx(82.9346)


def test_token_form_is_client_credentials() -> None:
    assert token_form(Secret("id"), Secret("s3cret")) == {
        "grant_type": "client_credentials",
        "client_id": "id",
        "client_secret": "s3cret",
    }


def test_deliverypoints_query_spells_booleans_as_json_and_pages_from_zero() -> None:
    query = deliverypoints_query({"city_code": 270, "allowed_cod": True, "is_handout": False, "type": None}, 0, 500)
    assert query == {"city_code": "270", "allowed_cod": "true", "is_handout": "false", "page": "0", "size": "500"}


# ------------------------------------------------------------------ answers


def test_every_tariff_becomes_an_offer_with_its_own_code_and_name() -> None:
    quote = parse(fixture("cdek/tarifflist_ok.json"))
    assert [(o.service, o.service_name) for o in quote.offers] == [
        ("136", "Посылка склад-склад"),
        ("137", "Посылка склад-дверь"),
        ("368", "Посылка склад-постамат"),
        ("139", "Посылка дверь-дверь"),
    ]
    assert quote.rejections == ()


def test_delivery_sum_is_exact_roubles_not_a_binary_fraction() -> None:
    prices = {o.service: o.price.total for o in parse(fixture("cdek/tarifflist_ok.json")).offers}
    assert prices == {
        "136": Decimal("1073.00"),
        "137": Decimal("1510.50"),
        "368": Decimal("1100.35"),
        "139": Decimal("1980.00"),
    }
    assert all(type(p) is Decimal for p in prices.values())


def test_price_lines_sum_to_the_total() -> None:
    for offer in parse(fixture("cdek/tarifflist_ok.json")).offers:
        assert sum(line.amount for line in offer.price.lines) == offer.price.total
        assert offer.price.currency == "RUB"


def test_to_door_modes_are_courier_and_office_or_locker_modes_are_pickup() -> None:
    types = {o.service: o.delivery_type for o in parse(fixture("cdek/tarifflist_ok.json")).offers}
    assert types == {
        "136": DeliveryType.PICKUP,
        "137": DeliveryType.COURIER,
        "368": DeliveryType.PICKUP,
        "139": DeliveryType.COURIER,
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (1, "courier"),
        (3, "courier"),
        (8, "courier"),
        (2, "pickup"),
        (4, "pickup"),
        (6, "pickup"),
        (7, "pickup"),
        (9, "pickup"),
        (10, "pickup"),
        (99, "pickup"),
    ],
)
def test_delivery_mode_maps_on_the_receiving_end(mode: int, expected: str) -> None:
    assert delivery_type(mode).value == expected


def test_transit_periods_are_working_days_skipping_the_weekend() -> None:
    # Shipped Friday 11 April 2025 before the cut-off: 4..6 working days run to Thu 17 / Mon 21.
    offer = next(o for o in parse(fixture("cdek/tarifflist_ok.json")).offers if o.service == "136")
    assert (offer.eta.min_days, offer.eta.max_days) == (4, 6)
    assert offer.eta.ship_date == date(2025, 4, 11)
    assert offer.eta.min_date == date(2025, 4, 17)
    assert offer.eta.max_date == date(2025, 4, 21)


def test_a_parcel_handed_over_after_the_cutoff_ships_the_next_working_day() -> None:
    from datetime import datetime

    from tests.carriers.sandbox_fixtures import MSK

    request = rate_request(ship_at=datetime(2025, 4, 11, 19, 30, tzinfo=MSK))
    offer = parse(fixture("cdek/tarifflist_ok.json"), request=request).offers[0]
    assert offer.eta.ship_date == date(2025, 4, 14)


def test_chargeable_weight_uses_cdeks_volumetric_divisor() -> None:
    request = rate_request(parcels=(Parcel(1000, 50, 40, 30),))  # 60 000 cm³ / 5000 = 12 kg
    offer = parse(fixture("cdek/tarifflist_ok.json"), request=request).offers[0]
    assert offer.chargeable_weight_g == 12_000


def test_answers_about_many_requests_in_any_order_each_carry_their_own_chargeable_weight() -> None:
    answer = fixture("cdek/tarifflist_ok.json")
    requests = [rate_request(parcels=(Parcel(100 + n, 1, 1, 1),)) for n in range(600)]
    for request in requests + requests[::-1] + requests[::7]:
        weight = request.shipment.parcels[0].weight_g
        assert {o.chargeable_weight_g for o in parse(answer, request=request).offers} == {weight}


def test_only_configured_tariffs_are_offered() -> None:
    quote = parse(fixture("cdek/tarifflist_ok.json"), tariffs=frozenset({136, 368}))
    assert [o.service for o in quote.offers] == ["136", "368"]


def test_errors_without_tariffs_raise_with_cdeks_codes() -> None:
    with pytest.raises(CarrierApiError) as caught:
        parse(fixture("cdek/tarifflist_refused.json"))
    assert [e.code for e in caught.value.errors] == ["v2_entity_not_found"]
    assert "Не найден город получателя" in str(caught.value)


@pytest.mark.parametrize(
    "odd",
    [
        {"delivery_sum": "880.00"},  # a decimal string
        {"delivery_sum": 880},  # a whole number
        {"period_min": 2.0, "period_max": 3.0},  # whole numbers written as floats
        {"period_min": 3, "period_max": 2},  # the window given backwards
        {"tariff_name": None},  # no name: one is made from the code
    ],
)
def test_a_tariff_in_any_readable_shape_gives_the_offer_the_plain_shape_gives(odd: dict[str, object]) -> None:
    plain = {"tariff_code": 136, "tariff_name": "Посылка склад-склад", "delivery_mode": 4, "delivery_sum": 880.0,
             "period_min": 2, "period_max": 3}  # fmt: skip
    (expected,) = parse({"tariff_codes": [plain]}).offers
    (offer,) = parse({"tariff_codes": [{**plain, **odd}]}).offers
    if odd.get("tariff_name", "") is None:
        assert (offer.service_name, offer.service_name_ru) == ("Tariff 136", "Тариф 136")
        offer = replace(offer, service_name=expected.service_name, service_name_ru=expected.service_name_ru)
    assert offer == expected


def test_errors_next_to_tariffs_and_an_unreadable_tariff_become_rejections() -> None:
    quote = parse(fixture("cdek/tarifflist_partial.json"))
    assert [o.service for o in quote.offers] == ["136"]
    reasons = {r.service: r.reason for r in quote.rejections}
    assert "v2_invalid_value_type" in reasons["*"]
    assert "delivery_sum" in reasons["137"] or "amount" in reasons["137"]


def test_an_empty_tariff_list_is_an_empty_quote_not_an_error() -> None:
    quote = parse({"tariff_codes": []})
    assert quote.offers == () and quote.rejections == ()


@pytest.mark.parametrize("answer", [[], "tariffs", {"tariff_codes": {"136": {}}}])
def test_an_answer_of_the_wrong_shape_raises(answer: object) -> None:
    with pytest.raises(CarrierApiError):
        parse(answer)


def test_a_negative_or_fractional_period_is_rejected_not_offered() -> None:
    answer = {
        "tariff_codes": [
            {
                "tariff_code": 136,
                "tariff_name": "a",
                "delivery_mode": 4,
                "delivery_sum": 10,
                "period_min": -1,
                "period_max": 2,
            },
            {
                "tariff_code": 137,
                "tariff_name": "b",
                "delivery_mode": 3,
                "delivery_sum": 10,
                "period_min": 1.5,
                "period_max": 2,
            },
        ]
    }
    quote = parse(answer)
    assert quote.offers == ()
    assert {r.service for r in quote.rejections} == {"136", "137"}


def test_a_sum_seen_before_is_read_the_same_and_true_false_or_negative_sums_are_still_refused() -> None:
    def tariff(code: int, delivery_sum: object) -> dict[str, object]:
        return {"tariff_code": code, "tariff_name": "t", "delivery_mode": 4, "delivery_sum": delivery_sum,
                "period_min": 1, "period_max": 2}  # fmt: skip

    sums = [1, 1.0, True, 1, -1.0, 0, -0.0, 356.07]
    quote = parse({"tariff_codes": [tariff(100 + i, s) for i, s in enumerate(sums)]})
    offered = {o.service: str(o.price.total) for o in quote.offers}
    assert offered == {"100": "1.00", "101": "1.00", "103": "1.00", "105": "0.00", "106": "0.00", "107": "356.07"}
    assert {r.service for r in quote.rejections} == {"102", "104"}


def test_token_answer_gives_the_token_and_its_lifetime() -> None:
    token, expires_in = parse_token(orjson.dumps(fixture("cdek/token.json")), "cdek")
    assert token.startswith("eyJ")
    assert expires_in == 3599


@pytest.mark.parametrize(
    "answer", [{}, {"access_token": ""}, {"access_token": "x", "expires_in": "soon"}, {"access_token": 7}, []]
)
def test_an_unusable_token_answer_is_an_auth_error(answer: object) -> None:
    with pytest.raises(CarrierAuthError):
        parse_token(orjson.dumps(answer), "cdek")


def test_deliverypoints_page_keeps_points_as_cdek_shapes_them() -> None:
    points = parse_deliverypoints_page(orjson.dumps(fixture("cdek/deliverypoints_page.json")), "cdek")
    assert [p["code"] for p in points] == ["NSK27", "NSK310"]
    assert points[1]["location"]["latitude"] == pytest.approx(55.0357)


def test_total_elements_header_is_read_leniently() -> None:
    assert total_elements({"X-Total-Elements": "1234"}) == 1234
    assert total_elements({"X-Total-Elements": "many"}) is None
    assert total_elements({}) is None


def test_credentials_never_show_in_reprs() -> None:
    client = CdekClient(None, client_id=Secret("the-id"), client_secret=Secret("the-secret"))
    carrier = CdekCarrier(client)
    for text in (repr(client), repr(carrier), str(vars(client)), repr(Secret("the-secret"))):
        assert "the-secret" not in text
        assert "the-id" not in text


def test_info_lists_the_configured_tariffs_it_knows() -> None:
    client = CdekClient(None, client_id=Secret("i"), client_secret=Secret("s"))
    info = CdekCarrier(client, tariffs=frozenset({136, 137, 999})).info()
    assert [(s.code, s.delivery_type) for s in info.services] == [
        ("136", DeliveryType.PICKUP),
        ("137", DeliveryType.COURIER),
    ]
    assert info.kind == "cdek"


def test_the_calculator_body_is_encoded_once_per_request_and_language_and_never_handed_to_another() -> None:
    from carriers.cdek.carrier import tarifflist_json

    first = rate_request(parcels=(Parcel(1200, 30, 20, 10),))
    second = rate_request(parcels=(Parcel(5000, 40, 30, 20),))
    assert orjson.loads(tarifflist_json(first)) == body_of(first)
    assert tarifflist_json(first) is tarifflist_json(first)
    assert orjson.loads(tarifflist_json(first, "eng")) == body_of(first, lang="eng")
    assert orjson.loads(tarifflist_json(second)) == body_of(second)
    assert orjson.loads(tarifflist_json(first)) == body_of(first)
    assert body_of(second)["packages"] == [{"weight": 5000, "length": 40, "width": 30, "height": 20}]
