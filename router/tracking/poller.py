"""Open shipments polled at their carrier, one job a shipment, within the carrier's rate limit.

Each booked shipment of a carrier with an API has a `track` job, first due one interval after
booking and again an interval after each poll until its status is final. Jobs are claimed like
any other (`router.records.jobs`), so the polls spread over every worker and no shipment is polled
twice in an interval.

A carrier's polls are counted in the shared store by the second, a sixty-first of its per-minute
limit allowed in each (any 60 s touch at most 61 seconds' counts, so no minute, however it is
cut, holds more than the limit): a poll over it is not sent and comes back within two seconds, at
a random moment so that refused polls do not all return together, and sooner than a polled
shipment's next turn, so that the shipments waiting go first. Counting by the second (rather than
over a sliding minute) means refusals, which are counted too, weigh on no later second: when more
polls are due than the limit allows, they are sent at the limit's pace, never starved.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping

from carriers.booking import BookingApi
from carriers.errors import CarriersError
from carriers.tracking import Status, final
from router.records.jobs import Done, Job, Later, Outcome
from router.shipping.model import ShipmentStatus
from router.store import Store, StoreError
from router.tracking.tracker import Tracker

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 600
REFUSED_BACK_S = (0.2, 2.0)


class Poller:
    def __init__(
        self,
        tracker: Tracker,
        bookings: Mapping[str, BookingApi],
        store: Store | None,
        *,
        every_s: float,
        per_minute: Mapping[str, int] | None = None,
    ) -> None:
        self.tracker = tracker
        self.bookings = bookings
        self.store = store
        self.every_s = every_s
        self.per_minute = dict(per_minute or {})

    async def _allowed(self, carrier: str) -> bool:
        per_second = max(1, self.per_minute.get(carrier, DEFAULT_PER_MINUTE) // 61)
        second = int(time.time())
        assert self.store is not None
        try:
            sent = await self.store.incr(f"poll:{carrier}:{second}", 2.0)
        except StoreError:
            return True  # a poll is only a read; the carrier's own limit answers 429 if it must
        return sent <= per_second

    async def run(self, job: Job) -> Outcome:
        row = await self.tracker.ledger.get(job.subject)
        api = self.bookings.get(row.carrier)
        if row.status is not ShipmentStatus.BOOKED or api is None or row.carrier_ref is None:
            return Done()
        if row.tracking_status is not None and final(Status(row.tracking_status)):
            return Done()
        if self.store is not None and not await self._allowed(row.carrier):
            return Later(random.uniform(*REFUSED_BACK_S))
        try:
            state = await api.follow(row.carrier_ref)
        except CarriersError as exc:
            log.info("tracking: %s not polled (%s); again in %g s", row.id, exc, self.every_s)
            return Later(self.every_s)
        await self.tracker.take(row.id, state.events, "poll")
        latest = (await self.tracker.ledger.get(row.id)).tracking_status
        if latest is not None and final(Status(latest)):
            return Done()
        return Later(self.every_s)
