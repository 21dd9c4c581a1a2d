"""CdekBooking against the CDEK emulator over real HTTP: orders, refusals, labels, pick-ups, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, time
from typing import Any

import aiohttp
import pypdfium2  # type: ignore[import-untyped]
import pytest
import zxingcpp

from carriers.api import Secret
from carriers.booking import BookingApi, CancelRefused, CarrierOrder, IntakeRequest, OrderParcel, OrderStatus
from carriers.cdek.booking import CdekBooking
from carriers.cdek.client import CdekClient
from carriers.errors import CarrierApiError, CarrierUnavailable
from carriers.registry import load_booking
from carriers.sandbox import SandboxOrders, SandboxServers, start_sandbox
from router.core.models import DeliveryType
from router.core.settings import Settings
from tests.carriers.cdek.test_booking import MUG, SENDER, pickup_order
from tests.carriers.sandbox_fixtures import MOSCOW_EAST, http  # noqa: F401  (fixtures)

LABEL_PAUSES_S = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)


@pytest.fixture
async def servers() -> AsyncIterator[SandboxServers]:
    orders = SandboxOrders(decide_after_s=0, print_ready_after_s=0.03)
    running = await start_sandbox(seed=7, cdek_orders=orders)
    try:
        yield running
    finally:
        await running.close()


def cdek_booking(servers: SandboxServers, http: aiohttp.ClientSession) -> CdekBooking:
    client = CdekClient(
        http,
        client_id=Secret(servers.cdek_client_id),
        client_secret=Secret(servers.cdek_client_secret),
        base_url=servers.cdek_url,
    )
    return CdekBooking(client, timeout_s=5.0, label_poll_pauses_s=LABEL_PAUSES_S)


@pytest.fixture
def booking(servers: SandboxServers, http: aiohttp.ClientSession) -> CdekBooking:  # noqa: F811
    return cdek_booking(servers, http)


@pytest.fixture
def office(servers: SandboxServers) -> str:
    """A Novosibirsk office the emulator lists."""
    return next(str(p["code"]) for p in servers.cdek_points.listed() if p["location"]["city"] == "Новосибирск")


def an_order(office: str, **changes: Any) -> CarrierOrder:
    return pickup_order(**{"pickup_point_id": office, **changes})


async def booked(booking: CdekBooking, order: CarrierOrder) -> str:
    created = await booking.create(order)
    state = await booking.follow(created.carrier_ref)
    assert state.status is OrderStatus.BOOKED, state
    return state.carrier_ref


async def carrier_orders(servers: SandboxServers, http: aiohttp.ClientSession, number: str) -> int:  # noqa: F811
    async with http.get(f"{servers.cdek_url}/_sandbox/orders", params={"number": number}) as resp:
        return int((await resp.json())["count"])


async def hand_over(servers: SandboxServers, http: aiohttp.ClientSession, uuid: str) -> None:  # noqa: F811
    url = f"{servers.cdek_url}/_sandbox/orders/{uuid}/status"
    async with http.post(url, json={"code": "RECEIVED_AT_SHIPMENT_WAREHOUSE"}) as resp:
        assert resp.status == 200


def test_the_configured_cdek_account_books_and_no_config_books_nothing(
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    booking = load_booking(servers.configure(Settings()), http)
    assert isinstance(booking["cdek"], CdekBooking)
    assert isinstance(booking["cdek"], BookingApi)
    assert booking["cdek"].prints_labels
    assert load_booking(Settings(), http) == {}


async def test_an_order_is_accepted_then_booked_with_a_ten_digit_tracking_number(
    booking: CdekBooking, office: str
) -> None:
    created = await booking.create(an_order(office))
    assert created.status is OrderStatus.PENDING
    assert created.carrier_ref
    state = await booking.follow(created.carrier_ref)
    assert state.status is OrderStatus.BOOKED
    assert state.carrier_ref == created.carrier_ref
    assert state.tracking_number is not None and len(state.tracking_number) == 10
    assert state.tracking_number.isdigit()
    assert state.carrier_status == "CREATED"


async def test_an_order_stays_pending_until_cdek_has_decided(http: aiohttp.ClientSession, office: str) -> None:  # noqa: F811
    now = [0.0]
    running = await start_sandbox(cdek_orders=SandboxOrders(decide_after_s=0.2, clock=lambda: now[0]))
    try:
        booking = cdek_booking(running, http)
        created = await booking.create(an_order(office))
        assert (await booking.follow(created.carrier_ref)).status is OrderStatus.PENDING
        now[0] = 0.2
        assert (await booking.follow(created.carrier_ref)).status is OrderStatus.BOOKED
    finally:
        await running.close()


async def refused(booking: CdekBooking, order: CarrierOrder) -> dict[str, str]:
    created = await booking.create(order)
    state = await booking.follow(created.carrier_ref)
    assert state.status is OrderStatus.INVALID
    assert state.tracking_number is None
    return {e.code: e.message for e in state.errors}


async def test_a_recipient_phone_that_is_not_a_number_is_refused_naming_the_field(
    booking: CdekBooking, office: str
) -> None:
    order = an_order(office, recipient=replace(pickup_order().recipient, phone="call me"))
    errors = await refused(booking, order)
    assert "recipient.phones[0].number" in errors["v2_invalid_format"]


async def test_an_office_tariff_with_an_unknown_office_or_none_is_refused(booking: CdekBooking, office: str) -> None:
    unknown = await refused(booking, an_order("NO-SUCH-OFFICE"))
    assert unknown["delivery_location_is_not_recognized"].startswith("delivery_point")
    # Tariff 136 delivers to an office; sent as a courier order, it names an address and no office.
    to_a_door = an_order(office, delivery_type=DeliveryType.COURIER, destination=MOSCOW_EAST, pickup_point_id=None)
    missing = await refused(booking, to_a_door)
    assert missing["v2_order_location_to_and_delivery_point_empty"].startswith("delivery_point")


async def test_a_package_over_thirty_kilograms_is_refused(booking: CdekBooking, office: str) -> None:
    heavy = (OrderParcel("1", 31_000, 60, 40, 40, items=(replace(MUG, weight_g=15_500),)),)
    errors = await refused(booking, an_order(office, parcels=heavy))
    assert errors["v2_invalid_format"].startswith("packages[0].weight")


async def test_a_second_order_with_the_same_number_is_refused_and_the_first_is_found(
    booking: CdekBooking,
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    first = await booked(booking, an_order(office))
    errors = await refused(booking, an_order(office))
    assert "number" in errors["v2_similar_order_exists"]
    found = await booking.find("shp_0001")
    assert found is not None
    assert found.carrier_ref == first
    assert found.status is OrderStatus.BOOKED


async def test_a_number_never_booked_is_not_found(booking: CdekBooking) -> None:
    assert await booking.find("shp_never") is None


async def test_an_order_cancels_until_the_parcel_is_handed_over(
    booking: CdekBooking,
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    cancelled = await booked(booking, an_order(office))
    await booking.cancel(cancelled)
    assert (await booking.follow(cancelled)).status is OrderStatus.CANCELLED

    handed = await booked(booking, an_order(office, number="shp_0002"))
    await hand_over(servers, http, handed)
    with pytest.raises(CancelRefused) as caught:
        await booking.cancel(handed)
    assert "RECEIVED_AT_SHIPMENT_WAREHOUSE" in caught.value.reason
    assert (await booking.follow(handed)).status is OrderStatus.BOOKED


def barcodes_in(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    return [result.text for result in zxingcpp.read_barcodes(image)]


async def test_the_label_is_a_pdf_whose_barcode_is_the_tracking_number(booking: CdekBooking, office: str) -> None:
    uuid = await booked(booking, an_order(office))
    tracking = (await booking.follow(uuid)).tracking_number
    pdf = await booking.label(uuid, "A6")
    assert pdf is not None
    assert pdf.startswith(b"%PDF")
    assert barcodes_in(pdf) == [tracking]


async def test_a_label_not_made_in_time_is_none(http: aiohttp.ClientSession, office: str) -> None:  # noqa: F811
    running = await start_sandbox(cdek_orders=SandboxOrders(decide_after_s=0, print_ready_after_s=60))
    try:
        booking = cdek_booking(running, http)
        booking._label_pauses_s = (0.0, 0.01)
        uuid = await booked(booking, an_order(office))
        assert await booking.label(uuid, "A6") is None
    finally:
        await running.close()


async def test_the_label_pdf_is_not_given_without_the_token(
    booking: CdekBooking,
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    uuid = await booked(booking, an_order(office))
    assert await booking.label(uuid, "A6") is not None
    (form_uuid,) = servers.cdek_orders.prints
    async with http.get(f"{servers.cdek_url}/v2/print/barcodes/{form_uuid}.pdf") as resp:
        assert resp.status == 401


async def test_a_pick_up_is_requested_and_cancelled(booking: CdekBooking, servers: SandboxServers) -> None:
    intake = IntakeRequest(
        number="pk_1",
        day=date(2025, 4, 14),
        time_from=time(10, 0),
        time_to=time(14, 0),
        origin=MOSCOW_EAST,
        sender=SENDER,
        weight_g=2400,
        parcels=2,
    )
    ref = await booking.request_intake(intake)
    assert servers.cdek_orders.intakes[ref]["intake_date"] == "2025-04-14"
    await booking.cancel_intake(ref)
    assert servers.cdek_orders.intakes[ref]["statuses"][0]["code"] == "REMOVED"


async def test_a_500_after_the_order_was_made_is_found_by_number_and_never_booked_twice(
    booking: CdekBooking,
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    fault = {"status": 500, "after_handling": True, "count": 1, "path": "/v2/orders"}
    async with http.post(f"{servers.cdek_url}/_sandbox/faults", json=fault) as resp:
        assert resp.status == 200
    order = an_order(office)
    with pytest.raises(CarrierUnavailable):
        await booking.create(order)
    found = await booking.find(order.number)
    assert found is not None
    assert (await booking.follow(found.carrier_ref)).status is OrderStatus.BOOKED
    assert await carrier_orders(servers, http, order.number) == 1


async def test_after_handling_needs_a_status_to_answer_with(
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    async with http.post(f"{servers.cdek_url}/_sandbox/faults", json={"after_handling": True}) as resp:
        assert resp.status == 400
        assert "status" in (await resp.json())["error"]


async def test_an_expired_token_is_replaced_once_and_the_order_still_goes_through(
    booking: CdekBooking, servers: SandboxServers, office: str
) -> None:
    await booked(booking, an_order(office))
    servers.cdek.expire_tokens()
    await booked(booking, an_order(office, number="shp_0002"))
    assert booking.client.token_requests == 2


async def test_the_token_is_never_sent_for_a_print_form_on_another_host(booking: CdekBooking) -> None:
    with pytest.raises(CarrierApiError, match="is not on"):
        await booking.client.fetch_pdf("https://elsewhere.example/v2/print/barcodes/x.pdf")
