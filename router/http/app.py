"""The application factory. It does no I/O itself: resources open in `resources`.

`resources` opens the engine and all it stands on through `router.quoting.wiring.open_engine`,
the same way every CLI command does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.handlers.pickup_points import pickup_points
from router.http.metrics import Metrics
from router.http.middlewares.access import access_middleware, cors_middleware
from router.http.middlewares.media import media_type_middleware
from router.http.middlewares.observability import observability_middleware, timeout_middleware
from router.http.middlewares.problems import problem_middleware
from router.http.routes import setup_routes
from router.integrations.retailcrm.accounts import AccountBook
from router.quoting.wiring import open_engine
from router.records.keys import KeyRing
from router.shipping.shipper import working
from router.store.rate_limit import RateLimiter
from router.tracking.subscriptions import keep_subscribed
from router.tracking.wiring import shipper_for, tracker_for
from router.webhooks.sender import Sender


async def resources(app: web.Application) -> AsyncIterator[None]:
    async with open_engine(app[keys.SETTINGS]) as opened:
        app[keys.STORE] = opened.store
        app[keys.RECORDS] = opened.records
        app[keys.KEYRING] = KeyRing(opened.records)
        app[keys.RETAILCRM_ACCOUNTS] = AccountBook(opened.records)
        app[keys.HTTP] = opened.http
        app[keys.TRACK_RECORD] = opened.record
        app[keys.PLACES] = opened.places
        app[keys.ENGINE] = opened.engine
        app[keys.QUOTES] = opened.book
        app[keys.RATE_LIMITER] = RateLimiter(opened.store)
        settings = app[keys.SETTINGS]
        sender = app[keys.WEBHOOKS] = Sender(opened.records, opened.http)
        tracker = app[keys.TRACKER] = tracker_for(opened)
        called_back = bool(settings.public_url and settings.inbound_token)
        shipper = shipper_for(
            opened,
            settings,
            # Read when a booking is made: the points are loaded, and reloaded, after this.
            lambda point_id: app[keys.PICKUP_POINTS].directory.get(point_id),
            sender=sender,
            tracker=tracker,
            labels_called_back=called_back,
        )
        subscribing = None
        if settings.public_url and settings.inbound_token:
            subscribing = asyncio.create_task(
                keep_subscribed(opened.bookings, settings.public_url, settings.inbound_token), name="subscribe"
            )
        async with working(shipper, settings.run_jobs):
            app[keys.SHIPPER] = shipper
            try:
                yield
            finally:
                if subscribing is not None:
                    subscribing.cancel()


def create_app(settings: Settings) -> web.Application:
    # Outermost first: every answer gets a request id and CORS headers, errors included.
    middlewares = [
        observability_middleware,
        cors_middleware,
        problem_middleware,
        access_middleware,
        media_type_middleware,
        timeout_middleware,
    ]
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(pickup_points)
    setup_routes(app)
    return app
