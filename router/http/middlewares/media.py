"""A body is read only in a media type its endpoint declares: anything else is a 415.

A JSON endpoint that parsed any body as JSON took `text/plain` too, which a browser sends from
any page without a CORS preflight; now only `application/json` and the `application/*+json`
family (in UTF-8, the only charset JSON has) reach it. Endpoints that read CSV or NDJSON keep
the types they name. A missing Content-Type is refused as well: a browser's untyped body is
another request that needs no preflight.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from router.http import appkeys as keys
from router.http.middlewares.problems import problem

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"


def _is_json(media_type: str) -> bool:
    kind, _, sub = media_type.partition("/")
    return media_type == JSON or (kind == "application" and sub.endswith("+json"))


def accepted(media_type: str, charset: str | None, declared: frozenset[str]) -> bool:
    """Whether a body of `media_type` (parameters apart) is read by an endpoint declaring `declared`."""
    if media_type in declared and media_type != JSON:
        return True
    return JSON in declared and _is_json(media_type) and (charset or "utf-8").lower() in ("utf-8", "utf8")


@web.middleware
async def media_type_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    canonical = resource.canonical if resource is not None else request.path
    declared = request.app[keys.BODY_TYPES].get((request.method, canonical))
    if declared is None:
        return await handler(request)
    given = request.headers.get(hdrs.CONTENT_TYPE)
    if given is None or not accepted(request.content_type, request.charset, declared):
        names = ", ".join(sorted(declared))
        resp = problem(
            415,
            "Unsupported media type",
            f"send the body as {names}" + (" (UTF-8)" if JSON in declared else ""),
            instance=request.path,
        )
        # RFC 9110 §15.5.16 / RFC 7694: what the endpoint would take.
        resp.headers["Accept-Post"] = names
        return resp
    return await handler(request)
