from __future__ import annotations

from aiohttp import web

from router.core.codec import carrier_json, dumps
from router.history.suspension import with_suspensions
from router.http import appkeys as keys


async def list_carriers(request: web.Request) -> web.Response:
    report = await request.app[keys.ENGINE].carrier_health()
    suspensions = await request.app[keys.TRACK_RECORD].suspensions()
    body = {"carriers": [with_suspensions(carrier_json(info, health), suspensions) for info, health in report]}
    return web.Response(body=dumps(body), content_type="application/json")
