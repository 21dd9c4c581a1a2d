"""The same-day courier: units converted at the border, answers read in the published shape."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import orjson
import pytest

from carriers.api import CarrierApiError, CarrierRateLimited, Secret
from carriers.courier import CourierCarrier, CourierClient
from carriers.courier.carrier import calculate_body as calculate_struct
from carriers.courier.carrier import parse_calculate, weight_kg
from router.core.models import DeliveryType, Parcel, Place, PriceLineKind
from tests.carriers.sandbox_fixtures import (
    MOSCOW,
    MOSCOW_EAST,
    MSK,
    fixture,
    rate_request,
)

CUTOFF = time(20, 0)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # "now" for requests whose ship_at is ahead


def parse(answer: object, request: object = None, **kw: object) -> object:
    """The courier's answer read from the JSON a server would send for `answer`."""
    return parse_calculate(
        orjson.dumps(answer),
        request or rate_request(MOSCOW, MOSCOW_EAST),  # type: ignore[arg-type]
        carrier="courier",
        carrier_name="City courier",
        service="same_day",
        service_name="Same-day courier",
        cutoff=CUTOFF,
        **kw,  # type: ignore[arg-type]
    )


def calculate_body(request: object, **kw: object) -> dict:  # type: ignore[type-arg]
    """The calculate-order body as the JSON object sent."""
    return orjson.loads(msgspec.json.encode(calculate_struct(request, **kw)))  # type: ignore[arg-type]


# ------------------------------------------------------------------ request


@pytest.mark.parametrize(("grams", "kg"), [(1, 1), (1000, 1), (1001, 2), (1200, 2), (15000, 15)])
def test_weight_goes_out_in_whole_kilograms_rounded_up(grams: int, kg: int) -> None:
    assert weight_kg(grams) == kg


def test_body_weighs_all_parcels_together() -> None:
    request = rate_request(MOSCOW, MOSCOW_EAST, parcels=(Parcel(700, 10, 10, 10), Parcel(700, 10, 10, 10)))
    assert calculate_body(request, now=LONG_AGO)["total_weight_kg"] == 2


def test_coordinates_go_out_as_strings_latitude_and_longitude_apart() -> None:
    pickup, drop = calculate_body(rate_request(MOSCOW, MOSCOW_EAST), now=LONG_AGO)["points"]
    assert (pickup["latitude"], pickup["longitude"]) == ("55.755800", "37.617300")
    assert (drop["latitude"], drop["longitude"]) == ("55.788700", "37.749400")


def test_address_carries_the_city_once() -> None:
    pickup, drop = calculate_body(rate_request(MOSCOW, MOSCOW_EAST), now=LONG_AGO)["points"]
    assert pickup["address"] == "Moscow"
    assert drop["address"] == "Moscow, Izmaylovsky prospekt, 73"


def test_declared_value_is_insured_as_a_decimal_string() -> None:
    body = calculate_body(rate_request(MOSCOW, MOSCOW_EAST, declared_value="5000"), now=LONG_AGO)
    assert body["insurance_amount"] == "5000.00"
    assert "insurance_amount" not in calculate_body(rate_request(MOSCOW, MOSCOW_EAST), now=LONG_AGO)


def test_cash_on_delivery_is_taken_at_the_drop_point_only() -> None:
    body = calculate_body(rate_request(MOSCOW, MOSCOW_EAST, declared_value="1234.5", cod=True), now=LONG_AGO)
    pickup, drop = body["points"]
    assert drop["taking_amount"] == "1234.50"
    assert "taking_amount" not in pickup


def test_a_later_ship_time_is_asked_for_in_the_citys_offset() -> None:
    ship_at = datetime(2025, 4, 11, 7, 0, tzinfo=UTC)
    body = calculate_body(rate_request(MOSCOW, MOSCOW_EAST, ship_at=ship_at), now=ship_at - timedelta(hours=2))
    assert body["points"][0]["required_start_datetime"] == "2025-04-11T10:00:00+03:00"


def test_a_ship_time_of_now_asks_for_the_first_courier() -> None:
    ship_at = datetime(2025, 4, 11, 7, 0, tzinfo=UTC)
    body = calculate_body(rate_request(MOSCOW, MOSCOW_EAST, ship_at=ship_at), now=ship_at + timedelta(seconds=1))
    assert "required_start_datetime" not in body["points"][0]


def test_vehicle_is_only_named_when_configured() -> None:
    request = rate_request(MOSCOW, MOSCOW_EAST)
    assert "vehicle_type_id" not in calculate_body(request, now=LONG_AGO)
    assert calculate_body(request, now=LONG_AGO, vehicle_type_id=7)["vehicle_type_id"] == 7


# ------------------------------------------------------------------ answers


def test_payment_amount_is_the_exact_total_with_each_fee_on_its_line() -> None:
    (offer,) = parse(fixture("courier/calculate_ok.json")).offers
    assert offer.price.total == Decimal("489.00")
    assert [(ln_.kind, ln_.amount) for ln_ in offer.price.lines] == [
        (PriceLineKind.BASE, Decimal("429.00")),
        (PriceLineKind.INSURANCE, Decimal("25.00")),
        (PriceLineKind.OTHER, Decimal("35.00")),
    ]
    assert offer.delivery_type is DeliveryType.COURIER
    assert (offer.carrier, offer.service) == ("courier", "same_day")


def test_a_discount_is_a_negative_line_and_the_lines_still_sum() -> None:
    (offer,) = parse(fixture("courier/calculate_tomorrow_discounted.json")).offers
    assert offer.price.total == Decimal("379.00")
    assert (PriceLineKind.DISCOUNT, Decimal("-50.00")) in [(ln_.kind, ln_.amount) for ln_ in offer.price.lines]
    assert sum(ln_.amount for ln_ in offer.price.lines) == offer.price.total


def test_fees_that_do_not_add_up_leave_an_other_charges_line() -> None:
    answer = {"is_successful": True, "order": {"payment_amount": "500.00", "delivery_fee_amount": "450.00"}}
    (offer,) = parse(answer).offers
    assert [(ln_.kind, ln_.amount) for ln_ in offer.price.lines] == [
        (PriceLineKind.BASE, Decimal("450.00")),
        (PriceLineKind.OTHER, Decimal("50.00")),
    ]


def test_windows_today_are_a_same_day_eta() -> None:
    (offer,) = parse(fixture("courier/calculate_ok.json")).offers
    assert (offer.eta.min_days, offer.eta.max_days) == (0, 0)
    assert offer.eta.ship_date == offer.eta.min_date == offer.eta.max_date == date(2025, 4, 11)


def test_windows_tomorrow_are_one_day() -> None:
    late = rate_request(MOSCOW, MOSCOW_EAST, ship_at=datetime(2025, 4, 11, 21, 30, tzinfo=MSK))
    (offer,) = parse(fixture("courier/calculate_tomorrow_discounted.json"), late).offers
    assert (offer.eta.min_days, offer.eta.max_days) == (1, 1)
    assert offer.eta.ship_date == date(2025, 4, 12)


def test_window_dates_are_read_in_the_served_citys_timezone() -> None:
    nsk = ZoneInfo("Asia/Novosibirsk")
    a = Place(lat=55.03, lon=82.92, country="RU", city="Novosibirsk", region="RU-NVS", timezone="Asia/Novosibirsk")
    b = Place(lat=55.05, lon=82.95, country="RU", city="Novosibirsk", region="RU-NVS", timezone="Asia/Novosibirsk")
    request = rate_request(a, b, ship_at=datetime(2025, 4, 11, 18, 0, tzinfo=nsk))
    answer = {
        "is_successful": True,
        "order": {
            "payment_amount": "300.00",
            "points": [
                {"required_start_datetime": "2025-04-11T14:30:00+03:00"},  # 18:30 in Novosibirsk
                {
                    "required_start_datetime": "2025-04-11T19:30:00+03:00",  # 23:30 there
                    "required_finish_datetime": "2025-04-11T20:30:00+03:00",
                },  # 00:30 the next day
            ],
        },
    }
    (offer,) = parse(answer, request).offers
    assert (offer.eta.min_date, offer.eta.max_date) == (date(2025, 4, 11), date(2025, 4, 12))
    assert (offer.eta.min_days, offer.eta.max_days) == (0, 1)


def test_no_windows_means_today_before_the_cutoff_and_tomorrow_after() -> None:
    answer = {"is_successful": True, "order": {"payment_amount": "300.00"}}
    early = rate_request(MOSCOW, MOSCOW_EAST, ship_at=datetime(2025, 4, 11, 12, 0, tzinfo=MSK))
    late = rate_request(MOSCOW, MOSCOW_EAST, ship_at=datetime(2025, 4, 11, 20, 30, tzinfo=MSK))
    assert parse(answer, early).offers[0].eta.max_days == 0
    assert parse(answer, late).offers[0].eta.min_date == date(2025, 4, 12)


def test_billed_weight_is_the_whole_kilograms_sent() -> None:
    (offer,) = parse(fixture("courier/calculate_ok.json")).offers
    assert offer.chargeable_weight_g == 2000  # the 1.2 kg default parcel


def test_warnings_turn_the_offer_into_a_rejection_naming_the_field() -> None:
    quote = parse(fixture("courier/calculate_address_warning.json"))
    assert quote.offers == ()
    (rejection,) = quote.rejections
    assert "address_not_found" in rejection.reason
    assert "points[1].address" in rejection.reason


def test_an_unservable_route_is_a_rejection_not_a_carrier_failure() -> None:
    answer = {
        "is_successful": False,
        "errors": ["invalid_parameters"],
        "parameter_errors": {"points": [None, {"address": ["route_not_found"]}]},
    }
    quote = parse(answer)
    assert quote.offers == () and "route_not_found" in quote.rejections[0].reason


def test_invalid_parameters_raise_with_every_code_and_path() -> None:
    with pytest.raises(CarrierApiError) as caught:
        parse(fixture("courier/calculate_invalid_parameters.json"), status=400)
    codes = {(e.code, e.message) for e in caught.value.errors}
    assert ("invalid_integer", "total_weight_kg") in codes
    assert ("invalid_value", "points[1].latitude") in codes
    assert caught.value.status == 400


def test_requests_limit_exceeded_is_a_rate_limit() -> None:
    with pytest.raises(CarrierRateLimited) as caught:
        parse(fixture("courier/calculate_requests_limit.json"), retry_after=3.0)
    assert caught.value.retry_after_s == 3.0


def test_no_order_in_a_successful_answer_is_an_empty_quote() -> None:
    quote = parse({"is_successful": True, "order": None, "warnings": []})
    assert quote.offers == () and quote.rejections == ()


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"order": {"payment_amount": "1.00"}},
        {"is_successful": True, "order": {"payment_amount": "lots"}},
        {"is_successful": True, "order": {"delivery_fee_amount": "1.00"}},
        {"is_successful": True, "order": {"payment_amount": 1.005}},
        {"is_successful": True, "order": {"payment_amount": "1.00", "points": [{"required_start_datetime": "11:00"}]}},
    ],
)
def test_an_unreadable_answer_raises(answer: object) -> None:
    with pytest.raises(CarrierApiError):
        parse(answer)


def test_token_never_shows_in_reprs() -> None:
    carrier = CourierCarrier(CourierClient(None, base_url="http://x", token=Secret("tok-123")))
    assert "tok-123" not in repr(carrier) + repr(carrier.client) + str(vars(carrier.client))


# ------------------------------------------------------------------ over HTTP


async def test_calls_go_to_the_configured_path_with_the_token_on_kept_alive_connections() -> None:
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    seen: list[tuple[str, str | None]] = []
    peers: set[object] = set()

    async def calculate(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("X-DV-Auth-Token")))
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response(fixture("courier/calculate_ok.json"))

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/api/business/1.5/calculate-order")

    app = web.Application()
    app.router.add_post("/api/business/1.5/calculate-order", calculate)
    app.router.add_post("/old/calculate-order", moved)
    async with TestServer(app) as server, aiohttp.ClientSession() as http:
        base = f"http://127.0.0.1:{server.port}"
        carrier = CourierCarrier(CourierClient(http, base_url=base + "/api/business/1.5/", token=Secret("tok-123")))
        quotes = [await carrier.quote(rate_request(MOSCOW, MOSCOW_EAST)) for _ in range(3)]
        assert all(len(q.offers) == 1 for q in quotes)
        assert seen == [("/api/business/1.5/calculate-order", "tok-123")] * 3
        assert len(peers) == 1  # one connection, kept alive for the next call
        # A configured URL that redirects is the operator's to fix: not followed, not priced.
        stale = CourierCarrier(CourierClient(http, base_url=base + "/old", token=Secret("tok-123")))
        with pytest.raises(CarrierApiError, match="302"):
            await stale.quote(rate_request(MOSCOW, MOSCOW_EAST))
        assert len(seen) == 3
        carrier.close()
        stale.close()
