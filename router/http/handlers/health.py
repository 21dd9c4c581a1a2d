from __future__ import annotations

import msgspec
from aiohttp import web

from router.core.codec import encode
from router.http import appkeys as keys
from router.http.schemas.answers import Health, MemoryUse, StoreHealth
from router.store import memory_use


async def healthz(request: web.Request) -> web.Response:
    """200 while the service can answer; `degraded` when Redis is away and memory stands in."""
    store = request.app[keys.STORE]
    store_ok = await store.ping()
    memory = memory_use(store)
    body = Health(
        status="ok" if store_ok else "degraded",
        store=StoreHealth(
            backend=store.backend,
            ok=store_ok,
            fallback=None if store_ok else "memory",
            memory=None if memory is None else msgspec.convert(memory, MemoryUse, from_attributes=True),
        ),
        carriers=len(request.app[keys.ENGINE].carriers),
    )
    return web.Response(body=encode(body), content_type="application/json")
