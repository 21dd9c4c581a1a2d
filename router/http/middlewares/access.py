"""Who may call what: secret keys everything, publishable keys the widget's endpoints from their
origins only; per-key rate limits; CORS for the browser.

With no active key the service runs open — the loopback demo — and the CLI refuses to bind a
public interface that way unless told `--insecure`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from router.core.errors import Forbidden, Unauthorized
from router.http import appkeys as keys
from router.records.keys import ApiKey, KeyKind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The CRM's callbacks carry no API key: each proves its account by the clientId it sends.
# `/metrics` is not among them: carriers' error rates and the routes' traffic are a secret key's.
# Carriers' status calls carry their own secret in the URL (router/http/handlers/tracking.py).
PUBLIC_PREFIXES = ("/healthz", "/openapi.json", "/widget", "/integrations/retailcrm/", "/v1/inbound/")
# What a browser may call with a publishable key: quoting and showing pickup points.
WIDGET_ROUTES = {
    ("POST", "/v1/quotes"),
    ("GET", "/v1/quotes/{quote_id}"),
    ("GET", "/v1/pickup-points"),
    ("GET", "/v1/pickup-points/{point_id}"),
    ("GET", "/v1/places"),
    ("GET", "/v1/track/{tracking_number}"),
}
CORS_ORIGIN: web.RequestKey[str] = web.RequestKey("cors_origin", str)
API_KEY: web.RequestKey[ApiKey] = web.RequestKey("api_key", ApiKey)


def _route(request: web.Request) -> tuple[str, str]:
    resource = request.match_info.route.resource
    return (request.method, resource.canonical if resource is not None else request.path)


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-Api-Key") or None


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Api-Key, X-Request-Id",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Expose-Headers": "Retry-After, X-Request-Id, X-Cache",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Adds CORS headers to whatever answer (errors included) once access decided the origin may see it."""
    response = await handler(request)
    origin = request.get(CORS_ORIGIN)
    if origin:
        response.headers.update(_cors_headers(origin))
    return response


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC_PREFIXES):
        return await handler(request)
    ring = request.app[keys.KEYRING]
    origin = request.headers.get("Origin")
    is_open = await ring.is_open()

    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        wanted = (request.headers["Access-Control-Request-Method"].upper(), _route_for_preflight(request))
        if wanted in WIDGET_ROUTES and origin and (is_open or await ring.allows_origin(origin)):
            request[CORS_ORIGIN] = "*" if is_open else origin
            return web.Response(status=204)
        raise Forbidden("this origin may not call this endpoint from a browser")

    if is_open:
        if origin and _route(request) in WIDGET_ROUTES:
            request[CORS_ORIGIN] = "*"
        return await handler(request)

    token = _token(request)
    if token is None:
        raise Unauthorized("send an API key as 'Authorization: Bearer sk_…' (or pk_… from the widget)")
    key = await ring.authenticate(token)
    if key is None:
        raise Unauthorized("this API key is unknown or has been revoked")
    if key.kind is KeyKind.PUBLISHABLE:
        if _route(request) not in WIDGET_ROUTES:
            raise Forbidden("a publishable key may call only the widget's endpoints; use a secret key")
        # Browsers send no Origin on same-origin GETs; the service's own pages (the widget demo)
        # are then told apart by Sec-Fetch-Site, which scripts on other sites cannot set.
        same_origin = origin is None and request.headers.get("Sec-Fetch-Site") == "same-origin"
        if not (key.allows_origin(origin) or same_origin):
            raise Forbidden(f"origin {origin or '(none)'} is not allowed for this publishable key")
        if origin is not None:
            request[CORS_ORIGIN] = origin
    settings = request.app[keys.SETTINGS]
    default = settings.rate_secret_per_min if key.kind is KeyKind.SECRET else settings.rate_publishable_per_min
    await request.app[keys.RATE_LIMITER].check(key.id, key.rate_per_minute or default)
    request[API_KEY] = key
    return await handler(request)


def _route_for_preflight(request: web.Request) -> str:
    # A preflight is an OPTIONS request, so the router matched no method; find the resource by path.
    for resource in request.app.router.resources():
        if resource.get_info().get("path") == request.path or (
            resource.get_info().get("formatter") and _matches(resource, request.path)
        ):
            return resource.canonical
    return request.path


def _matches(resource: web.AbstractResource, path: str) -> bool:
    pattern = resource.get_info().get("pattern")
    return bool(pattern is not None and pattern.fullmatch(path))
