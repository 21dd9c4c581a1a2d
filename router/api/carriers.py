from __future__ import annotations

from aiohttp import web

from router import keys
from router.codec import carrier_json, dumps


async def list_carriers(request: web.Request) -> web.Response:
    infos = request.app[keys.ENGINE].carrier_infos()
    return web.Response(body=dumps({"carriers": [carrier_json(i) for i in infos]}), content_type="application/json")
