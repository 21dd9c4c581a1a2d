from __future__ import annotations

from aiohttp import web

from router.core.codec import dumps
from router.http import appkeys as keys
from router.store import memory_use


async def healthz(request: web.Request) -> web.Response:
    """200 while the service can answer; `degraded` when Redis is away and memory stands in."""
    store = request.app[keys.STORE]
    store_ok = await store.ping()
    body = {
        "status": "ok" if store_ok else "degraded",
        "store": {
            "backend": store.backend,
            "ok": store_ok,
            "fallback": "memory" if not store_ok else None,
            "memory": memory_use(store),  # orjson writes the dataclass as its fields
        },
        "carriers": len(request.app[keys.ENGINE].carriers),
    }
    return web.Response(body=dumps(body), content_type="application/json")
