"""`allocate --book` asks a carrier with an API to collect what it booked: once a warehouse and day.

Against the CDEK emulator over HTTP, configured by TOML as `serve --sandbox` configures it.
"""

from __future__ import annotations

import uuid
from typing import Any

from carriers.sandbox import SandboxServers
from router.cli.booking import Booked, request_pickups
from router.core.models import DeliveryType, Location, Parcel, Policy, PolicyKind
from router.core.models import Shipment as QuoteShipment
from router.core.settings import Settings
from router.quoting.book import OPEN
from router.quoting.wiring import open_engine
from router.shipping.model import Contact, ShipmentRequest, ShipmentStatus
from router.shipping.ordering import read_quote
from router.shipping.shipper import working
from router.tracking.wiring import shipper_for
from tests.router.shipping.test_cdek_bookings import sandbox  # noqa: F401  (the fixture)


async def test_a_cdek_pickup_is_asked_for_the_days_booked_parcels_once(
    sandbox: SandboxServers,  # noqa: F811
    tmp_path: Any,
) -> None:
    settings = sandbox.configure(Settings(state_dir=tmp_path / "state"))
    async with open_engine(settings) as wired, working(shipper_for(wired, settings, lambda _: None)) as shipper:
        shipment = QuoteShipment(
            Location(city="Москва"), Location(city="Новосибирск", address="ул. Ленина, 1"), (Parcel(1200, 30, 20, 10),)
        )
        held = await wired.book.create(wired.engine, shipment, Policy(PolicyKind.CHEAPEST), owner=OPEN)
        quote = read_quote(held.body)
        offer = next(o for o in quote.offers if o.carrier == "cdek" and o.delivery_type is DeliveryType.COURIER)
        booked = []
        for number in ("A-1", "A-2"):
            request = ShipmentRequest(
                quote_id=quote.quote_id,
                offer_id=offer.id,
                order_number=number,
                recipient=Contact(name="Анна Петрова", phone="+7 913 123-45-67"),
                sender=Contact(name="Склад Москва", phone="+7 495 123-45-67"),
                warehouse="MSK",
            )
            answer, _ = await shipper.book(request, owner=OPEN, idempotency_key=str(uuid.uuid4()), readers={OPEN})
            await shipper.runner.drain()
            made = await shipper.get(answer.id, OPEN)
            assert made.status is ShipmentStatus.BOOKED, made.errors
            booked.append(Booked(number, "cdek", "MSK", made.id, made.status, made.ship_date, new=True))

        first = await request_pickups(shipper, booked, OPEN, {"MSK": "ул. Складская, 1"}, ("10:00", "18:00"))
        again = await request_pickups(shipper, booked, OPEN, {"MSK": "ул. Складская, 1"}, ("10:00", "18:00"))
        assert first[0].pickup_id is not None
        await shipper.papers.cancel_pickup(OPEN, first[0].pickup_id)
        without_address = await request_pickups(shipper, booked, OPEN, {}, ("10:00", "18:00"))

    assert len(first) == 1 and first[0].pickup_id and first[0].note == "arranged" and first[0].shipments == 2
    assert [(p.pickup_id, p.note) for p in again] == [(first[0].pickup_id, "asked already")]
    # A cancelled pick-up is asked again, and without a street address it cannot be.
    assert without_address[0].pickup_id is None and "--pickup-address MSK=ADDRESS" in without_address[0].note
