"""Open shipments polled at their carrier, one job a shipment, within the carrier's rate limit.

Each booked shipment of a carrier with an API has a `track` job, first due one interval after
booking and again an interval after each poll until its status is final. Jobs are claimed like
any other (`router.records.jobs`), so the polls spread over every worker and no shipment is polled
twice in an interval. A carrier's polls are counted in the shared store per minute; a poll over the
limit waits for the window to allow it rather than being sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from carriers.booking import BookingApi
from carriers.errors import CarriersError
from carriers.tracking import Status, final
from router.core.errors import RateLimited
from router.records.jobs import Done, Job, Later, Outcome
from router.shipping.model import ShipmentStatus
from router.store.rate_limit import RateLimiter
from router.tracking.tracker import Tracker

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = 600


class Poller:
    def __init__(
        self,
        tracker: Tracker,
        bookings: Mapping[str, BookingApi],
        limiter: RateLimiter | None,
        *,
        every_s: float,
        per_minute: Mapping[str, int] | None = None,
    ) -> None:
        self.tracker = tracker
        self.bookings = bookings
        self.limiter = limiter
        self.every_s = every_s
        self.per_minute = dict(per_minute or {})

    async def run(self, job: Job) -> Outcome:
        row = await self.tracker.ledger.get(job.subject)
        api = self.bookings.get(row.carrier)
        if row.status is not ShipmentStatus.BOOKED or api is None or row.carrier_ref is None:
            return Done()
        if row.tracking_status is not None and final(Status(row.tracking_status)):
            return Done()
        if self.limiter is not None:
            try:
                await self.limiter.check(f"poll:{row.carrier}", self.per_minute.get(row.carrier, DEFAULT_PER_MINUTE))
            except RateLimited as wait:
                return Later(wait.retry_after_s)
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
