"""The per-carrier circuit breaker, on the memory store and on the real Redis."""

from __future__ import annotations

import asyncio

import pytest

from carriers.api import (
    ApiErrorDetail,
    CarrierApiError,
    CarrierRateLimited,
    CarrierUnavailable,
    Secret,
)
from carriers.courier import CourierCarrier, CourierClient
from router.core.models import CarrierInfo, CarrierQuote, RateRequest
from router.quoting.breaker import (
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    GuardedCarrier,
    Ticket,
    guard_carriers,
)
from router.store import MemoryStore, Store, StoreUnavailable
from tests.carriers.sandbox_fixtures import rate_request


class Clock:
    def __init__(self) -> None:
        self.now = 3000.0  # the start of a 10 s window

    def __call__(self) -> float:
        return self.now


def breaker(store: Store, clock: Clock, carrier: str = "cdek", **kw: float) -> CircuitBreaker:
    options = dict(min_failures=3, failure_rate=0.5, window_s=10, buckets=10, open_s=10, refresh_s=1, clock=clock)
    return CircuitBreaker(store, carrier, **{**options, **kw})  # type: ignore[arg-type]


async def fail(b: CircuitBreaker, times: int, exc: BaseException | None = None) -> None:
    for _ in range(times):
        await b.failed(await b.acquire(), exc or CarrierUnavailable("cdek", "HTTP 500"))


async def succeed(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        await b.succeeded(await b.acquire())


async def test_a_healthy_carrier_stays_closed(store: Store) -> None:
    b = breaker(store, Clock())
    await succeed(b, 10)
    await fail(b, 2)
    assert await b.state() is BreakerState.CLOSED


async def test_enough_failures_open_the_circuit_and_calls_are_turned_away(store: Store) -> None:
    b = breaker(store, Clock())
    await fail(b, 3)
    assert await b.state() is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        await b.acquire()


async def test_failures_that_are_a_small_share_of_calls_do_not_open_it(store: Store) -> None:
    b = breaker(store, Clock())
    await succeed(b, 20)
    await fail(b, 5)
    assert await b.state() is BreakerState.CLOSED


async def test_after_the_hold_exactly_one_caller_probes(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    await fail(b, 3)
    clock.now += 11
    assert await b.state() is BreakerState.HALF_OPEN
    results = await asyncio.gather(*(b.acquire() for _ in range(10)), return_exceptions=True)
    assert sum(isinstance(r, Ticket) and r.probe for r in results) == 1
    assert sum(isinstance(r, CircuitOpen) for r in results) == 9


async def test_a_successful_probe_closes_the_circuit(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    await fail(b, 3)
    clock.now += 11
    await b.succeeded(await b.acquire())
    assert await b.state() is BreakerState.CLOSED
    assert await b.acquire() == Ticket()


async def test_a_failed_probe_opens_it_again(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    await fail(b, 3)
    clock.now += 11
    await b.failed(await b.acquire(), TimeoutError())
    assert await b.state() is BreakerState.OPEN
    clock.now += 11
    assert (await b.acquire()).probe  # and the next hold ends with a new probe


async def test_workers_sharing_a_store_count_failures_together_and_share_the_state(store: Store) -> None:
    clock = Clock()
    one, two = breaker(store, clock), breaker(store, clock)
    await fail(one, 2)
    await fail(two, 1)  # the third failure between them
    with pytest.raises(CircuitOpen):
        await two.acquire()
    # The other worker read the state as closed a moment ago; it learns within refresh_s.
    assert await one.acquire() == Ticket()
    clock.now += 1
    with pytest.raises(CircuitOpen):
        await one.acquire()
    assert one.last_state is BreakerState.OPEN


async def test_a_probe_that_succeeds_on_one_worker_closes_the_circuit_for_all(store: Store) -> None:
    clock = Clock()
    one, two = breaker(store, clock), breaker(store, clock)
    await fail(one, 3)
    clock.now += 11
    ticket = await two.acquire()
    assert ticket.probe
    with pytest.raises(CircuitOpen):  # half-open: only the probe goes
        await one.acquire()
    await two.succeeded(ticket)
    clock.now += 1  # the other worker reads the verdict within refresh_s
    assert await one.acquire() == Ticket()
    assert await one.state() is BreakerState.CLOSED


async def test_a_closed_circuit_and_a_probe_in_flight_cost_no_store_read_within_refresh_s() -> None:
    class Counting(MemoryStore):
        reads = 0

        async def get(self, key: str) -> bytes | None:
            Counting.reads += 1
            return await super().get(key)

    clock = Clock()
    b = breaker(Counting(), clock)
    await succeed(b, 50)
    assert Counting.reads == 1  # the first call reads the state; the next ones within a second do not
    clock.now += 11  # those calls leave the window
    await fail(b, 3)
    clock.now += 11
    ticket = await b.acquire()
    assert ticket.probe
    reads = Counting.reads
    for _ in range(20):
        with pytest.raises(CircuitOpen, match="half_open"):
            await b.acquire()
    assert Counting.reads == reads


async def test_the_window_slides_so_failures_either_side_of_a_boundary_count_together(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    clock.now += 9.5  # late in one 10 s window
    await fail(b, 2)
    clock.now += 1  # early in the next
    await fail(b, 1)
    assert await b.state() is BreakerState.OPEN


async def test_failures_older_than_the_window_are_forgotten(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    await fail(b, 2)
    clock.now += 21  # past this window and the next
    await fail(b, 2)
    assert await b.state() is BreakerState.CLOSED


async def test_a_busy_carrier_that_starts_failing_is_cut_off_within_a_few_seconds(store: Store) -> None:
    clock = Clock()
    b = CircuitBreaker(store, "cdek", clock=clock)  # the service's defaults
    for _ in range(400):  # twenty seconds of 20 good calls a second
        await succeed(b, 1)
        clock.now += 0.05
    started = clock.now
    while b.last_state is BreakerState.CLOSED:
        await fail(b, 1)
        clock.now += 0.05
        assert clock.now - started < 60, "never opened"
    assert b.last_state is BreakerState.OPEN
    assert clock.now - started <= b.window_s / 2 + 1.0  # half the window's calls, one bucket late at most


async def test_a_carriers_well_formed_refusal_is_not_a_failure(store: Store) -> None:
    b = breaker(store, Clock())
    refusal = CarrierApiError("cdek", "HTTP 400", status=400, errors=(ApiErrorDetail("v2_entity_not_found", "city"),))
    await fail(b, 10, refusal)
    assert await b.state() is BreakerState.CLOSED


async def test_a_rate_limit_holds_the_circuit_open_for_retry_after(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    await fail(b, 1, CarrierRateLimited("cdek", "rate limited", status=429, retry_after_s=60))
    clock.now += 30
    assert await b.state() is BreakerState.OPEN
    clock.now += 31
    assert await b.state() is BreakerState.HALF_OPEN


async def test_a_lost_store_leaves_the_breaker_to_this_workers_own_counts() -> None:
    class Down(MemoryStore):
        async def get(self, key: str) -> bytes | None:
            raise StoreUnavailable("down")

        async def set(self, key: str, value: bytes, ttl_s: float) -> None:
            raise StoreUnavailable("down")

        async def incr(self, key: str, ttl_s: float) -> int:
            raise StoreUnavailable("down")

        async def delete(self, key: str) -> None:
            raise StoreUnavailable("down")

    clock = Clock()
    b = breaker(Down(), clock)
    await succeed(b, 3)
    await fail(b, 2)
    assert await b.acquire() == Ticket()  # calls go through while the carrier is well
    await fail(b, 1)  # the third failure, half of the calls
    with pytest.raises(CircuitOpen):
        await b.acquire()
    clock.now += 11
    ticket = await b.acquire()
    assert ticket.probe
    await b.succeeded(ticket)
    assert await b.acquire() == Ticket()


class Hanging:
    code = "slow"
    remote = False  # as far as `guard_carriers` is told: it is left unguarded

    def __init__(self) -> None:
        self.calls = 0

    def info(self) -> CarrierInfo:
        return CarrierInfo("slow", "Slow", "test", ())

    async def quote(self, request: RateRequest) -> CarrierQuote:
        self.calls += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    def quote_sync(self, request: RateRequest) -> None:
        return None

    def close(self) -> None:
        pass


async def test_a_guarded_carrier_that_keeps_timing_out_is_no_longer_asked(store: Store) -> None:
    inner = Hanging()
    guarded = GuardedCarrier(inner, breaker(store, Clock(), carrier="slow"))
    for _ in range(3):
        # Long enough that the breaker's own store round trips finish inside it on a busy machine:
        # a deadline that lands before the carrier is asked is not the carrier's failure.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.25):
                await guarded.quote(rate_request())
    async with asyncio.timeout(5):  # were the breaker still closed, the carrier would hang here
        with pytest.raises(CircuitOpen):
            await guarded.quote(rate_request())
    assert inner.calls == 3
    assert guarded.info().status == "open"


class Overflowing(Hanging):
    """Our own date arithmetic failing on what a caller sent, before the carrier is asked."""

    async def quote(self, request: RateRequest) -> CarrierQuote:
        self.calls += 1
        raise OverflowError("date value out of range")


async def test_our_own_errors_never_open_a_carriers_breaker(store: Store) -> None:
    inner = Overflowing()
    guarded = GuardedCarrier(inner, breaker(store, Clock(), carrier="slow"))
    for _ in range(10):
        with pytest.raises(OverflowError):
            await guarded.quote(rate_request())
    assert inner.calls == 10
    assert await guarded.breaker.state() is BreakerState.CLOSED


@pytest.mark.parametrize("exc", [ConnectionRefusedError(111, "refused"), CarrierUnavailable("cdek", "HTTP 502")])
async def test_a_carriers_own_faults_still_open_it(store: Store, exc: Exception) -> None:
    b = breaker(store, Clock())
    await fail(b, 3, exc)
    assert await b.state() is BreakerState.OPEN


async def test_a_probe_that_meets_our_own_error_leaves_the_probe_to_the_next_caller(store: Store) -> None:
    clock = Clock()
    b = breaker(store, clock)
    await fail(b, 3)
    clock.now += 11
    probe = await b.acquire()
    assert probe.probe
    await b.failed(probe, KeyError("tariff"))
    assert await b.state() is BreakerState.HALF_OPEN  # neither closed nor opened again by our bug
    clock.now += 1.5  # past refresh_s: the lock is read afresh
    assert (await b.acquire()).probe


def test_only_api_carriers_are_guarded() -> None:
    courier = CourierCarrier(CourierClient(None, base_url="http://c", token=Secret("t")))
    other = Hanging()
    wrapped = guard_carriers([courier, other], MemoryStore())
    assert isinstance(wrapped[0], GuardedCarrier) and wrapped[0].code == courier.code
    assert wrapped[1] is other


class RoundTrips(MemoryStore):
    """The memory store, each call a trip through the event loop as a Redis call is."""

    async def get(self, key: str) -> bytes | None:
        await asyncio.sleep(0)
        return await super().get(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await asyncio.sleep(0)
        await super().set(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        await asyncio.sleep(0)
        return await super().add(key, value, ttl_s)

    async def delete(self, key: str) -> None:
        await asyncio.sleep(0)
        await super().delete(key)

    async def incr(self, key: str, ttl_s: float) -> int:
        await asyncio.sleep(0)
        return await super().incr(key, ttl_s)


async def eventually_open(b: CircuitBreaker) -> BreakerState:
    state = await b.state()
    for _ in range(100):  # the verdict is written in its own task; give it its store round trips
        if state is BreakerState.OPEN:
            break
        await asyncio.sleep(0)
        state = await b.state()
    return state


async def test_a_probe_cancelled_twice_by_deadline_and_timeout_still_reopens_and_frees_the_probe() -> None:
    clock = Clock()
    b = breaker(RoundTrips(), clock, carrier="slow")  # the probe's lock lasts its 5 s in real time
    inner = Hanging()
    guarded = GuardedCarrier(inner, b)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await guarded.quote(rate_request())
    clock.now += 11
    probe = asyncio.ensure_future(guarded.quote(rate_request()))
    for _ in range(100):  # until the probe is out at the carrier
        if inner.calls == 4:
            break
        await asyncio.sleep(0)
    # The quote's deadline and the carrier timeout fire together: the first cancellation is
    # being recorded when the second arrives.
    probe.cancel()
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert await eventually_open(b) is BreakerState.OPEN
    with pytest.raises(CircuitOpen, match="circuit open"):
        await b.acquire()
    clock.now += 11  # the failed probe gave up its lock: the next hold's end brings the next probe
    assert (await b.acquire()).probe
