from __future__ import annotations

import msgspec
from aiohttp import web

from router.core.codec import encode
from router.http import appkeys as keys
from router.http.schemas.answers import Health, MemoryUse, NetworkSync, StoreHealth
from router.store import memory_use


async def healthz(request: web.Request) -> web.Response:
    """200 while the service can answer; `degraded` when Redis is away and memory stands in.

    A network synced on a schedule says when the points served were saved and why the latest
    sync failed, if it did: the service goes on serving the last good points."""
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
        networks=await _synced(request.app),
    )
    return web.Response(body=encode(body), content_type="application/json")


async def _synced(app: web.Application) -> dict[str, NetworkSync]:
    syncer = app.get(keys.POINT_SYNC)
    if syncer is None or app[keys.SETTINGS].points_sync_s <= 0:
        return {}
    marks = app[keys.PICKUP_POINTS].marks
    answer = {}
    for source in syncer.sources.values():
        failure = await syncer.failure(source.network)
        answer[source.network] = NetworkSync(
            synced_at=marks.get(source.network),
            last_error=None if failure is None else failure.error,
            failed_at=None if failure is None else failure.at,
        )
    return answer
