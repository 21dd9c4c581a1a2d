"""Faults on demand for the sandbox emulators, and what they counted.

    POST   /_sandbox/faults   {"latency_ms": 50, "jitter_ms": 20}      slow every answer
                              {"hang": true}                           never answer
                              {"status": 500}                          fail with the API's error body
                              {"status": 500, "after_handling": true}  do what was asked (make the order),
                                                                       then fail as if the answer were lost
                              {"rate_limit_retry_after": 2}            429 with Retry-After: 2
                              {"malformed": true}                      200 with broken JSON
                              {"empty": true}                          answer with no results
                              {"expire_tokens": true}                  every token issued so far now gets 401
                              + "count": N (only the next N requests), "path": "/v2/calculator" (only there),
                                "after": N (let the next N requests through first: "after": 2 on
                                /v2/deliverypoints fails the third page)
    DELETE /_sandbox/faults   back to normal
    GET    /_sandbox/stats    {"token_requests": n, "requests": {"/v2/...": n}}

Faults apply to API requests only, never to these control routes. The same state is reachable
in-process as `SandboxState` for tests that start the emulators themselves.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

import orjson
from aiohttp import web

CONTROL_PREFIX = "/_sandbox"
MALFORMED_BODY = b'{"truncated": [{"half": '

ErrorBody = Callable[[int, str], bytes]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Faults:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    hang: bool = False
    status: int | None = None
    rate_limit_retry_after: float | None = None
    malformed: bool = False
    empty: bool = False
    count: int | None = None  # None: until cleared
    path: str | None = None  # None: every API path
    after: int = 0  # requests let through before the faults start
    after_handling: bool = False  # `status` replaces the answer of a request that was carried out

    def active(self) -> bool:
        return self != Faults()

    def applies_to(self, path: str) -> bool:
        return (self.path is None or path.startswith(self.path)) and (self.count is None or self.count > 0)


def parse_faults(body: Any) -> tuple[Faults, bool]:
    """(faults, expire_tokens) from a control request; ValueError names the bad field."""
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    known = {f.name for f in fields(Faults)} | {"expire_tokens"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(f"unknown fault {unknown[0]!r}; known: {', '.join(sorted(known))}")
    faults = Faults()
    for name in ("latency_ms", "jitter_ms"):
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 60_000:
                raise ValueError(f"{name} must be milliseconds from 0 to 60000")
            setattr(faults, name, float(value))
    for name in ("hang", "malformed", "empty", "expire_tokens", "after_handling"):
        if name in body and not isinstance(body[name], bool):
            raise ValueError(f"{name} must be true or false")
    faults.hang = bool(body.get("hang", False))
    faults.malformed = bool(body.get("malformed", False))
    faults.empty = bool(body.get("empty", False))
    faults.after_handling = bool(body.get("after_handling", False))
    if body.get("status") is not None:
        status = body["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status, 400 to 599")
        faults.status = status
    if body.get("rate_limit_retry_after") is not None:
        value = body["rate_limit_retry_after"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError("rate_limit_retry_after must be seconds, 0 or more")
        faults.rate_limit_retry_after = float(value)
    if body.get("count") is not None:
        if isinstance(body["count"], bool) or not isinstance(body["count"], int) or body["count"] < 1:
            raise ValueError("count must be a whole number from 1")
        faults.count = body["count"]
    if body.get("after") is not None:
        if isinstance(body["after"], bool) or not isinstance(body["after"], int) or body["after"] < 0:
            raise ValueError("after must be a whole number from 0")
        faults.after = body["after"]
    if body.get("path") is not None:
        if not isinstance(body["path"], str) or not body["path"].startswith("/"):
            raise ValueError("path must start with /")
        faults.path = body["path"]
    if faults.after_handling and faults.status is None:
        raise ValueError("after_handling needs a status to answer with")
    return faults, bool(body.get("expire_tokens", False))


class SandboxState:
    """One emulator's faults, counters and issued tokens."""

    def __init__(self, seed: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = Faults()
        self.random = random.Random(seed)
        self.clock = clock
        self.token_requests = 0
        self.requests: Counter[str] = Counter()
        self.tokens: dict[str, float] = {}  # token -> expiry on `clock`
        self.release = asyncio.Event()  # set on shutdown so hanging handlers let go

    def set_faults(self, faults: Faults, expire_tokens: bool = False) -> None:
        self.faults = faults
        if expire_tokens:
            self.expire_tokens()

    def clear(self) -> None:
        self.faults = Faults()

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def issue_token(self, token: str, ttl_s: float) -> None:
        self.token_requests += 1
        self.tokens[token] = self.clock() + ttl_s

    def token_valid(self, token: str) -> bool:
        expires = self.tokens.get(token)
        return expires is not None and expires > self.clock()

    def take(self, path: str) -> Faults | None:
        """The faults this request meets, counting it against `count`."""
        faults = self.faults
        if not faults.active() or not faults.applies_to(path):
            return None
        if faults.after > 0:
            faults.after -= 1
            return None
        if faults.count is not None:
            faults.count -= 1
        return faults

    def stats(self) -> dict[str, Any]:
        return {"token_requests": self.token_requests, "requests": dict(self.requests)}


STATE: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)
FAULTS: web.RequestKey[Faults | None] = web.RequestKey("sandbox_faults")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def faults_middleware(error_body: ErrorBody) -> Any:
    """Applies the current faults to every API request; `error_body` shapes errors per API."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        state = request.app[STATE]
        state.requests[request.path] += 1
        faults = state.take(request.path)
        request[FAULTS] = faults
        if faults is None:
            return await handler(request)
        delay_ms = faults.latency_ms + (
            state.random.uniform(-faults.jitter_ms, faults.jitter_ms) if faults.jitter_ms else 0
        )
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if faults.hang:
            await state.release.wait()
            return web.Response(
                status=503, body=error_body(503, "sandbox shutting down"), content_type="application/json"
            )
        if faults.rate_limit_retry_after is not None:
            return web.Response(
                status=429,
                body=error_body(429, "too many requests"),
                content_type="application/json",
                headers={"Retry-After": f"{faults.rate_limit_retry_after:g}"},
            )
        if faults.status is not None:
            if faults.after_handling:
                await handler(request)
            return web.Response(
                status=faults.status, body=error_body(faults.status, "injected fault"), content_type="application/json"
            )
        if faults.malformed:
            return web.Response(body=MALFORMED_BODY, content_type="application/json")
        return await handler(request)

    return middleware


def wants_empty(request: web.Request) -> bool:
    faults = request.get(FAULTS)
    return bool(faults and faults.empty)


async def set_faults(request: web.Request) -> web.Response:
    try:
        body = await request.json(loads=orjson.loads)
    except ValueError:
        return json_response({"error": "body is not JSON"}, status=400)
    try:
        faults, expire = parse_faults(body)
    except ValueError as exc:
        return json_response({"error": str(exc)}, status=400)
    request.app[STATE].set_faults(faults, expire)
    return json_response({"faults": asdict(faults), "tokens_expired": expire})


async def clear_faults(request: web.Request) -> web.Response:
    request.app[STATE].clear()
    return json_response({"faults": asdict(Faults())})


async def get_faults(request: web.Request) -> web.Response:
    return json_response({"faults": asdict(request.app[STATE].faults)})


async def get_stats(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].stats())


def add_control_routes(app: web.Application) -> None:
    app.router.add_post(CONTROL_PREFIX + "/faults", set_faults)
    app.router.add_delete(CONTROL_PREFIX + "/faults", clear_faults)
    app.router.add_get(CONTROL_PREFIX + "/faults", get_faults)
    app.router.add_get(CONTROL_PREFIX + "/stats", get_stats)
