"""CDEK calls when a label is made: with a public URL the service subscribes to `PRINT_FORM` as
well as `ORDER_STATUS`, keeps the label the call names at once, and tells the shop once however
often the call comes; a call naming a print request that is not ours changes nothing.

The emulator makes its labels an hour after they are asked for here, so nothing but its call
(made at once through its control API) can bring one within a test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestServer

from carriers.sandbox import SandboxServers
from router.http import appkeys as keys
from router.records.tables import jobs
from router.tracking.subscriptions import inbound_url
from tests.receiver import Receiver
from tests.router.shipping.test_cdek_bookings import cdek_settings, control
from tests.router.tracking.test_tracking import TOKEN, book_at_an_office, serve, until
from tests.sandboxes import travelling_sandbox
from tests.services import free_port

LABEL_READY = "shipment.label_ready"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServers]:
    async with travelling_sandbox(print_ready_after_s=3600) as servers:
        yield servers


def print_form_call(print_uuid: str, url: str) -> dict[str, Any]:
    return {
        "type": "PRINT_FORM",
        "date_time": "2026-12-07T12:00:00+0300",
        "uuid": print_uuid,
        "attributes": {"type": "barcode", "url": url},
    }


async def test_a_print_form_call_keeps_the_label_and_the_shop_hears_of_it_once(
    sandbox, tmp_path, monkeypatch, receiver: Receiver
) -> None:
    port = free_port()
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    settings = settings.with_(public_url=f"http://127.0.0.1:{port}", inbound_token=TOKEN, tracking_poll_s=0)
    api = await serve(settings, port)
    try:
        ours = inbound_url(settings.public_url or "", "cdek", TOKEN)

        async def subscribed() -> bool:
            kinds = {s.type for s in sandbox.cdek_journeys.subscriptions.values() if s.url == ours}
            return kinds == {"ORDER_STATUS", "PRINT_FORM"}

        await until(subscribed)
        await api.post("/v1/webhooks", json={"url": receiver.url, "events": [LABEL_READY]})
        shipment = await book_at_an_office(api)
        shipper = cast(TestServer, api.server).app[keys.SHIPPER]

        async def asked() -> str | None:
            # The label job asked CDEK for the label, took one look, and now waits for the call.
            query = sa.select(jobs.c.state, jobs.c.leased_by).where(
                jobs.c.kind == "label", jobs.c.subject == shipment["id"]
            )
            async with shipper.database.read() as conn:
                job = (await conn.execute(query)).first()
            row = await shipper.ledger.get(shipment["id"])
            waiting = job is not None and job.state == "ready" and job.leased_by is None
            return row.label_ref if waiting else None

        print_uuid = await until(asked)
        assert not (await shipper.ledger.get(shipment["id"])).has_label
        await control(sandbox, "webhooks/faults", {"duplicate": 1.0})  # every call comes twice

        await control(sandbox, f"prints/{print_uuid}/ready", {})
        await control(sandbox, "clock", {"advance_s": 0})  # answers once every call queued was sent

        label = await api.get(f"/v1/shipments/{shipment['id']}/label")
        assert label.status == 200 and (await label.read()).startswith(b"%PDF")
        await receiver.wait_for(1)
        told = [e for e in receiver.events() if e["type"] == LABEL_READY]
        assert [e["data"]["id"] for e in told] == [shipment["id"]]
        assert sandbox.cdek.requests[f"/v2/print/barcodes/{print_uuid}.pdf"] == 1  # the duplicate fetched nothing
        assert sandbox.cdek.requests["/v2/print/barcodes"] == 1  # one print request, however often looked at
        row = await shipper.ledger.get(shipment["id"])
        assert row.has_label and row.label_ref is None
    finally:
        await api.close()


async def test_a_print_form_call_for_a_print_request_not_ours_is_answered_and_changes_nothing(
    sandbox, tmp_path, monkeypatch
) -> None:
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    api = await serve(settings.with_(inbound_token=TOKEN, tracking_poll_s=0))
    try:
        other = str(uuid.uuid4())
        call = print_form_call(other, f"{sandbox.cdek_url}/v2/print/barcodes/{other}.pdf")
        resp = await api.post(f"/v1/inbound/cdek/{TOKEN}", json=call)
        assert resp.status == 200 and await resp.json() == {"taken": False}
        assert sandbox.cdek.requests[f"/v2/print/barcodes/{other}.pdf"] == 0  # nothing fetched for it

        wrong = await api.post(f"/v1/inbound/cdek/{TOKEN}", json={**call, "attributes": {"type": "barcode"}})
        problem = await wrong.json()
        assert (
            wrong.status == 422 and problem["errors"][0]["path"] == "body" and "url" in problem["errors"][0]["message"]
        )
    finally:
        await api.close()


async def test_a_print_form_call_with_a_wrong_token_is_not_found(sandbox, tmp_path, monkeypatch) -> None:
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    api = await serve(settings.with_(inbound_token=TOKEN, tracking_poll_s=0))
    try:
        call = print_form_call(str(uuid.uuid4()), f"{sandbox.cdek_url}/v2/print/barcodes/x.pdf")
        async with aiohttp.ClientSession() as http:
            async with http.post(str(api.make_url("/v1/inbound/cdek/not-the-token")), json=call) as resp:
                assert resp.status == 404
    finally:
        await api.close()
