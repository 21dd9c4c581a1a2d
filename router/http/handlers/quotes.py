from __future__ import annotations

from aiohttp import web

from router.core.codec import quote_in
from router.http import appkeys as keys
from router.http.language import answer_lang, in_lang
from router.http.middlewares.access import API_KEY
from router.http.schemas.quotes import read_quote_request
from router.quoting.book import OPEN
from router.records.keys import KeyKind


async def create_quote(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    lang = answer_lang(request)
    shipment, policy = read_quote_request(
        await request.read(), max_parcels=settings.max_parcels, day_value=settings.day_value
    )
    caller = request.get(API_KEY)
    stored = await request.app[keys.QUOTES].create(
        request.app[keys.ENGINE], shipment, policy, owner=caller.id if caller is not None else OPEN
    )
    metrics = request.app[keys.METRICS]
    metrics.quotes.labels("hit" if stored.cached else "miss").inc()
    for error in stored.errors:
        metrics.carrier_errors.labels(error.carrier, error.kind).inc()
    response = web.Response(
        status=200 if stored.cached else 201,
        body=quote_in(stored.body, lang),
        content_type="application/json",
        headers={"X-Cache": "hit" if stored.cached else "miss"},
    )
    return in_lang(response, lang)


async def get_quote(request: web.Request) -> web.Response:
    lang = answer_lang(request)
    body = await request.app[keys.QUOTES].get(request.match_info["quote_id"], await readers(request))
    return in_lang(web.Response(body=quote_in(body, lang), content_type="application/json"), lang)


async def readers(request: web.Request) -> set[str]:
    """Whose quotes the caller may read: its own; a secret key also the publishable keys' — the
    widget quotes in the buyer's browser and the shop's server reads the price it holds
    (docs/widget.md). A publishable key reads only its own: it is in every buyer's hands."""
    caller = request.get(API_KEY)
    if caller is None:
        return {OPEN}
    if caller.kind is not KeyKind.SECRET:
        return {caller.id}
    return {caller.id} | await request.app[keys.KEYRING].publishable_ids()
