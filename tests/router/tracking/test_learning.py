"""The service learns from its own parcels: a lane the CDEK emulator delivers late shows late in
the next quotes on it, with no outcome file anywhere; and each outcome is dated as the carrier
dated its events, each where it happened.

Hundreds of parcels are too many to book one by one through the API in a test; each lane's
parcels are copies of one shipment booked there (as bench/tracking.py plants its polled ones),
each with an order of its own at the emulator, planned there as any order is. Everything after
that is the real path: the emulator's journeys, the service's polls of CDEK's order reads (the
`track` job's own code, run for every parcel at once rather than at the carrier's pace; the
webhook path to the same tracker is tested in test_tracking.py), the tracker, the outcome, the
track record and the quote.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from carriers.sandbox import SandboxServers
from router.core.settings import Settings
from router.http import appkeys as keys
from router.records.jobs import Done, Job
from router.records.tables import shipments
from router.tracking.poller import Poller
from router.tracking.tracker import Tracker
from tests.router.shipping.test_api_shipments import RECIPIENT, SENDER, booking, key, quote
from tests.router.shipping.test_cdek_bookings import cdek_settings, control
from tests.router.tracking.test_tracking import serve
from tests.sandboxes import travelling_sandbox

DOOR = "cdek:137"  # office to door: both lanes by the same tariff, no offices to import
LATE, ON_TIME = "Новосибирск", "Казань"
LATE_DAYS = 6
ON_TIME_PARCELS = 50  # on each lane, before the one goes late
LATE_PARCELS = 200


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServers]:
    async with travelling_sandbox(seed=5) as servers:
        yield servers


def to(city: str, declared_value: int) -> dict[str, Any]:
    """A quote request of its own: identical ones within the cache's TTL get the cached quote."""
    return {
        "origin": {"city": "Москва"},
        "destination": {"city": city, "address": "ул. Ленина, 1"},
        "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
        "declared_value": str(declared_value),
    }


async def door_offer(api: TestClient, city: str, declared_value: int) -> dict[str, Any]:
    quote = await (await api.post("/v1/quotes", json=to(city, declared_value))).json()
    offer = next(o for o in quote["offers"] if o["id"] == DOOR)
    return {"quote_id": quote["quote_id"], **offer}


async def book(api: TestClient, city: str) -> dict[str, Any]:
    offer = await door_offer(api, city, 1000)
    body = {
        "quote_id": offer["quote_id"],
        "offer_id": DOOR,
        "order_number": f"L-{city}",
        "recipient": RECIPIENT,
        "sender": SENDER,
    }
    resp = await api.post("/v1/shipments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    shipment = await resp.json()
    assert resp.status == 201 and shipment["status"] == "booked", shipment
    return dict(shipment)


async def plant(api: TestClient, sandbox: SandboxServers, model: dict[str, Any], n: int) -> list[str]:
    """`n` shipments like `model`, each with an order of its own at the emulator; their ids."""
    orders = sandbox.cdek_orders
    assert orders is not None
    body = orders.orders[model["carrier_order_id"]].body
    records = cast(TestServer, api.server).app[keys.RECORDS]
    async with records.read() as conn:
        row = dict((await conn.execute(sa.select(shipments).where(shipments.c.id == model["id"]))).mappings().one())
    copies, ids = [], []
    for _ in range(n):
        shipment_id = "shp_" + uuid.uuid4().hex[:20]
        order = orders.decide(orders.add({**copy.deepcopy(body), "number": shipment_id}, []))
        assert order.cdek_number is not None
        copies.append(
            {
                **row,
                "id": shipment_id,
                "idempotency_key": shipment_id,
                "carrier_ref": order.uuid,
                "tracking_number": order.cdek_number,
                "tracking_status": None,
                "created_at": datetime.now(UTC),
            }
        )
        ids.append(shipment_id)
    async with records.write() as conn:
        await conn.execute(shipments.insert(), copies)
    return ids


async def polled(api: TestClient, ids: list[str], at_once: int = 8) -> list[str]:
    """Each shipment's `track` job run once, as a worker runs it; the statuses they end at."""
    app = cast(TestServer, api.server).app
    tracker: Tracker = app[keys.TRACKER]
    poller = Poller(tracker, app[keys.SHIPPER].bookings, None, every_s=60)
    todo = iter(ids)

    async def worker() -> None:
        for shipment_id in todo:
            assert isinstance(await poller.run(Job(0, "track", shipment_id, 1)), Done)

    await asyncio.gather(*(worker() for _ in range(at_once)))
    query = sa.select(shipments.c.tracking_status).where(shipments.c.id.in_(ids))
    async with app[keys.RECORDS].read() as conn:
        return list((await conn.execute(query)).scalars())


async def test_a_lane_the_sandbox_delivers_late_shows_it_in_the_next_quotes_and_another_lane_does_not(
    sandbox, tmp_path, monkeypatch
) -> None:
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    api = await serve(settings.with_(tracking_poll_s=0))
    try:
        unknown = {city: await door_offer(api, city, 1500) for city in (LATE, ON_TIME)}
        models = {city: await book(api, city) for city in (LATE, ON_TIME)}
        on_time = [i for city in (LATE, ON_TIME) for i in await plant(api, sandbox, models[city], ON_TIME_PARCELS)]
        # Parcels booked from now on that lane reach Novosibirsk days late (the door's city as
        # the booking sent it to CDEK).
        await control(sandbox, "lanes", {"from": "Moscow", "to": "Novosibirsk", "late_days": LATE_DAYS})
        late = await plant(api, sandbox, models[LATE], LATE_PARCELS)
        await control(sandbox, "clock", {"advance_s": 21 * 86400})

        # The service learns of the on-time parcels first, then of the late ones.
        assert set(await polled(api, on_time)) == {"delivered"}
        before = {city: await door_offer(api, city, 2000) for city in (LATE, ON_TIME)}
        assert set(await polled(api, late)) == {"delivered"}
        after = {city: await door_offer(api, city, 3000) for city in (LATE, ON_TIME)}
    finally:
        await api.close()

    assert unknown[LATE]["learned"] is None and unknown[ON_TIME]["learned"] is None  # no history yet
    was, now = before[LATE]["learned"], after[LATE]["learned"]
    promised = date.fromisoformat(after[LATE]["eta"]["max_date"])  # the tariff's, unchanged
    assert was["sample_size"] == ON_TIME_PARCELS and now["sample_size"] == ON_TIME_PARCELS + LATE_PARCELS
    assert was["on_time_rate"] > 0.7 and date.fromisoformat(was["p50_date"]) <= promised
    # Four parcels in five late: the lane's quotes say so, in their dates and their rate.
    assert now["on_time_rate"] < 0.3 and date.fromisoformat(now["p50_date"]) > promised
    assert date.fromisoformat(now["p95_date"]) > date.fromisoformat(was["p95_date"])
    assert now["badge"] == "none"
    # The other lane, by the same tariff, still keeps its promise.
    other = after[ON_TIME]["learned"]
    assert other["sample_size"] == ON_TIME_PARCELS and other["on_time_rate"] > 0.7
    assert date.fromisoformat(other["p50_date"]) <= date.fromisoformat(after[ON_TIME]["eta"]["max_date"])


async def test_an_outcome_is_dated_where_each_thing_happened_not_in_one_zone(make_api, records_url) -> None:
    api = await make_api(Settings(database_url=records_url))
    q = await quote(api)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=key())).json()
    events = [
        # Late on Tuesday in Moscow, when it is already Wednesday in Novosibirsk.
        {"status": "accepted", "at": "2026-12-01T23:30:00+03:00", "city": "Москва", "text": "Принят"},
        # Early on Thursday in Novosibirsk, still Wednesday in Moscow and in UTC.
        {"status": "delivered", "at": "2026-12-03T01:00:00+07:00", "city": "Новосибирск", "text": "Вручен"},
    ]

    resp = await api.post(f"/v1/shipments/{made['id']}/events", json={"events": events})

    assert resp.status == 200 and (await resp.json())["tracking_status"] == "delivered"
    tally = await cast(TestServer, api.server).app[keys.TRACK_RECORD].tallies("magistral", "door")
    assert tally is not None and tally.delivered == 1
    # Handed over on Tuesday, delivered on Thursday: two working days, as the carrier dated them.
    assert tally.transit[2] == 1
