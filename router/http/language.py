"""Which language an answer speaks: the `lang` query parameter, else `Accept-Language`, else
English (router/core/wording.py chooses; this reads the request and says it in the answer)."""

from __future__ import annotations

from aiohttp import web

from router.core.errors import FieldError, InvalidRequest
from router.core.wording import LANGS, Lang, chosen_lang

# Said on every answer whose words depend on the language: a cache must not hand a Russian
# answer to an English reader.
ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "Used when there is no `lang` parameter: the best of ru and en, q-values honoured; else en",
    "schema": {"type": "string"},
}


def answer_lang(request: web.Request) -> Lang:
    """The language `request` asks for; a `lang` other than ru or en is the caller's 422."""
    given = request.query.getall("lang", [])
    if len(given) > 1:
        raise InvalidRequest([FieldError("lang", "give it once")], title="Invalid query")
    if given and given[0] not in LANGS:
        raise InvalidRequest([FieldError("lang", "ru or en")], title="Invalid query")
    return chosen_lang(given[0] if given else None, request.headers.get("Accept-Language"))


def in_lang(response: web.Response, lang: Lang) -> web.Response:
    response.headers["Content-Language"] = lang
    response.headers.add("Vary", "Accept-Language")
    return response
