"""A circuit breaker per carrier whose state lives in the store, so every worker shares it.

    closed ──(≥ min_failures failures and ≥ failure_rate of calls in one window)──▶ open
    open ──(open_s passes)──▶ half-open: exactly one caller probes, the others are turned away
    half-open ──probe succeeds──▶ closed        half-open ──probe fails──▶ open again

Store keys (under `breaker:<carrier>:`): `state` holds b"open:<unix time the probe may go>";
`probe` is the half-open probe's lock (`add`, so one worker wins); `<window>:calls` and
`<window>:fails` count one fixed window with `incr`. A closed call costs one `get`.

If the store is unavailable the breaker lets calls through: losing Redis must not stop quotes.
A 429 opens the breaker for the Retry-After the carrier gave, when that is longer than open_s.

`GuardedCarrier` retries a transient failure once while the quote's deadline allows
(`carriers.api.retry_once`); the breaker records what the call came to, not each attempt.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Callable

from carriers.api import (
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierUnavailable,
    retry_once,
)
from carriers.base import Carrier
from router.models import CarrierInfo, CarrierQuote, RateRequest
from router.store import Store, StoreUnavailable


class BreakerState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(CarrierUnavailable):
    """The carrier is not asked: its breaker is open (or another worker is probing it)."""

    transient = False


@dataclass(frozen=True, slots=True)
class Ticket:
    """Permission for one call; `probe` when it is the half-open trial."""

    probe: bool = False


def counts_as_failure(exc: BaseException) -> bool:
    """Whether an error says the carrier is unwell, rather than that it refused this shipment."""
    if isinstance(exc, (TimeoutError, CarrierUnavailable, CarrierRateLimited, CarrierAuthError)):
        return True
    if isinstance(exc, CarrierApiError):
        # The carrier's own error codes, on a 4xx or next to an empty 200 answer, are a
        # well-formed "no"; garbage and 5xx are not.
        return (exc.status is not None and exc.status >= 500) or not exc.errors
    return isinstance(exc, Exception)


class CircuitBreaker:
    def __init__(
        self,
        store: Store,
        carrier: str,
        *,
        min_failures: int = 5,
        failure_rate: float = 0.5,
        window_s: float = 30.0,
        open_s: float = 15.0,
        probe_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,  # wall clock: workers compare it through the store
    ) -> None:
        self.store = store
        self.carrier = carrier
        self.min_failures = min_failures
        self.failure_rate = failure_rate
        self.window_s = window_s
        self.open_s = open_s
        self.probe_timeout_s = probe_timeout_s
        self.clock = clock
        self.last_state = BreakerState.CLOSED  # as last seen here, for listings that cannot await
        self._prefix = f"breaker:{carrier}:"

    async def state(self) -> BreakerState:
        try:
            raw = await self.store.get(self._prefix + "state")
        except StoreUnavailable:
            return self.last_state
        self.last_state = self._read(raw)
        return self.last_state

    def _read(self, raw: bytes | None) -> BreakerState:
        if raw is None:
            return BreakerState.CLOSED
        try:
            until = float(raw.decode().partition(":")[2])
        except ValueError:
            return BreakerState.CLOSED
        return BreakerState.OPEN if self.clock() < until else BreakerState.HALF_OPEN

    async def acquire(self) -> Ticket:
        """A ticket to call the carrier, or CircuitOpen."""
        try:
            state = self._read(await self.store.get(self._prefix + "state"))
            self.last_state = state
            if state is BreakerState.CLOSED:
                return Ticket()
            if state is BreakerState.HALF_OPEN and await self.store.add(
                self._prefix + "probe", b"1", self.probe_timeout_s
            ):
                return Ticket(probe=True)
        except StoreUnavailable:
            return Ticket()
        raise CircuitOpen(self.carrier, f"circuit {state.value}; not asked")

    async def succeeded(self, ticket: Ticket) -> None:
        try:
            await self.store.incr(self._window() + "calls", self.window_s * 2)
            if ticket.probe:
                await self.store.delete(self._prefix + "state")
                await self.store.delete(self._prefix + "probe")
                self.last_state = BreakerState.CLOSED
        except StoreUnavailable:
            pass

    async def failed(self, ticket: Ticket, exc: BaseException | None = None) -> None:
        if exc is not None and not counts_as_failure(exc):
            await self.succeeded(ticket)  # the carrier is up: it answered "no"
            return
        hold_s = self.open_s
        if isinstance(exc, CarrierRateLimited) and exc.retry_after_s:
            hold_s = max(hold_s, exc.retry_after_s)
        try:
            window = self._window()
            calls = await self.store.incr(window + "calls", self.window_s * 2)
            fails = await self.store.incr(window + "fails", self.window_s * 2)
            if (
                ticket.probe
                or isinstance(exc, CarrierRateLimited)
                or (fails >= self.min_failures and fails >= self.failure_rate * calls)
            ):
                await self._open(hold_s)
            if ticket.probe:
                await self.store.delete(self._prefix + "probe")
        except StoreUnavailable:
            pass

    async def _open(self, hold_s: float) -> None:
        until = self.clock() + hold_s
        # The state outlives the hold so the next caller sees half-open, not closed; if nobody
        # calls for a long while it lapses and the carrier is simply tried again.
        await self.store.set(self._prefix + "state", f"open:{until:.3f}".encode(), hold_s + 10 * self.open_s)
        await self.store.delete(self._window() + "fails")
        self.last_state = BreakerState.OPEN

    def _window(self) -> str:
        return f"{self._prefix}{int(self.clock() // self.window_s)}:"


class GuardedCarrier:
    """A `Carrier` asked only while its breaker lets it; the result is recorded either way.

    `remote` tells the quote engine this carrier can fail, so its last good answers are kept.
    """

    remote = True

    def __init__(self, carrier: Carrier, breaker: CircuitBreaker) -> None:
        self.inner = carrier
        self.breaker = breaker
        self.code = carrier.code
        self.retries = 0

    def __repr__(self) -> str:
        return f"GuardedCarrier({self.inner!r})"

    def info(self) -> CarrierInfo:
        from dataclasses import replace

        info = self.inner.info()
        state = self.breaker.last_state
        return info if state is BreakerState.CLOSED else replace(info, status=state.value)

    async def quote(self, request: RateRequest) -> CarrierQuote:
        ticket = await self.breaker.acquire()
        try:
            answer = await retry_once(lambda: self.inner.quote(request), self._count_retry)
        except BaseException as exc:
            # Cancellation by the quote's deadline is a timeout as far as the carrier goes.
            await self.breaker.failed(ticket, exc if isinstance(exc, Exception) else TimeoutError())
            raise
        await self.breaker.succeeded(ticket)
        return answer

    def _count_retry(self) -> None:
        self.retries += 1


def guard_carriers(carriers: list[Carrier], store: Store, **options: float) -> list[Carrier]:
    """Every carrier that quotes over the network behind its own breaker; rate cards as they are."""
    from carriers.cdek import CdekCarrier
    from carriers.courier import CourierCarrier

    return [
        GuardedCarrier(c, CircuitBreaker(store, c.code, **options))  # type: ignore[arg-type]
        if isinstance(c, (CdekCarrier, CourierCarrier))
        else c
        for c in carriers
    ]
