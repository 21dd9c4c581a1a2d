from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from router.records import open_database
from router.records.jobs import Done, JobQueue, Later
from router.webhooks import EventType, emit
from router.webhooks.model import WebhookRequest
from router.webhooks.sender import Sender
from tests.receiver import Receiver


async def test_a_delivery_failing_for_24_hours_is_marked_failed_the_lane_moves_on_and_it_can_be_replayed(
    records_url: str, receiver: Receiver
) -> None:
    now = [datetime.now(UTC)]
    async with open_database(records_url) as database, aiohttp.ClientSession() as http:
        sender = Sender(database, http, clock=lambda: now[0])
        hook = await sender.create("key_a", WebhookRequest(url=receiver.url))
        async with database.write() as conn:
            first = await emit(conn, "key_a", "shp_1", EventType.BOOKED, {"status": "booked"})
            await emit(conn, "key_a", "shp_1", EventType.CANCELLED, {"status": "cancelled"})
        queue = JobQueue(database, worker="w", clock=lambda: now[0] + timedelta(days=2))
        receiver.status = 500

        (job,) = await queue.claim()
        assert isinstance(await sender.run(job), Later)  # the first event blocks the second
        now[0] += timedelta(hours=25)
        assert isinstance(await sender.run(job), Later)  # failed for good; the next one is tried, and fails
        states = {d.event_id: d.state for d in (await sender.deliveries("key_a", hook.id)).deliveries}
        assert states[first] == "failed"

        receiver.status = 200
        now[0] += timedelta(hours=1)
        assert await sender.run(job) == Done()
        assert [e["type"] for e in receiver.events()] == ["shipment.cancelled"]

        replayed = await sender.replay("key_a", hook.id, None)
        assert replayed.replayed == 1
        (again,) = await queue.claim()
        assert await sender.run(again) == Done()
        assert [e["type"] for e in receiver.events()] == ["shipment.cancelled", "shipment.booked"]


async def test_an_event_whose_change_rolled_back_was_never_written(records_url: str, receiver: Receiver) -> None:
    async with open_database(records_url) as database, aiohttp.ClientSession() as http:
        sender = Sender(database, http)
        hook = await sender.create("key_a", WebhookRequest(url=receiver.url))
        with pytest.raises(RuntimeError):
            async with database.write() as conn:
                await emit(conn, "key_a", "shp_1", EventType.BOOKED, {})
                raise RuntimeError("the shipment's change failed")

        assert (await sender.deliveries("key_a", hook.id)).deliveries == []
        assert await JobQueue(database).claim() == []


async def test_nothing_is_kept_for_an_owner_without_endpoints_and_a_deleted_endpoint_gets_nothing(
    records_url: str, receiver: Receiver
) -> None:
    async with open_database(records_url) as database, aiohttp.ClientSession() as http:
        sender = Sender(database, http)
        async with database.write() as conn:
            assert await emit(conn, "key_a", "shp_1", EventType.BOOKED, {}) is None
        hook = await sender.create("key_a", WebhookRequest(url=receiver.url, events=[EventType.CANCELLED]))
        async with database.write() as conn:
            assert await emit(conn, "key_a", "shp_1", EventType.BOOKED, {}) is None  # not an event it wants
            assert await emit(conn, "key_a", "shp_1", EventType.CANCELLED, {}) is not None
        await sender.delete("key_a", hook.id)
        (job,) = await JobQueue(database).claim()

        assert await sender.run(job) == Done()
        assert receiver.received == []
        assert [d.state for d in (await sender.deliveries("key_a", hook.id)).deliveries] == ["failed"]
