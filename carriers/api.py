"""What every carrier that quotes over HTTP shares: its time budget, retries, credentials and reads.

The errors themselves are `carriers.errors` (re-exported here, where the quote engine's breaker
has always found them). Every call runs under `bounded`: its own timeout, cut to what the
caller's deadline (`deadline_scope`) leaves; `retry_once` asks again after a transient failure
when that deadline allows. The HTTP is aiohttp's client, on the one `ClientSession` the app
owns; `read_body` reads an answer no larger than the carriers ever send.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import random
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, TypeVar

import aiohttp

from carriers.errors import (
    ApiErrorDetail,
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierResponseError,
    CarriersError,
    CarrierTimeout,
    CarrierUnavailable,
)
from router.core.models import CarrierInfo, RateRequest

__all__ = [
    "ApiErrorDetail",
    "CarrierApiError",
    "CarrierAuthError",
    "CarrierRateLimited",
    "CarrierResponseError",
    "CarrierTimeout",
    "CarrierUnavailable",
    "CarriersError",
    "Secret",
    "bounded",
    "budget_s",
    "deadline_scope",
    "read_body",
    "retry_after_s",
    "retry_once",
    "within",
]

# Absolute `loop.time()` by which the caller needs an answer. The quote engine sets it before it
# fans out (tasks copy the context), so an adapter never spends longer than the quote has left.
call_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("call_deadline", default=None)
# Absolute `loop.time()` at which the caller cancels the call itself (the quote engine, with one
# timer for all the carriers of a quote): an adapter's own timer that would fire no sooner buys
# nothing, and is not armed.
call_cutoff: contextvars.ContextVar[float | None] = contextvars.ContextVar("call_cutoff", default=None)

MAX_BODY_BYTES = 8 * 1024 * 1024  # a page of a thousand pickup points is ~2 MB
# Every carrier call runs under `bounded` (its own timeout cut to the quote's deadline), so the
# session's default five-minute timer, armed and cancelled on each request, buys nothing.
NO_SESSION_TIMEOUT = aiohttp.ClientTimeout()

# A 5xx or a dropped connection is retried after a short random pause, so the quotes that failed
# together do not all come back in the same millisecond.
RETRY_PAUSE_S = (0.01, 0.05)
# The least a second attempt is assumed to need, however fast the first one failed (a refused
# connection fails in microseconds; an answer still has to be computed and sent).
MIN_ATTEMPT_S = 0.05
# Without a caller's deadline, the longest Retry-After worth waiting for.
MAX_PAUSE_NO_DEADLINE_S = 1.0

T = TypeVar("T")


class ApiClient(Protocol):
    base_url: str

    def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=ApiClient)


class RemoteCarrier(Generic[ClientT]):
    """What every carrier that quotes over HTTP shares of the `Carrier` protocol.

    It is remote, so the engine puts it behind a breaker and keeps its last good answers; it has
    no answer without I/O; its info is fixed when it is built; closing it closes its client. A
    new API carrier subclasses this and writes `quote`.
    """

    remote = True
    code: str
    client: ClientT
    _info: CarrierInfo

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.client.base_url!r})"

    def info(self) -> CarrierInfo:
        return self._info

    def close(self) -> None:
        self.client.close()

    def quote_sync(self, request: RateRequest) -> None:
        return None


class Secret:
    """A credential: readable on purpose through `reveal()`, masked everywhere else."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not to be pickled")


def budget_s(own_timeout_s: float, loop: asyncio.AbstractEventLoop | None = None) -> float:
    """The seconds this call may take: its own timeout, cut to what the caller has left."""
    deadline = call_deadline.get()
    if deadline is None:
        return own_timeout_s
    loop = loop or asyncio.get_running_loop()
    return max(0.0, min(own_timeout_s, deadline - loop.time()))


def remaining_s(loop: asyncio.AbstractEventLoop | None = None) -> float | None:
    """Seconds left before the caller's deadline, or None when no deadline is set."""
    deadline = call_deadline.get()
    if deadline is None:
        return None
    return deadline - (loop or asyncio.get_running_loop()).time()


def retry_pause_s(exc: BaseException) -> float | None:
    """How long to wait before asking again after `exc`; None when asking again cannot help."""
    if not getattr(exc, "transient", False):
        return None
    if isinstance(exc, CarrierRateLimited):
        return exc.retry_after_s  # no Retry-After: the breaker holds the carrier off instead
    return random.uniform(*RETRY_PAUSE_S)


async def retry_once(attempt: Callable[[], Awaitable[T]], on_retry: Callable[[], None] | None = None) -> T:
    """`attempt()`, and once more after a transient failure if the caller's deadline allows.

    Carrier quotes are idempotent, so a second try is safe. It goes only when the pause plus
    another attempt as long as the first fit in what the deadline leaves; otherwise the first
    error is raised at once, leaving the time to the other carriers and to a stale answer.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        return await attempt()
    except CarrierApiError as exc:
        pause = retry_pause_s(exc)
        if pause is None:
            raise
        left = remaining_s(loop)
        if left is None:
            if pause > MAX_PAUSE_NO_DEADLINE_S:
                raise
        elif pause + max(loop.time() - started, MIN_ATTEMPT_S) > left:
            raise
    if on_retry is not None:
        on_retry()
    await asyncio.sleep(pause)
    return await attempt()


@contextlib.contextmanager
def deadline_scope(deadline: float, cutoff: float | None = None) -> Iterator[None]:
    """Run the block (and the tasks it creates) under an absolute `loop.time()` deadline.

    `cutoff`: when the caller will cancel the block's calls itself, if it will (see `call_cutoff`).
    """
    token = call_deadline.set(deadline)
    cut = call_cutoff.set(cutoff)
    try:
        yield
    finally:
        call_cutoff.reset(cut)
        call_deadline.reset(token)


# Stands in for `bounded`'s timer when the caller's own cancellation comes first. An adapter on
# the quote path may test for it and skip the `async with` (entering even a null context costs
# two coroutines a call).
CALLERS_BOUND: contextlib.nullcontext[None] = contextlib.nullcontext()


def bounded(own_timeout_s: float) -> asyncio.Timeout | contextlib.nullcontext[None]:
    """`async with` it: the block is cancelled when its budget runs out; the caller sees `TimeoutError`
    (or, when the caller's own cutoff comes no later, the caller's cancellation)."""
    # asyncio's own context manager, not a generator around it: this runs on every carrier call.
    loop = asyncio.get_running_loop()
    at = loop.time() + budget_s(own_timeout_s, loop)
    cutoff = call_cutoff.get()
    if cutoff is not None and at >= cutoff:
        return CALLERS_BOUND
    return asyncio.timeout_at(at)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


async def read_body(resp: aiohttp.ClientResponse, carrier: str, limit: int = MAX_BODY_BYTES) -> bytes:
    if resp.content_length is not None:
        if resp.content_length > limit:
            raise CarrierApiError(carrier, f"answer of {resp.content_length} bytes is over the {limit} limit")
        return await resp.read()  # the length is known and within the limit: one read
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise CarrierApiError(carrier, f"answer is over the {limit} bytes limit", status=resp.status)
        chunks.append(chunk)
    return b"".join(chunks)


async def within(own_timeout_s: float, carrier: str, call: Awaitable[T]) -> T:
    """Await `call` under `bounded(own_timeout_s)`; its own timer running out is a `CarrierTimeout`."""
    timer = bounded(own_timeout_s)
    if timer is CALLERS_BOUND:
        return await call  # the caller cancels it in time; no timer of its own to arm
    try:
        async with timer:
            return await call
    except TimeoutError:
        raise CarrierTimeout(f"{carrier}: no answer within its {own_timeout_s:g} s timeout") from None
