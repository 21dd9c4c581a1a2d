"""The application factory. It does no I/O itself: resources open in `resources`."""

from __future__ import annotations

from typing import AsyncIterator

import aiohttp
from aiohttp import web

from router import keys
from router.api.problems import problem_middleware
from router.api.routes import setup_routes
from carriers.registry import load_carriers
from router.places import Places
from router.quotes import QuoteBook
from router.quoting import QuoteEngine
from router.settings import Settings
from router.store import open_store


async def resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = open_store(settings.redis_url)
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, limit_per_host=20),
        raise_for_status=False,
    )
    places = Places()
    carriers = load_carriers(settings, http)
    app[keys.STORE] = store
    app[keys.HTTP] = http
    app[keys.PLACES] = places
    app[keys.ENGINE] = QuoteEngine(carriers, places, settings)
    app[keys.QUOTES] = QuoteBook(store, settings)
    yield
    await http.close()
    await store.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[problem_middleware], client_max_size=settings.max_body_bytes)
    app[keys.SETTINGS] = settings
    app.cleanup_ctx.append(resources)
    setup_routes(app)
    return app
