from __future__ import annotations

from aiohttp import web

from router.core import answers
from router.core.codec import carrier_answer, encode
from router.history.suspension import suspension_answer
from router.http import appkeys as keys
from router.http.language import answer_lang, in_lang


async def list_carriers(request: web.Request) -> web.Response:
    lang = answer_lang(request)
    report = await request.app[keys.ENGINE].carrier_health()
    suspensions = [suspension_answer(s, lang) for s in await request.app[keys.TRACK_RECORD].suspensions()]
    body = answers.Carriers(
        carriers=[carrier_answer(info, health, suspensions, lang) for info, health in report], lang=lang
    )
    return in_lang(web.Response(body=encode(body), content_type="application/json"), lang)
