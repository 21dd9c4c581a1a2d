"""Every error leaves the service as `application/problem+json` (RFC 9457), never as a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from router.core.errors import (
    FieldError,
    Forbidden,
    InvalidRequest,
    QuoteExpired,
    QuoteNotFound,
    QuoteNotHeld,
    RateLimited,
    Refused,
    RouterError,
    Unauthorized,
)
from router.http.schemas.answers import FieldProblem, Problem
from router.records import RecordsUnavailable
from router.store import StoreUnavailable

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    expired_at: str | None = None,
    retry_after: int | None = None,
) -> web.Response:
    body = Problem(
        "about:blank",
        title,
        status,
        detail=detail or None,
        instance=instance,
        errors=None if errors is None else [FieldProblem(e.path, e.message) for e in errors],
        expired_at=expired_at,
        retry_after=retry_after,
    )
    return web.Response(status=status, body=msgspec.json.encode(body), content_type=PROBLEM_JSON)


def _from_router_error(exc: RouterError, request: web.Request) -> web.Response:
    if isinstance(exc, InvalidRequest):
        return problem(
            422,
            exc.title,
            str(exc),
            instance=request.path,
            errors=exc.errors,
        )
    if isinstance(exc, QuoteExpired):
        return problem(
            410,
            "Quote expired",
            f"quote {exc.quote_id} expired at {exc.expired_at}; ask for a new quote",
            instance=request.path,
            expired_at=exc.expired_at,
        )
    if isinstance(exc, QuoteNotHeld):
        return problem(
            409,
            "Quote not held: its price is an estimate",
            f"quote {exc.quote_id} recommends an estimate (a carrier was down and its last good answer is shown),"
            " and an estimate is never held; ask for a fresh quote",
            instance=request.path,
        )
    if isinstance(exc, QuoteNotFound):
        return problem(404, "Quote not found", f"no quote with id {exc.quote_id}", instance=request.path)
    if isinstance(exc, Refused):
        resp = problem(exc.status, exc.title, exc.detail, instance=request.path, retry_after=exc.retry_after_s)
        if exc.retry_after_s is not None:
            resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp
    if isinstance(exc, Unauthorized):
        resp = problem(401, "Unauthorized", str(exc), instance=request.path)
        resp.headers["WWW-Authenticate"] = 'Bearer realm="carrier-router"'
        return resp
    if isinstance(exc, Forbidden):
        return problem(403, "Forbidden", str(exc), instance=request.path)
    if isinstance(exc, RateLimited):
        resp = problem(429, "Too many requests", str(exc), instance=request.path, retry_after=exc.retry_after_s)
        resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp
    log.error("unmapped error", exc_info=exc)
    return problem(500, "Internal error", instance=request.path)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except StoreUnavailable as exc:
        log.warning("store unavailable: %s", exc)
        resp = problem(503, "Storage unavailable", "quotes cannot be stored or read right now; retry shortly")
        # The store tries Redis again a second after it stopped answering.
        resp.headers["Retry-After"] = "1"
        return resp
    except RecordsUnavailable as exc:
        log.warning("records database unavailable: %s", exc.__cause__ or exc)
        resp = problem(503, "Records unavailable", "the records database is not answering; retry shortly")
        resp.headers["Retry-After"] = str(exc.retry_after_s)
        return resp
    except RouterError as exc:
        return _from_router_error(exc, request)
    except web.HTTPRequestEntityTooLarge as exc:
        return problem(413, "Request body too large", exc.text, instance=request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        resp = problem(exc.status, exc.reason, instance=request.path)
        if "Allow" in exc.headers:  # RFC 9110: a 405 names the methods that would work
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal error", instance=request.path)
