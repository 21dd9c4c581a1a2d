"""Open shipments polled at their carrier, one job a shipment, within the carrier's rate limit.

Each booked shipment of a carrier with an API has a `track` job, first due one interval after
booking and again an interval after each poll until its status is final. Jobs are claimed like
any other (`router.records.jobs`), so the polls spread over every worker and no shipment is polled
twice in an interval.

A carrier's limit is its `polls_per_minute` in the carriers TOML (600 unless set). Its polls are
counted in the shared store by window: a second for any limit of 61 a minute or more, with a
sixty-first of the limit allowed in each (any 60 s touch at most 61 seconds' counts, so no
minute, however it is cut, holds more than the limit); longer windows for a lower limit
(`pace`). Refusals weigh on no later window, so when more polls are due than the limit allows
they are sent at the limit's pace, never starved.

Oldest due first. Jobs are claimed in order of due time, and a poll that may not go yet is held,
not put back: it keeps its due time, so it is first in line when the next window opens, and the
worker claims none of that carrier's polls until then (rather than claiming them only to be
refused). Each window's allowance goes to the polls due no later than the last it covers: the
first poll to ask in a window reads that due time from the records (the allowance-th oldest of
the carrier's polls waiting) and leaves it in the store, so that a poll claimed on any worker
that is due after it is held, even while the count has room, and one claimed elsewhere that is
due before it is not crowded out. Polls due at the same moment, and those claimed together on one
worker, take the count in the order they were claimed. So a shipment is polled again only once
every shipment of its carrier due before it has been polled (docs/tracking.md, "the tolerance").
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from carriers.booking import BookingApi
from carriers.config import DEFAULT_POLLS_PER_MINUTE
from carriers.errors import CarriersError
from carriers.tracking import Status, final
from router.records.jobs import READY, Done, Hold, Job, Lane, Later, Outcome
from router.records.tables import jobs, shipments
from router.shipping.model import ShipmentStatus
from router.store import Store, StoreError
from router.tracking.tracker import Tracker

log = logging.getLogger(__name__)

DEFAULT_PER_MINUTE = DEFAULT_POLLS_PER_MINUTE
LONGEST_WINDOW_S = 60


def pace(per_minute: int) -> tuple[int, int]:
    """(window in seconds, polls allowed in each) for at most `per_minute` in any 60 s, however cut.

    Any 60 s touch at most ceil(60 / w) + 1 windows of w seconds. From 61 a minute, windows of a
    second; below, the window that allows the most polls a minute (the shortest among equals)."""
    if per_minute >= 61:
        return 1, per_minute // 61
    best = (LONGEST_WINDOW_S, 1)
    for window_s in range(1, LONGEST_WINDOW_S + 1):
        allowed = per_minute // (math.ceil(60 / window_s) + 1)
        if allowed >= 1 and allowed * best[0] > best[1] * window_s:
            best = (window_s, allowed)
    return best


class _Line:
    """Polls decide in the order they were claimed (oldest due first), each after those before it."""

    def __init__(self) -> None:
        self._tickets = itertools.count()
        self._open: list[int] = []
        self._moved = asyncio.Event()

    def ticket(self) -> int:
        ticket = next(self._tickets)
        self._open.append(ticket)
        return ticket

    async def turn(self, ticket: int) -> None:
        while self._open[0] != ticket:
            moved = self._moved
            await moved.wait()

    def leave(self, ticket: int) -> None:
        if ticket in self._open:
            self._open.remove(ticket)
            self._moved.set()
            self._moved = asyncio.Event()


class Poller:
    def __init__(
        self,
        tracker: Tracker,
        bookings: Mapping[str, BookingApi],
        store: Store | None,
        *,
        every_s: float,
        per_minute: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tracker = tracker
        self.bookings = bookings
        self.store = store
        self.every_s = every_s
        self.per_minute = dict(per_minute or {})
        self._clock = clock
        self._line = _Line()
        self._last: dict[str, tuple[str, float]] = {}  # by carrier: the window's key, its last due time

    async def _allowed(self, carrier: str) -> float | None:
        """None when a poll of `carrier` may be sent now; else the seconds until its next window."""
        window_s, allowed = pace(self.per_minute.get(carrier, DEFAULT_PER_MINUTE))
        now = self._clock()
        window = int(now // window_s)
        assert self.store is not None
        try:
            sent = await self.store.incr(f"poll:{carrier}:{window_s}:{window}", window_s + 1.0)
        except StoreError:
            return None  # a poll is only a read; the carrier's own limit answers 429 if it must
        return None if sent <= allowed else (window + 1) * window_s - now

    async def _behind(self, job: Job, carrier: str) -> float | None:
        """Seconds until the next window when polls of `carrier` due before this one take all of
        this window's allowance, whichever worker holds them; else None.

        The window's first poll to ask reads where its allowance ends, the due time of the last
        poll it covers, and leaves it in the store for every worker."""
        if job.due is None or self.store is None:
            return None
        window_s, allowed = pace(self.per_minute.get(carrier, DEFAULT_PER_MINUTE))
        now = self._clock()
        window = int(now // window_s)
        key = f"poll:{carrier}:{window_s}:{window}:last"
        known = self._last.get(carrier)
        if known is not None and known[0] == key:
            last = known[1]
        else:
            try:
                stored = await self.store.get(key)
                if stored is None:
                    last = await self._last_due(job.kind, carrier, allowed, now, window * window_s)
                    if not await self.store.add(key, repr(last).encode(), window_s + 1.0):
                        stored = await self.store.get(key)
                if stored is not None:
                    last = float(stored)
            except StoreError:
                return None  # the count alone still holds the limit
            self._last[carrier] = (key, last)
        return None if job.due.timestamp() <= last else (window + 1) * window_s - now

    async def _last_due(self, kind: str, carrier: str, allowed: int, now: float, opened: float) -> float:
        """The due time (epoch seconds) of the `allowed`-th oldest poll of `carrier` waiting now;
        infinite when fewer wait. A poll claimed before the window `opened` and still held by its
        worker was, as a rule, let through then and is being sent: it is not counted as waiting,
        or a slow carrier would leave part of each window's allowance unused."""
        at, since = datetime.fromtimestamp(now, UTC), datetime.fromtimestamp(opened, UTC)
        query = (
            sa.select(jobs.c.run_at)
            .join(shipments, shipments.c.id == jobs.c.subject)
            .where(
                jobs.c.kind == kind,
                jobs.c.state == READY,
                jobs.c.run_at <= at,
                shipments.c.carrier == carrier,
                sa.or_(jobs.c.leased_by.is_(None), jobs.c.leased_until < at, jobs.c.updated_at >= since),
            )
            .order_by(jobs.c.run_at)
            .offset(allowed - 1)
            .limit(1)
        )
        async with self.tracker.database.read() as conn:
            found = (await conn.execute(query)).scalar()
        return math.inf if found is None else float(found.timestamp())

    async def run(self, job: Job) -> Outcome:
        ticket = self._line.ticket()  # taken before the first wait: in the order the jobs were claimed
        try:
            row = await self.tracker.ledger.get(job.subject)
            api = self.bookings.get(row.carrier)
            if row.status is not ShipmentStatus.BOOKED or api is None or row.carrier_ref is None:
                return Done()
            if row.tracking_status is not None and final(Status(row.tracking_status)):
                return Done()
            if self.store is not None:
                await self._line.turn(ticket)
                wait_s = await self._behind(job, row.carrier)
                if wait_s is None:
                    wait_s = await self._allowed(row.carrier)
                self._line.leave(ticket)
                if wait_s is not None:
                    lane = Lane(row.carrier, sa.select(shipments.c.id).where(shipments.c.carrier == row.carrier))
                    return Hold(wait_s, lane)
        finally:
            self._line.leave(ticket)
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
