"""`CourierBooking` over real HTTP against the courier emulator: orders made, found, cancelled, refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import aiohttp
import pytest

from carriers.api import CarrierAuthError, CarrierRateLimited, CarrierUnavailable, Secret
from carriers.booking import BookingApi, CancelRefused, CarrierOrder, Contact, OrderParcel, OrderStatus
from carriers.courier import CourierBooking, CourierClient
from carriers.errors import ApiErrorDetail, CarrierApiError
from carriers.sandbox import SandboxServers
from router.core.models import DeliveryType
from tests.carriers.sandbox_fixtures import (  # noqa: F401  (fixtures)
    MOSCOW,
    MOSCOW_EAST,
    NOVOSIBIRSK,
    http,
    sandbox,
)

ORDER = CarrierOrder(
    number="SHP-2001",
    service="same_day",
    delivery_type=DeliveryType.COURIER,
    origin=MOSCOW,
    destination=MOSCOW_EAST,
    sender=Contact("Warehouse desk", "+74951234567"),
    recipient=Contact("Anna Petrova", "+79161234567"),
    parcels=(OrderParcel("1", 1200, 30, 20, 10),),
    ship_date=date(2025, 4, 11),
)


@pytest.fixture
def booking(sandbox: SandboxServers, http: aiohttp.ClientSession) -> CourierBooking:  # noqa: F811
    client = CourierClient(http, base_url=sandbox.courier_url, token=Secret(sandbox.courier_token))
    return CourierBooking(client, code="courier", timeout_s=2.0)


async def control(http: aiohttp.ClientSession, url: str, body: Any = None) -> Any:  # noqa: F811
    method = http.post if body is not None else http.get
    async with method(url, json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


def test_courier_booking_is_a_booking_api_that_prints_no_labels(booking: CourierBooking) -> None:
    assert isinstance(booking, BookingApi)
    assert booking.prints_labels is False


async def test_an_order_is_booked_at_once_with_a_tracking_number(
    booking: CourierBooking,
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    state = await booking.create(ORDER)
    assert state.status is OrderStatus.BOOKED
    assert state.tracking_number == state.carrier_ref and state.carrier_ref.isdigit()
    assert state.tracking_url is not None and state.tracking_url.endswith(f"/track/{state.carrier_ref}/1")
    assert (await control(http, sandbox.courier_url + "/_sandbox/orders"))["count"] == 1


async def test_following_an_order_sees_it_offered_to_couriers(booking: CourierBooking) -> None:
    made = await booking.create(ORDER)
    followed = await booking.follow(made.carrier_ref)
    assert (followed.status, followed.carrier_status) == (OrderStatus.BOOKED, "available")
    assert followed.tracking_number == made.tracking_number


async def test_following_an_order_the_courier_never_made_is_an_error(booking: CourierBooking) -> None:
    with pytest.raises(CarrierApiError):
        await booking.follow("999999")


async def test_a_foreign_phone_makes_the_order_invalid_naming_the_field(
    booking: CourierBooking,
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    state = await booking.create(replace(ORDER, recipient=Contact("John Smith", "+1 212 555 0100")))
    assert state.status is OrderStatus.INVALID
    assert ApiErrorDetail("invalid_phone", "points[1].contact_person.phone") in state.errors
    assert (await control(http, sandbox.courier_url + "/_sandbox/orders"))["count"] == 0


async def test_a_route_the_courier_does_not_serve_is_invalid(booking: CourierBooking) -> None:
    state = await booking.create(replace(ORDER, destination=NOVOSIBIRSK))
    assert state.status is OrderStatus.INVALID
    assert any(e.code == "route_not_found" for e in state.errors)


async def test_a_new_order_cancels(booking: CourierBooking) -> None:
    made = await booking.create(ORDER)
    await booking.cancel(made.carrier_ref)
    assert (await booking.follow(made.carrier_ref)).status is OrderStatus.CANCELLED


async def test_an_order_a_courier_has_taken_refuses_to_cancel(
    booking: CourierBooking,
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    made = await booking.create(ORDER)
    await control(http, f"{sandbox.courier_url}/_sandbox/orders/{made.carrier_ref}/status", {"status": "active"})
    with pytest.raises(CancelRefused):
        await booking.cancel(made.carrier_ref)
    assert (await booking.follow(made.carrier_ref)).carrier_status == "active"


async def test_an_order_is_found_by_our_number_among_recent_ones(booking: CourierBooking) -> None:
    await booking.create(replace(ORDER, number="SHP-OTHER"))
    made = await booking.create(ORDER)
    await booking.create(replace(ORDER, number="SHP-LATER"))
    found = await booking.find("SHP-2001")
    assert found is not None and found.carrier_ref == made.carrier_ref
    assert await booking.find("SHP-NEVER") is None


async def test_finding_reads_past_the_first_page(booking: CourierBooking) -> None:
    made = await booking.create(ORDER)
    for i in range(55):  # more than a page of newer orders
        await booking.create(replace(ORDER, number=f"SHP-N{i}"))
    found = await booking.find("SHP-2001")
    assert found is not None and found.carrier_ref == made.carrier_ref


async def test_pick_ups_are_not_booked_apart_from_orders(booking: CourierBooking) -> None:
    assert await booking.label("1001", "A6") is None
    with pytest.raises(CarrierApiError, match="collects each order"):
        await booking.cancel_intake("1")


@pytest.mark.parametrize(
    ("faults", "error"),
    [({"status": 500}, CarrierUnavailable), ({"rate_limit_retry_after": 2}, CarrierRateLimited)],
)
async def test_faults_on_create_order_raise_and_make_no_order(
    booking: CourierBooking,
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    faults: dict[str, Any],
    error: type[Exception],
) -> None:
    await control(http, sandbox.courier_url + "/_sandbox/faults", {**faults, "path": "/create-order"})
    with pytest.raises(error):
        await booking.create(ORDER)
    assert (await control(http, sandbox.courier_url + "/_sandbox/orders"))["count"] == 0


async def test_a_malformed_answer_to_a_follow_is_an_api_error(
    booking: CourierBooking,
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    made = await booking.create(ORDER)
    await control(http, sandbox.courier_url + "/_sandbox/faults", {"malformed": True, "path": "/orders"})
    with pytest.raises(CarrierApiError):
        await booking.follow(made.carrier_ref)


async def test_a_hanging_courier_times_out(
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    client = CourierClient(http, base_url=sandbox.courier_url, token=Secret(sandbox.courier_token))
    booking = CourierBooking(client, timeout_s=0.1)
    await control(http, sandbox.courier_url + "/_sandbox/faults", {"hang": True, "path": "/cancel-order"})
    with pytest.raises(TimeoutError):
        await booking.cancel("1001")


async def test_a_wrong_token_is_refused_on_every_order_call(
    sandbox: SandboxServers,  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    booking = CourierBooking(CourierClient(http, base_url=sandbox.courier_url, token=Secret("wrong")))
    with pytest.raises(CarrierAuthError):
        await booking.create(ORDER)
    with pytest.raises(CarrierAuthError):
        await booking.find("SHP-2001")
