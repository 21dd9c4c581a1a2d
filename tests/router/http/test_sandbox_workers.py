"""`carrier-router serve --sandbox --workers 2`: the workers share one set of emulators, so an order
booked through one worker is known to whichever worker follows it, cancels it or polls it."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.router.shipping.test_sandbox_service import Sandboxed, an_office, book_an_office, call, learned_on
from tests.services import start_services


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Sandboxed]:
    state: Path = tmp_path_factory.mktemp("sandbox-workers")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CARRIER_ROUTER_REDIS_PREFIX", f"test-workers-{secrets.token_hex(4)}:")
        # One worker syncs the sandbox's offices as it starts; the other reads them from the records.
        env.setenv("CARRIER_ROUTER_POINTS_RELOAD_S", "1")
        flags = ("--sandbox", "--workers", "2", "--redis-url", redis_url)
        with start_services(state, flags=flags, log=True) as (url,):
            an_office(url)
            time.sleep(2.5)
            yield Sandboxed(url, state)


def test_two_sandbox_workers_share_one_emulator_and_book_through_it(two_workers: Sandboxed) -> None:
    url = two_workers.url
    shipments = [book_an_office(url, f"workers-{i}") for i in range(4)]
    # Every booking answered with a CDEK number: the worker that followed each order (either
    # one) asked the emulator the order was sent to.
    assert all(s["tracking_number"] for s in shipments)
    for shipment in shipments:
        status, body = call(f"{url}/v1/shipments/{shipment['id']}/cancel", "POST")
        assert status == 200 and json.loads(body)["status"] == "cancelled", body
    started = [
        json.loads(line)
        for line in (two_workers.state / "serve.log").read_text(encoding="utf-8").splitlines()
        if "sandbox emulators listening" in line
    ]
    assert len(started) == 1, started


def test_sandbox_workers_learn_what_the_sandbox_delivers_a_month_ahead_of_the_calendar(
    two_workers: Sandboxed,
) -> None:
    url = two_workers.url
    cdek = two_workers.cdek_url()
    # Parcels booked now are handed over and delivered in a month still to come by our calendar.
    assert call(f"{cdek}/_sandbox/clock", "POST", {"advance_s": 40 * 86400})[0] == 200
    shipment = book_an_office(url, "learner-1")
    status, _ = call(f"{cdek}/_sandbox/orders/{shipment['carrier_order_id']}/journey", "POST", {"outcome": "delivered"})
    assert status == 200
    assert call(f"{cdek}/_sandbox/clock", "POST", {"advance_s": 14 * 86400})[0] == 200

    deadline = time.monotonic() + 60
    learned = None
    for declared_value in itertools.count(1000):
        # Each worker sees the other's outcome within its cache's few seconds.
        learned = learned_on(url, declared_value)
        if learned is not None:
            break
        assert time.monotonic() < deadline, "the delivered parcel was never learned"
        time.sleep(0.5)
    detail = json.loads(call(f"{url}/v1/shipments/{shipment['id']}")[1])
    assert detail["tracking_status"] == "delivered"
    assert learned is not None and learned["sample_size"] == 1
