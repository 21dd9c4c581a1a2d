"""What a newcomer does first: `carrier-router serve --sandbox`, then quote, book a pickup-point
offer, print its label and cancel it, with no account anywhere; then watch a parcel travel to
delivered, the shop's webhooks and a CRM (a local stand-in, connected by the CLI) told of each
step, and the lane's learned figures move.

The service runs as a user starts it, in its own process, with the CDEK emulator it starts
itself; the sandbox's offices are synced as it starts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.crm_client import address
from tests.integrations.fake_crm import API_KEY, running_fake_crm
from tests.integrations.test_point_type_prices import CALCULATE
from tests.integrations.test_retailcrm_callbacks import save_payload
from tests.pdfs import THERMAL_DPI, barcodes
from tests.services import ROOT, start_services

PARCEL = {"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}


@dataclass
class Sandboxed:
    url: str
    state: Path

    def cdek_url(self) -> str:
        """The CDEK emulator's address, as the service logs it when it starts the emulators."""
        for line in (self.state / "serve.log").read_text(encoding="utf-8").splitlines():
            if "sandbox emulators listening" in line:
                return str(json.loads(line)["cdek_url"])
        raise AssertionError("the service did not say where its emulators listen")


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxed]:
    state: Path = tmp_path_factory.mktemp("sandbox-state")
    with start_services(state, flags=("--sandbox",), log=True) as (url,):
        yield Sandboxed(url, state)


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def an_office(url: str) -> str:
    deadline = time.monotonic() + 60
    while True:  # the sync at start takes a few seconds
        status, body = call(f"{url}/v1/pickup-points?lat=55.03&lon=82.92&network=cdek&type=pvz&limit=1")
        points = json.loads(body)["points"] if status == 200 else []
        if points:
            return str(points[0]["id"])
        assert time.monotonic() < deadline, "the sandbox's offices were never synced"
        time.sleep(0.5)


def book_an_office(url: str, key: str) -> dict[str, Any]:
    office = an_office(url)
    status, body = call(
        f"{url}/v1/quotes",
        "POST",
        {
            "origin": "Москва",
            "destination": "Новосибирск",
            "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
        },
    )
    assert status in (200, 201)  # a second booking's quote may come from the cache
    quote = json.loads(body)
    offer = next(
        o
        for o in quote["offers"]
        if o["carrier"] == "cdek" and o["delivery_type"] == "pickup" and "pvz" in o.get("point_types", ["pvz"])
    )

    booking = {
        "quote_id": quote["quote_id"],
        "offer_id": offer["id"],
        "pickup_point_id": office,
        "order_number": "first-order",
        "recipient": {"name": "Анна Петрова", "phone": "+7 913 123-45-67"},
        "sender": {"name": "Магазин", "phone": "+7 495 123-45-67"},
    }
    status, body = call(f"{url}/v1/shipments", "POST", booking, {"Idempotency-Key": key})
    assert status == 201, body
    shipment = dict(json.loads(body))
    assert shipment["status"] == "booked" and shipment["price"] == offer["price"]["total"]
    return shipment


def test_a_newcomer_quotes_books_an_office_offer_prints_its_label_and_cancels_it(sandboxed: Sandboxed) -> None:
    url = sandboxed.url
    shipment = book_an_office(url, "newcomer-1")

    status, pdf = call(f"{url}{shipment['label_url']}")
    assert status == 200 and pdf.startswith(b"%PDF")
    assert barcodes(pdf, dpi=THERMAL_DPI) == [shipment["tracking_number"]]

    status, body = call(f"{url}/v1/shipments/{shipment['id']}/cancel", "POST")
    assert status == 200 and json.loads(body)["status"] == "cancelled"


class Hooks(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_booked_parcel_travels_to_delivered_and_the_shop_hears_each_step_signed(sandboxed: Sandboxed) -> None:
    url = sandboxed.url
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        status, body = call(f"{url}/v1/webhooks", "POST", {"url": f"http://127.0.0.1:{receiver.server_port}/hooks"})
        assert status == 201
        secret = json.loads(body)["secret"]
        shipment = book_an_office(url, "traveller-1")

        status, _ = call(f"{sandboxed.cdek_url()}/_sandbox/clock", "POST", {"advance_s": 14 * 86400})
        assert status == 200

        deadline = time.monotonic() + 60
        while True:
            detail = json.loads(call(f"{url}/v1/shipments/{shipment['id']}")[1])
            if detail["tracking_status"] == "delivered":
                break
            assert time.monotonic() < deadline, detail["history"]
            time.sleep(0.5)
        assert [h["status"] for h in detail["history"]][-1] == "delivered"
        while not any(json.loads(b)["data"].get("tracking_status") == "delivered" for _, b in Hooks.received):
            assert time.monotonic() < deadline, "the shop never heard of the delivery"
            time.sleep(0.2)
        for headers, raw in Hooks.received:
            parts = dict(p.split("=", 1) for p in headers["Carrier-Router-Signature"].split(","))
            expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + raw, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(expected, parts["v1"])
        steps = [
            json.loads(b)["data"]["tracking_status"]
            for _, b in Hooks.received
            if json.loads(b)["type"] == "shipment.status_changed"
        ]
        assert steps[-1] == "delivered" and len(steps) >= 3
    finally:
        receiver.shutdown()
        receiver.server_close()


def learned_on(url: str, declared_value: int) -> dict[str, Any] | None:
    """What the office offer from Moscow to Novosibirsk has learned, from a quote of its own (an
    identical request within the cache's TTL would be answered the cached quote)."""
    route = {"origin": "Москва", "destination": "Новосибирск", "declared_value": str(declared_value)}
    status, body = call(f"{url}/v1/quotes", "POST", {**route, "parcels": [PARCEL]})
    assert status in (200, 201), body
    offer = next(o for o in json.loads(body)["offers"] if o["id"] == "cdek:136")
    return offer.get("learned")


def crm_form(url: str, action: str, client_id: str, payload: Any) -> dict[str, Any]:
    """A callback as the CRM makes it: a form with the clientId and the action's JSON."""
    form = urllib.parse.urlencode({"clientId": client_id, action: json.dumps(payload, ensure_ascii=False)})
    request = urllib.request.Request(
        f"{url}/integrations/retailcrm/{action}",
        data=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        answer = json.loads(resp.read())
    assert answer["success"] is True, answer
    return dict(answer)


def test_a_parcel_the_crm_booked_travels_to_delivered_the_crm_hears_each_step_and_the_lane_learns(
    sandboxed: Sandboxed,
) -> None:
    url = sandboxed.url
    office = an_office(url)  # the sandbox's offices are synced
    with running_fake_crm() as crm:
        env = {**os.environ, "CARRIER_ROUTER_STATE": str(sandboxed.state)}
        connect = [sys.executable, "-m", "router.cli", "integrations", "retailcrm", "connect"]
        connect += ["--url", crm.url, "--api-key", API_KEY, "--public-url", url, "--push-statuses"]
        subprocess.run(connect, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
        (registration,) = crm.received
        client_id = registration.module["clientId"]
        before = learned_on(url, 1001)
        cdek = sandboxed.cdek_url()
        # The sandbox's calendar over a month ahead of ours, as after a newcomer has watched a
        # while: what it delivers in a month still to come by our calendar is learned all the same.
        assert call(f"{cdek}/_sandbox/clock", "POST", {"advance_s": 40 * 86400})[0] == 200

        results = crm_form(url, "calculate", client_id, CALCULATE)["result"]
        chosen = next(r for r in results if r["code"] == "cdek:136")
        order = save_payload(chosen, order="crm-1")
        order["packages"] = CALCULATE["packages"]
        order["delivery"]["deliveryAddress"] = {**address("Новосибирск", "630099"), "terminal": office}
        saved = crm_form(url, "save", client_id, order)["result"]
        shipment_id = saved["extraData"]["shipmentId"]

        deadline = time.monotonic() + 60
        while True:  # CDEK decides on an order a moment after it is made
            orders = json.loads(call(f"{cdek}/_sandbox/orders?number={shipment_id}")[1])["orders"]
            status, _ = call(f"{cdek}/_sandbox/orders/{orders[0]['uuid']}/journey", "POST", {"outcome": "delivered"})
            if status == 200:
                break
            assert status == 409 and time.monotonic() < deadline, status
            time.sleep(0.2)
        assert call(f"{cdek}/_sandbox/clock", "POST", {"advance_s": 14 * 86400})[0] == 200

        def pushed() -> list[str]:
            taken = [u for p in crm.taken() for u in p.updates if u["deliveryId"] == saved["deliveryId"]]
            return [h["code"] for h in taken[-1]["history"]] if taken else []

        while not pushed() or pushed()[-1] != "delivered":
            assert time.monotonic() < deadline, pushed()
            time.sleep(0.2)
        after = learned_on(url, 1002)

    # The delivery's whole history, pushed as it grew, under the module's code and in its statuses.
    pushes = [p for p in crm.taken() if any(u["deliveryId"] == saved["deliveryId"] for u in p.updates)]
    assert pushes and {p.subcode for p in pushes} == {"carrier-router"}
    assert {"accepted", "in_transit", "at_pickup_point"} <= set(pushed()) and pushed()[-1] == "delivered"
    assert after is not None and after["sample_size"] == (before["sample_size"] if before else 0) + 1
