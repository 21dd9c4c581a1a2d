"""Which language an answer speaks: the `lang` query parameter, else `Accept-Language`, else
English (router/core/wording.py chooses; this reads the request and says it in the answer)."""

from __future__ import annotations

from aiohttp import web

from router.core.wording import Lang, chosen_lang
from router.http.schemas.decode import read_query
from router.http.schemas.wire import LangQuery

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
    """The language `request` asks for; a `lang` other than ru or en, given twice, or another
    parameter beside it is the caller's 422, as every query of the API is read."""
    query = read_query(request.query, LangQuery, title="Invalid query")
    return chosen_lang(query.lang, request.headers.get("Accept-Language"))


def in_lang(response: web.Response, lang: Lang) -> web.Response:
    response.headers["Content-Language"] = lang
    response.headers.add("Vary", "Accept-Language")
    return response
