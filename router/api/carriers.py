from __future__ import annotations

from aiohttp import web

from router import keys
from router.codec import carrier_json, dumps, with_suspensions


async def list_carriers(request: web.Request) -> web.Response:
    infos = request.app[keys.ENGINE].carrier_infos()
    suspensions = await request.app[keys.TRACK_RECORD].suspensions()
    carriers = [with_suspensions(carrier_json(i), suspensions) for i in infos]
    return web.Response(body=dumps({"carriers": carriers}), content_type="application/json")
