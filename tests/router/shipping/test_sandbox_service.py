"""What a newcomer does first: `carrier-router serve --sandbox`, then quote, book a pickup-point
offer, print its label and cancel it, with no account anywhere.

The service runs as a user starts it, in its own process, with the CDEK emulator it starts
itself; the sandbox's offices are synced as it starts.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pdfs import THERMAL_DPI, barcodes
from tests.services import start_services


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state: Path = tmp_path_factory.mktemp("sandbox-state")
    with start_services(state, flags=("--sandbox",)) as (url,):
        yield url


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


def test_a_newcomer_quotes_books_an_office_offer_prints_its_label_and_cancels_it(sandboxed: str) -> None:
    url = sandboxed
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
    assert status == 201
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
    status, body = call(f"{url}/v1/shipments", "POST", booking, {"Idempotency-Key": "newcomer-1"})
    assert status == 201, body
    shipment = json.loads(body)
    assert shipment["status"] == "booked" and shipment["price"] == offer["price"]["total"]

    status, pdf = call(f"{url}{shipment['label_url']}")
    assert status == 200 and pdf.startswith(b"%PDF")
    assert barcodes(pdf, dpi=THERMAL_DPI) == [shipment["tracking_number"]]

    status, body = call(f"{url}/v1/shipments/{shipment['id']}/cancel", "POST")
    assert status == 200 and json.loads(body)["status"] == "cancelled"
