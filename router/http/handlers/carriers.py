from __future__ import annotations

from aiohttp import web

from router.core import answers
from router.core.codec import carrier_answer, encode
from router.history.suspension import suspension_answer
from router.http import appkeys as keys


async def list_carriers(request: web.Request) -> web.Response:
    report = await request.app[keys.ENGINE].carrier_health()
    suspensions = [suspension_answer(s) for s in await request.app[keys.TRACK_RECORD].suspensions()]
    body = answers.Carriers(carriers=[carrier_answer(info, health, suspensions) for info, health in report])
    return web.Response(body=encode(body), content_type="application/json")
