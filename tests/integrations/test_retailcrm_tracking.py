"""The CRM sees the parcel move: each status change of a shipment its delivery booked is pushed
to the CRM's tracking endpoint, in codes the module declared, and reaches a CRM that was down."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from carriers.tracking import Status, TrackingEvent
from router.http import appkeys as keys
from router.integrations.retailcrm.pushes import PUSH, subject
from router.integrations.retailcrm.registration import integration_module
from tests.integrations.conftest import Connected, StartCrm
from tests.integrations.fake_crm import API_KEY, FakeCrm, running_fake_crm
from tests.integrations.test_retailcrm_callbacks import calculated, pick, save_payload

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest

YEKATERINBURG = timezone(timedelta(hours=5))
START = datetime(2026, 12, 1, 10, 0, tzinfo=YEKATERINBURG)


@pytest.fixture
def crm() -> Iterator[FakeCrm]:
    with running_fake_crm() as fake:
        yield fake


def event(status: Status, hours: int, text: str = "", city: str | None = None) -> TrackingEvent:
    return TrackingEvent(
        "demo", status.value.upper(), text or status.value, status, START + timedelta(hours=hours), city
    )


def app_of(connected: Connected) -> web.Application:
    return cast(TestServer, connected.api.server).app


async def booked(connect_crm: StartCrm, crm: FakeCrm, **account: Any) -> tuple[Connected, dict[str, Any]]:
    connected, results = await calculated(connect_crm, crm_url=crm.url, **account)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    assert saved["status"] == "booked"
    return connected, saved


async def moved(connected: Connected, shipment_id: str, *events: TrackingEvent) -> None:
    app = app_of(connected)
    assert await app[keys.TRACKER].take(shipment_id, list(events), "manual")
    await app[keys.SHIPPER].runner.drain()


async def until(check: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.05)


def declared(connected: Connected) -> dict[str, dict[str, Any]]:
    """The statusList the module registers, by code."""
    module = integration_module(connected.account, "client-id", "https://router.example.com", "Carrier Router")
    return {s["code"]: s for s in module["integrations"]["delivery"]["statusList"]}


async def test_each_status_change_pushes_the_deliverys_whole_history_to_the_crm(
    connect_crm: StartCrm, crm: FakeCrm
) -> None:
    connected, saved = await booked(connect_crm, crm, api_key=API_KEY)
    shipment_id = saved["extraData"]["shipmentId"]
    await moved(connected, shipment_id, event(Status.ACCEPTED, 0, "Принят на склад", "Москва"))
    await moved(connected, shipment_id, event(Status.IN_TRANSIT, 5, "В пути", "Казань"))
    first, second = crm.taken()
    assert first.subcode == second.subcode == connected.account.module_code and first.api_key == API_KEY
    (update,) = second.updates
    assert update["deliveryId"] == saved["deliveryId"] and update["trackNumber"] == saved["trackNumber"]
    assert update["history"] == [
        {"code": "accepted", "updatedAt": "2026-12-01 08:00:00", "comment": "Принят на склад, Москва"},
        {"code": "in_transit", "updatedAt": "2026-12-01 13:00:00", "comment": "В пути, Казань"},
    ]
    assert first.updates[0]["history"] == update["history"][:1]
    assert {h["code"] for h in update["history"]} <= declared(connected).keys()


async def test_a_crm_that_is_down_gets_the_statuses_when_it_is_back(connect_crm: StartCrm, crm: FakeCrm) -> None:
    connected, saved = await booked(connect_crm, crm, api_key=API_KEY)
    shipment_id = saved["extraData"]["shipmentId"]
    crm.down = True
    await moved(connected, shipment_id, event(Status.DELIVERED, 30, "Вручен", "Казань"))
    assert [p.answered for p in crm.pushes] == [503] and not crm.taken()
    queue = app_of(connected)[keys.SHIPPER].queue
    state = await queue.state(PUSH, subject(connected.account.id, shipment_id))
    assert state is not None and state[0] == "ready" and "503" in str(state[2])
    crm.down = False
    await until(lambda: bool(crm.taken()))
    (update,) = crm.taken()[0].updates
    assert update["deliveryId"] == saved["deliveryId"] and [h["code"] for h in update["history"]] == ["delivered"]


async def test_every_status_of_the_language_is_pushed_under_a_code_the_module_declared(
    connect_crm: StartCrm, crm: FakeCrm
) -> None:
    connected, saved = await booked(connect_crm, crm, api_key=API_KEY)
    await moved(connected, saved["extraData"]["shipmentId"], *(event(s, n) for n, s in enumerate(Status)))
    (push,) = crm.taken()
    codes = [h["code"] for h in push.updates[0]["history"]]
    assert codes == [s.value for s in Status]
    statuses = declared(connected)
    assert set(codes) <= statuses.keys()
    assert {code for code in codes if statuses[code]["isError"]} == {"delivery_failed", "lost", "damaged"}


async def test_an_account_keeping_no_api_key_is_told_to_connect_again_and_nothing_is_sent(
    connect_crm: StartCrm, crm: FakeCrm
) -> None:
    connected, saved = await booked(connect_crm, crm)
    shipment_id = saved["extraData"]["shipmentId"]
    await moved(connected, shipment_id, event(Status.ACCEPTED, 0))
    state = await app_of(connected)[keys.SHIPPER].queue.state(PUSH, subject(connected.account.id, shipment_id))
    assert state is not None and state[0] == "failed" and "--push-statuses" in str(state[2])
    assert not crm.pushes


async def test_a_shipment_of_no_crm_account_schedules_no_push(connect_crm: StartCrm, crm: FakeCrm) -> None:
    connected, saved = await booked(connect_crm, crm, api_key=API_KEY)
    app = app_of(connected)
    shipment_id = saved["extraData"]["shipmentId"]
    # Its owner is no longer a connected account: there is no CRM to tell.
    await connected.book.remove(connected.account.id)
    await moved(connected, shipment_id, event(Status.ACCEPTED, 0))
    assert await app[keys.SHIPPER].queue.state(PUSH, subject(connected.account.id, shipment_id)) is None
    assert not crm.pushes


async def test_a_new_city_under_the_same_status_reaches_the_crm_and_a_duplicate_pushes_nothing(
    connect_crm: StartCrm, crm: FakeCrm
) -> None:
    connected, saved = await booked(connect_crm, crm, api_key=API_KEY)
    shipment_id = saved["extraData"]["shipmentId"]
    await moved(connected, shipment_id, event(Status.IN_TRANSIT, 1, "Отправлен в транзит", "Москва"))
    app = app_of(connected)
    onward = event(Status.IN_TRANSIT, 20, "Принят в транзитном городе", "Екатеринбург")
    assert not await app[keys.TRACKER].take(shipment_id, [onward], "webhook")  # no change of status
    await app[keys.SHIPPER].runner.drain()
    assert [h["comment"] for h in crm.taken()[-1].updates[0]["history"]] == [
        "Отправлен в транзит, Москва",
        "Принят в транзитном городе, Екатеринбург",
    ]
    assert [h["code"] for h in crm.taken()[-1].updates[0]["history"]] == ["in_transit", "in_transit"]
    pushed = len(crm.pushes)
    assert not await app[keys.TRACKER].take(shipment_id, [onward], "webhook")  # the same event again
    await app[keys.SHIPPER].runner.drain()
    assert len(crm.pushes) == pushed
