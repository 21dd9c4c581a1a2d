"""The CDEK emulator's parcels travel on its clock, and its webhooks tell a receiver of every step."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import aiohttp
import orjson
import pytest
from aiohttp import web

from carriers.cdek.booking import CdekBooking, read_print_call
from carriers.cdek.statuses import read_webhook
from carriers.sandbox import SandboxJourneys, SandboxOrders, SandboxServers, start_sandbox
from carriers.sandbox.cdek_plans import Stop, plan
from carriers.tracking import Status, TrackingEvent
from tests.carriers.sandbox.test_cdek_orders import an_order, booked, cdek_booking
from tests.carriers.sandbox_fixtures import http  # noqa: F401  (fixture)

DAY_S = 86400
MOSCOW = Stop("Москва", 55.7558, 37.6173)
MOSCOW_EAST = Stop("Москва", 55.7887, 37.7494)
NOVOSIBIRSK = Stop("Новосибирск", 55.0415, 82.9346)


@pytest.fixture
async def servers() -> AsyncIterator[SandboxServers]:
    orders = SandboxOrders(decide_after_s=0, print_ready_after_s=0.03)
    running = await start_sandbox(seed=7, cdek_orders=orders, cdek_journeys=SandboxJourneys(orders, seed=7))
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
def booking(servers: SandboxServers, http: aiohttp.ClientSession) -> CdekBooking:  # noqa: F811
    return cdek_booking(servers, http)


@pytest.fixture
def office(servers: SandboxServers) -> str:
    return next(str(p["code"]) for p in servers.cdek_points.listed() if p["location"]["city"] == "Новосибирск")


class Receiver:
    """A shop's webhook endpoint: what it was sent, in the order it came."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/cdek", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    found.url = f"http://{host}:{port}/cdek"
    try:
        yield found
    finally:
        await runner.cleanup()


async def control(http: aiohttp.ClientSession, servers: SandboxServers, path: str, body: object) -> object:  # noqa: F811
    async with http.post(f"{servers.cdek_url}/_sandbox{path}", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def advance(http: aiohttp.ClientSession, servers: SandboxServers, days: float) -> None:  # noqa: F811
    await control(http, servers, "/clock", {"advance_s": days * DAY_S})


async def subscribe(booking: CdekBooking, url: str) -> str:
    answer = await booking.client.call("POST", "/v2/webhooks", body=orjson.dumps({"type": "ORDER_STATUS", "url": url}))
    return str(orjson.loads(answer)["entity"]["uuid"])


async def test_an_order_advanced_by_the_clock_reaches_delivered_through_a_plausible_sequence(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    uuid = await booked(booking, an_order(office))
    await control(http, servers, f"/orders/{uuid}/journey", {"outcome": "delivered"})
    await advance(http, servers, 1)
    halfway = await booking.follow(uuid)
    assert halfway.events[-1].status in (Status.ACCEPTED, Status.IN_TRANSIT)
    await advance(http, servers, 30)
    state = await booking.follow(uuid)
    codes = [e.carrier_code for e in state.events]
    assert codes[:3] == ["ACCEPTED", "CREATED", "RECEIVED_AT_SHIPMENT_WAREHOUSE"]
    assert codes[-2:] == ["ACCEPTED_AT_PICK_UP_POINT", "DELIVERED"]
    assert "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY" in codes
    assert codes.index("ACCEPTED_IN_RECIPIENT_CITY") > codes.index("TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY")
    assert [e.at for e in state.events] == sorted(e.at for e in state.events)
    assert state.events[-1].status is Status.DELIVERED
    assert state.carrier_status == "DELIVERED"
    # Each step is dated in its own city: the sender's warehouse in Moscow, the end in Novosibirsk.
    received = state.events[2]
    assert (received.city, received.at.utcoffset()) == ("Moscow", timedelta(hours=3))
    assert state.events[-1].at.utcoffset() == timedelta(hours=7)
    # Moscow to Novosibirsk takes days, not hours.
    assert state.events[-1].at - received.at > timedelta(days=2)


async def test_a_returned_parcel_fails_then_travels_back_to_the_sender(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    uuid = await booked(booking, an_order(office))
    await control(http, servers, f"/orders/{uuid}/journey", {"outcome": "returned"})
    await advance(http, servers, 60)
    events = (await booking.follow(uuid)).events
    statuses = [e.status for e in events]
    assert Status.DELIVERED not in statuses
    assert statuses.index(Status.DELIVERY_FAILED) < statuses.index(Status.RETURNING)
    assert events[-1].carrier_code == "RETURNED_TO_SENDER_CITY_WAREHOUSE"
    assert events[-1].status is Status.RETURNED
    assert events[-1].city == "Moscow"  # the order's own spelling of where it came from


async def test_a_lost_parcel_stops_moving_and_never_ends(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    uuid = await booked(booking, an_order(office))
    await control(http, servers, f"/orders/{uuid}/journey", {"outcome": "lost"})
    await advance(http, servers, 10)
    first = (await booking.follow(uuid)).events
    await advance(http, servers, 60)
    later = (await booking.follow(uuid)).events
    assert first == later
    assert later[-1].carrier_code.startswith("SENT_TO_")
    assert not any(e.final for e in later)


async def test_a_subscribed_receiver_hears_of_every_status_in_order(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
    receiver: Receiver,
) -> None:
    await subscribe(booking, receiver.url)
    uuid = await booked(booking, an_order(office, number="shp_hook"))
    await control(http, servers, f"/orders/{uuid}/journey", {"outcome": "delivered"})
    await advance(http, servers, 30)
    calls = [read_webhook(body) for body in receiver.bodies]
    state = await booking.follow(uuid)
    assert [c.event.carrier_code for c in calls] == [e.carrier_code for e in state.events]
    assert {(c.uuid, c.number) for c in calls} == {(uuid, "shp_hook")}
    assert calls[-1].cdek_number == state.tracking_number
    assert calls[-1].event.status is Status.DELIVERED
    assert [c.event for c in calls] == list(state.events)


async def test_duplicates_and_reordering_happen_when_asked(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
    receiver: Receiver,
) -> None:
    await subscribe(booking, receiver.url)
    uuid = await booked(booking, an_order(office))
    await control(http, servers, f"/orders/{uuid}/journey", {"outcome": "delivered"})
    await control(http, servers, "/webhooks/faults", {"duplicate": 1.0, "reorder": True})
    receiver.bodies.clear()
    await advance(http, servers, 30)
    codes = [read_webhook(body).event.carrier_code for body in receiver.bodies]
    assert all(n == 2 for n in Counter(codes).values())
    times = [read_webhook(body).event.at for body in receiver.bodies]
    assert times != sorted(times)
    assert codes[0] == "DELIVERED"  # the newest first
    async with http.delete(f"{servers.cdek_url}/_sandbox/webhooks/faults") as resp:
        assert resp.status == 200


async def test_a_print_form_subscriber_is_called_once_a_label_is_made_and_status_subscribers_are_not(
    booking: CdekBooking,
    office: str,
    receiver: Receiver,
) -> None:
    await booking.subscribe(receiver.url, "PRINT_FORM")
    uuid = await booked(booking, an_order(office))
    print_uuid = await booking.order_label(uuid, "A6")
    loop = asyncio.get_running_loop()
    stop = loop.time() + 10
    while not receiver.bodies:
        assert loop.time() < stop, "no PRINT_FORM call"
        await asyncio.sleep(0.02)
    (body,) = receiver.bodies  # no ORDER_STATUS call: it subscribed to labels only
    call = read_print_call(body, "cdek")
    assert (call.uuid, call.attributes.type) == (print_uuid, "barcode")
    assert (await booking.fetch_label(call.attributes.url)).startswith(b"%PDF")
    looked = await booking.made_label(print_uuid, wait=False)  # a look at the request finds it made too
    assert looked is not None and looked.startswith(b"%PDF")


async def test_subscriptions_are_listed_kept_once_and_deleted(
    booking: CdekBooking,
    receiver: Receiver,
) -> None:
    first = await subscribe(booking, receiver.url)
    assert await subscribe(booking, receiver.url) == first
    listed = orjson.loads(await booking.client.call("GET", "/v2/webhooks"))
    assert listed == [{"uuid": first, "type": "ORDER_STATUS", "url": receiver.url}]
    await booking.client.call("DELETE", f"/v2/webhooks/{first}")
    assert orjson.loads(await booking.client.call("GET", "/v2/webhooks")) == []


async def test_a_bad_subscription_or_clock_move_is_refused(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    from carriers.errors import CarrierApiError

    with pytest.raises(CarrierApiError):
        await booking.client.call("POST", "/v2/webhooks", body=b'{"type": "NOPE", "url": "http://x"}')
    async with http.post(f"{servers.cdek_url}/_sandbox/clock", json={"advance_s": -5}) as resp:
        assert resp.status == 400


async def test_a_running_clock_moves_parcels_and_calls_webhooks_with_nobody_asking(
    http: aiohttp.ClientSession,  # noqa: F811
    receiver: Receiver,
) -> None:
    orders = SandboxOrders(decide_after_s=0)
    journeys = SandboxJourneys(orders, seed=3, returned_share=0, lost_share=0, speed=20 * DAY_S, tick_s=0.01)
    servers = await start_sandbox(cdek_orders=orders, cdek_journeys=journeys)
    try:
        booking = cdek_booking(servers, http)
        await subscribe(booking, receiver.url)
        office = next(str(p["code"]) for p in servers.cdek_points.listed() if p["location"]["city"] == "Новосибирск")
        await booking.create(an_order(office))
        for _ in range(300):
            if any(read_webhook(b).event.status is Status.DELIVERED for b in receiver.bodies):
                break
            await asyncio.sleep(0.01)
        assert read_webhook(receiver.bodies[-1]).event.status is Status.DELIVERED
    finally:
        await servers.close()


def test_longer_lanes_take_longer_and_go_through_a_transit_city() -> None:
    near = plan(MOSCOW, MOSCOW_EAST, door=True, outcome="delivered", rnd=random.Random(1))
    far = plan(MOSCOW, NOVOSIBIRSK, door=True, outcome="delivered", rnd=random.Random(1))
    assert far[-1].after_s - near[-1].after_s > 2 * DAY_S
    assert "SENT_TO_TRANSIT_CITY" in [s.code for s in far]
    assert "SENT_TO_TRANSIT_CITY" not in [s.code for s in near]
    assert [s.code for s in near][-3:] == ["ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE", "TAKEN_BY_COURIER", "DELIVERED"]


def test_outcomes_are_seeded_and_mostly_delivered() -> None:
    def outcomes(seed: int) -> list[str]:
        journeys = SandboxJourneys(SandboxOrders(), seed=seed, returned_share=0.1, lost_share=0.05)
        return [journeys._outcome() for _ in range(2000)]

    assert outcomes(5) == outcomes(5)
    counts = Counter(outcomes(5))
    assert counts["delivered"] > 1600
    assert 100 < counts["returned"] < 300
    assert 40 < counts["lost"] < 160


async def test_a_lane_made_late_delivers_the_parcels_booked_on_it_afterwards_that_much_later(
    servers: SandboxServers,
    booking: CdekBooking,
    http: aiohttp.ClientSession,  # noqa: F811
    office: str,
) -> None:
    before = await booked(booking, an_order(office, number="on-time"))
    await control(http, servers, f"/orders/{before}/journey", {"outcome": "delivered"})
    lanes = await control(http, servers, "/lanes", {"from": "moscow", "to": "НОВОСИБИРСК", "late_days": 5})
    assert lanes == {"lanes": [{"from": "moscow", "to": "новосибирск", "late_days": 5.0}]}
    after = await booked(booking, an_order(office, number="late"))
    await control(http, servers, f"/orders/{after}/journey", {"outcome": "delivered"})
    await advance(http, servers, 30)

    def trunk(events: Sequence[TrackingEvent]) -> timedelta:
        handed = next(e.at for e in events if e.carrier_code == "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY")
        return next(e.at for e in events if e.carrier_code == "ACCEPTED_IN_RECIPIENT_CITY") - handed

    on_time, late = (await booking.follow(before)).events, (await booking.follow(after)).events
    assert on_time[-1].status is late[-1].status is Status.DELIVERED
    # Five days more, less what the lane's jitter (a day either way on this trunk) can take off.
    assert trunk(late) - trunk(on_time) > timedelta(days=3)


async def test_a_lane_is_late_until_put_right_and_a_bad_one_is_refused(
    servers: SandboxServers,
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    url = f"{servers.cdek_url}/_sandbox/lanes"
    await control(http, servers, "/lanes", {"to": "Казань", "late_days": 2})
    assert (await control(http, servers, "/lanes", {"to": "казань", "late_days": 0})) == {"lanes": []}
    await control(http, servers, "/lanes", {"from": "Москва", "to": "Казань", "late_days": 1.5})
    async with http.delete(url) as resp:
        assert resp.status == 200 and (await resp.json()) == {"lanes": []}
    for bad in ({"late_days": 2}, {"to": " ", "late_days": 2}, {"to": "Казань", "late_days": -1}, {"to": "Казань"}):
        async with http.post(url, json=bad) as resp:
            assert resp.status == 400, bad
    async with http.get(url) as resp:
        assert (await resp.json()) == {"lanes": []}
