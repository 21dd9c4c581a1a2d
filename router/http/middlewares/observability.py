"""Request ids, one structured log line per request, Prometheus figures, and a bound on request time."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from router.http import appkeys as keys
from router.http.logs import access, request_id
from router.http.middlewares.problems import problem
from router.store import memory_use

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


@web.middleware
async def observability_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get("X-Request-Id", "")
    rid = incoming if _SAFE_ID.match(incoming) else os.urandom(16).hex()
    token = request_id.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = rid
        return response
    finally:
        elapsed = time.perf_counter() - started
        route = _route(request)
        request.app[keys.METRICS].observe_request(request.method, route, status, elapsed)
        access(request.method, route, status, round(elapsed * 1000, 2))
        request_id.reset(token)


@web.middleware
async def timeout_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limit = request.app[keys.SETTINGS].request_timeout_s
    try:
        async with asyncio.timeout(limit):
            return await handler(request)
    except TimeoutError:
        return problem(503, "Request took too long", f"no answer within {limit:.0f} s; retry", instance=request.path)


async def metrics_handler(request: web.Request) -> web.Response:
    metrics = request.app[keys.METRICS]
    metrics.store_degraded.set(1 if request.app[keys.STORE].degraded else 0)
    carriers = [health for _, health in await request.app[keys.ENGINE].carrier_health()]
    memory = memory_use(request.app[keys.STORE])
    return web.Response(body=metrics.render(carriers, memory), headers={"Content-Type": "text/plain; version=0.0.4"})
