"""A circuit breaker per carrier whose state lives in the store, so every worker shares it.

    closed ──(≥ min_failures failures and ≥ failure_rate of calls in the last window_s)──▶ open
    open ──(open_s passes)──▶ half-open: exactly one caller probes, the others are turned away
    half-open ──probe succeeds──▶ closed        half-open ──probe fails──▶ open again

The window slides: a carrier that starts failing is cut off once failures are half of the last
few seconds' calls, not when a fixed window happens to end. Its two counts come from different
places. Calls and failures are counted by this worker in memory, in one-second buckets, so a
call that succeeds costs no store round trip; the failure rate is this worker's sample of what
every worker sees. Failures are also counted in the store (a sliding-window counter: the
current and previous window, the previous weighted by its overlap, as `router.store.rate_limit`
does), so `min_failures` counts what all workers saw: with the load spread over several
workers, each need not see five failures of its own before the carrier is cut off.

Store keys (under `breaker:<carrier>:`): `state` holds b"open:<unix time the probe may go>";
`probe` is the half-open probe's lock (`add`, so one worker wins); `f:<window>` counts failures.
A worker reads `state` at most once per `refresh_s`, so another worker's verdict (or an
operator's) reaches it within that time; transitions are written at once.

If the store is unavailable the breaker goes on from this worker's own counts and state:
losing Redis must neither stop quotes nor keep a dead carrier asked. A 429 opens the breaker
for the Retry-After the carrier gave, when that is longer than open_s. Only the carrier's own
faults are counted (`counts_as_failure`): an exception of our own code, whatever a caller sent
to provoke it, neither opens the breaker nor closes it.

`GuardedCarrier` retries a transient failure once while the quote's deadline allows
(`carriers.api.retry_once`); the breaker records what the call came to, not each attempt.
`guard_carriers` puts every carrier that declares itself `remote` in one: a new API carrier
gets its breaker by saying so, with nothing here to change.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from carriers.api import (
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarriersError,
    CarrierUnavailable,
    retry_once,
)
from carriers.base import Carrier
from router.core.models import CarrierInfo, CarrierQuote, RateRequest
from router.store import Store, StoreUnavailable


class BreakerState(enum.StrEnum):
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


PLAIN = Ticket()  # every call's ticket but a probe's: one object, not one per call


def counts_as_failure(exc: BaseException) -> bool:
    """Whether an error says the carrier is unwell, rather than that it refused this shipment.

    Only the carrier's own faults count: no answer in time, a refused or dropped connection, a
    5xx, an answer that cannot be read. Anything that is not a `CarriersError` or a timeout
    was raised by our own code (building the request, reading a date a caller sent), and a
    caller must not be able to open a carrier's breaker for everyone by sending such a value.
    """
    # ConnectionError too: a refused or reset connection that an adapter let through unwrapped.
    if isinstance(exc, (TimeoutError, ConnectionError, CarrierUnavailable, CarrierRateLimited, CarrierAuthError)):
        return True
    if isinstance(exc, CarrierApiError):
        # The carrier's own error codes, on a 4xx or next to an empty 200 answer, are a
        # well-formed "no"; garbage and 5xx are not.
        return (exc.status is not None and exc.status >= 500) or not exc.errors
    return isinstance(exc, CarriersError)


class RollingWindow:
    """Calls and failures over the last `window_s`, in `buckets` slots that expire one by one."""

    def __init__(self, window_s: float, buckets: int) -> None:
        self.bucket_s = window_s / buckets
        self._calls = [0] * buckets
        self._fails = [0] * buckets
        self._at = 0  # the bucket number last written

    def _advance(self, now: float) -> int:
        index = int(now // self.bucket_s)
        n = len(self._calls)
        if index > self._at:
            for stale in range(max(self._at + 1, index - n + 1), index + 1):
                self._calls[stale % n] = self._fails[stale % n] = 0
            self._at = index
        return index % n

    def add(self, now: float, failed: bool) -> None:
        slot = self._advance(now)
        self._calls[slot] += 1
        if failed:
            self._fails[slot] += 1

    def counts(self, now: float) -> tuple[int, int]:
        """(calls, failures) in the window ending now."""
        self._advance(now)
        return sum(self._calls), sum(self._fails)

    def clear(self) -> None:
        for i in range(len(self._calls)):
            self._calls[i] = self._fails[i] = 0


class CircuitBreaker:
    def __init__(
        self,
        store: Store,
        carrier: str,
        *,
        min_failures: int = 5,
        failure_rate: float = 0.5,
        window_s: float = 5.0,
        buckets: int = 5,
        open_s: float = 15.0,
        probe_timeout_s: float = 5.0,
        refresh_s: float = 1.0,
        clock: Callable[[], float] = time.time,  # wall clock: workers compare it through the store
    ) -> None:
        self.store = store
        self.carrier = carrier
        self.min_failures = min_failures
        self.failure_rate = failure_rate
        self.window_s = window_s
        self.open_s = open_s
        self.probe_timeout_s = probe_timeout_s
        self.refresh_s = refresh_s
        self.clock = clock
        self.last_state = BreakerState.CLOSED  # as last seen here, for listings that cannot await
        self._window = RollingWindow(window_s, buckets)
        self._open_until = 0.0  # while last_state is OPEN: when the probe may go
        self._read_at = -math.inf  # when `state` was last read from the store
        self._probe_taken_at = -math.inf  # when a half-open probe was last found taken
        self._prefix = f"breaker:{carrier}:"

    async def state(self) -> BreakerState:
        """The state as the store holds it now (this worker's own, if the store is away)."""
        try:
            return self._remember(await self.store.get(self._prefix + "state"))
        except StoreUnavailable:
            return self._local_state()

    def _remember(self, raw: bytes | None) -> BreakerState:
        self._read_at = self.clock()
        until = 0.0
        if raw is not None:
            try:
                until = float(raw.decode().partition(":")[2])
            except ValueError:
                until = 0.0
        self._open_until = until
        self.last_state = (
            BreakerState.CLOSED if not until else BreakerState.OPEN if self.clock() < until else BreakerState.HALF_OPEN
        )
        return self.last_state

    def _local_state(self) -> BreakerState:
        if self.last_state is BreakerState.OPEN and self.clock() >= self._open_until:
            self.last_state = BreakerState.HALF_OPEN
        return self.last_state

    def closed_now(self) -> bool:
        """Closed as last read, and read within refresh_s: `acquire` would give PLAIN without awaiting."""
        return self.last_state is BreakerState.CLOSED and self.clock() - self._read_at < self.refresh_s

    async def acquire(self) -> Ticket:
        """A ticket to call the carrier, or CircuitOpen."""
        now = self.clock()
        if now - self._read_at < self.refresh_s:
            if self.last_state is BreakerState.CLOSED:
                return PLAIN
            if self.last_state is BreakerState.OPEN and now < self._open_until:
                raise CircuitOpen(self.carrier, "circuit open; not asked")
            if self.last_state is BreakerState.HALF_OPEN and now - self._probe_taken_at < self.refresh_s:
                # Someone is probing (maybe this worker); its verdict is read after refresh_s.
                raise CircuitOpen(self.carrier, "circuit half_open; not asked")
        try:
            state = self._remember(await self.store.get(self._prefix + "state"))
            if state is BreakerState.CLOSED:
                return PLAIN
            if state is BreakerState.HALF_OPEN:
                won = await self.store.add(self._prefix + "probe", b"1", self.probe_timeout_s)
                self._probe_taken_at = now  # by this call or by another: either way, one is out
                if won:
                    return Ticket(probe=True)
        except StoreUnavailable:
            # On our own: closed lets calls through; after our own hold, this call is the probe
            # and the others wait for it as they would for another worker's.
            state = self._local_state()
            if state is BreakerState.CLOSED:
                return PLAIN
            if state is BreakerState.HALF_OPEN:
                self.last_state, self._open_until = BreakerState.OPEN, now + self.probe_timeout_s
                return Ticket(probe=True)
        raise CircuitOpen(self.carrier, f"circuit {state.value}; not asked")

    def count_success(self) -> None:
        """A call that was not the probe succeeded: counted in memory only, no store round trip."""
        self._window.add(self.clock(), failed=False)

    async def succeeded(self, ticket: Ticket) -> None:
        self._window.add(self.clock(), failed=False)
        if ticket.probe:
            self.last_state = BreakerState.CLOSED
            self._read_at = self.clock()
            try:
                await self.store.delete(self._prefix + "state")
                await self.store.delete(self._prefix + "probe")
            except StoreUnavailable:
                pass

    async def failed(self, ticket: Ticket, exc: BaseException | None = None) -> None:
        if exc is not None and not counts_as_failure(exc):
            if isinstance(exc, CarriersError):
                await self.succeeded(ticket)  # the carrier is up: it answered "no"
            elif ticket.probe:
                await self._release_probe()  # our own error tells nothing of the carrier: probe again
            return
        now = self.clock()
        self._window.add(now, failed=True)
        calls, fails = self._window.counts(now)
        hold_s = self.open_s
        if isinstance(exc, CarrierRateLimited) and exc.retry_after_s:
            hold_s = max(hold_s, exc.retry_after_s)
        try:
            shared = await self._count_failure(now)
        except StoreUnavailable:
            shared = fails
        if (
            ticket.probe
            or isinstance(exc, CarrierRateLimited)
            or (max(shared, fails) >= self.min_failures and fails >= self.failure_rate * calls)
        ):
            await self._open(hold_s)
        if ticket.probe:
            await self._release_probe()

    async def _release_probe(self) -> None:
        try:
            await self.store.delete(self._prefix + "probe")
        except StoreUnavailable:
            pass

    async def _count_failure(self, now: float) -> float:
        """Failures every worker saw over the last window_s, as a sliding-window counter."""
        index, into = divmod(now, self.window_s)
        current, previous = await self.store.incr_and_get(
            f"{self._prefix}f:{int(index)}", self.window_s * 2, f"{self._prefix}f:{int(index) - 1}"
        )
        return current + (int(previous) if previous else 0) * (1 - into / self.window_s)

    async def _open(self, hold_s: float) -> None:
        now = self.clock()
        until = now + hold_s
        self.last_state = BreakerState.OPEN
        self._open_until = until
        self._read_at = now
        # The calls that opened it are spent: once closed again, the carrier starts afresh.
        self._window.clear()
        index = int(now // self.window_s)
        try:
            # The state outlives the hold so the next caller sees half-open, not closed; if nobody
            # calls for a long while it lapses and the carrier is simply tried again.
            await self.store.set(self._prefix + "state", f"open:{until:.3f}".encode(), hold_s + 10 * self.open_s)
            for window in (index, index - 1):
                await self.store.delete(f"{self._prefix}f:{window}")
        except StoreUnavailable:
            pass


class GuardedCarrier:
    """A `Carrier` asked only while its breaker lets it; the result is recorded either way.

    It is a `Carrier` itself, remote like the one inside, so its last good answers are kept,
    and always awaited (`quote_sync` is None). `breaker` and `retries` (transient failures asked
    again) are what the quote engine reports per carrier in `carrier_health`.
    """

    remote = True

    def __init__(self, carrier: Carrier, breaker: CircuitBreaker) -> None:
        self.inner = carrier
        self.breaker = breaker
        self.code = carrier.code
        self.retries = 0
        self._recording: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"GuardedCarrier({self.inner!r})"

    def close(self) -> None:
        self.inner.close()

    def quote_sync(self, request: RateRequest) -> None:
        return None  # the call goes over the network, through the breaker

    def info(self) -> CarrierInfo:
        from dataclasses import replace

        info = self.inner.info()
        state = self.breaker.last_state
        return info if state is BreakerState.CLOSED else replace(info, status=state.value)

    async def quote(self, request: RateRequest) -> CarrierQuote:
        breaker = self.breaker
        ticket = PLAIN if breaker.closed_now() else await breaker.acquire()
        try:
            answer = await retry_once(lambda: self.inner.quote(request), self._count_retry)
        except BaseException as exc:
            # Cancellation by the quote's deadline is a timeout as far as the carrier goes.
            await self._record(self.breaker.failed(ticket, exc if isinstance(exc, Exception) else TimeoutError()))
            raise
        if ticket.probe:
            await self._record(self.breaker.succeeded(ticket))
        else:
            self.breaker.count_success()
        return answer

    async def _record(self, verdict: Coroutine[None, None, None]) -> None:
        """Write a verdict to the breaker even if this task is cancelled while it is written.

        The quote's deadline and the carrier's own timeout end a hanging call at the same
        moment, so the task is often cancelled twice: the second cancellation lands in the
        store round trips that record the first. Cut there, a failure goes uncounted and a
        probe's verdict is lost with its lock still held, leaving the carrier neither open nor
        closed until the lock lapses.
        """
        task = asyncio.ensure_future(verdict)
        self._recording.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._recording.discard)
        await asyncio.shield(task)

    def _count_retry(self) -> None:
        self.retries += 1


def guard_carriers(carriers: list[Carrier], store: Store, **options: Any) -> list[Carrier]:
    """Every carrier that declares itself `remote` behind its own breaker; the others as they are.

    `options`: `CircuitBreaker`'s keyword arguments, the same for every breaker.
    """
    return [GuardedCarrier(c, CircuitBreaker(store, c.code, **options)) if c.remote else c for c in carriers]
