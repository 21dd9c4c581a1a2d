from __future__ import annotations

from aiohttp import web

from router import keys
from router.codec import dumps


async def healthz(request: web.Request) -> web.Response:
    store = request.app[keys.STORE]
    store_ok = await store.ping()
    body = {
        "status": "ok" if store_ok else "degraded",
        "store": {"backend": store.backend, "ok": store_ok},
        "carriers": len(request.app[keys.ENGINE].carriers),
    }
    return web.Response(status=200 if store_ok else 503, body=dumps(body), content_type="application/json")
