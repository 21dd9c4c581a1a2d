"""ResilientStore: Redis first, and this process's memory standing in while Redis does not answer.

What a worker wrote to memory during an outage under a prefix its owner asked for
(`write_back_after_outages`: the quotes) it writes to Redis once Redis answers again, where Redis
holds nothing newer, with the time each has left. Redis's return is noticed by the first call
that reaches it, by `/healthz`'s ping, or, on a worker nobody calls, by a probe every
PROBE_EVERY_S while anything waits to be written back. Until a worker's write-back is done, its
entry in the WRITING_BACK hash (its deadline, in Unix seconds, so one that died mid-way stops
counting) tells every worker not to vouch for a miss: a quote not found then may be on its way.
A worker that saw the outage itself also vouches for none for RECOVERY_GRACE_S after it ended,
the time others take to notice Redis back and enter WRITING_BACK.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from router.store.base import MemoryUse, Store, memory_use
from router.store.errors import StoreUnavailable
from router.store.memory import MemoryStore

log = logging.getLogger(__name__)

WRITING_BACK = "store:writing-back"
# A write-back renews its entry every batch; a worker killed mid-way stops holding misses after this.
WRITING_BACK_FOR_S = 10.0
WRITE_BACK_BATCH = 256  # keys a batch: the batcher sends them as one write
PROBE_EVERY_S = 0.25
HELD_SLACK = 1024
# A probe's pause and a ping's longest wait (the store's one-second bound), with room.
RECOVERY_GRACE_S = 2.0


class ResilientStore:
    """Redis first; while it does not answer, memory, trying Redis again after a pause.

    A checkout must not fail because Redis restarted. What is written to memory during an outage
    stays readable on this worker after it; what was written under a prefix given to
    `write_back_after_outages` is also written back to Redis, for every worker (module docstring).
    Other values (counters, locks, breakers' states, last good answers) are this worker's alone:
    Redis's own, or none, are the truth once it is back.
    """

    def __init__(
        self,
        primary: Store,
        fallback: MemoryStore | None = None,
        retry_after_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._fallback = fallback if fallback is not None else MemoryStore()  # an empty one is falsy
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._retry_at = 0.0
        self._back_at: float | None = None  # when the last outage ended, on `clock`
        self._fallback_used = False
        self.outages = 0
        self._kept: tuple[str, ...] = ()  # prefixes of what is written back
        self._held: dict[str, None] = {}  # keys under them written to memory, in order, to write back
        self._writing_back: asyncio.Task[int] | None = None
        self._probe: asyncio.Task[None] | None = None
        self._token = secrets.token_hex(8)  # this worker's field in WRITING_BACK

    @property
    def backend(self) -> str:
        return self._primary.backend

    def memory_use(self) -> MemoryUse | None:
        """The memory that stands in while Redis is away; None until it has been needed."""
        return memory_use(self._fallback) if self._fallback_used else None

    @property
    def degraded(self) -> bool:
        return self._retry_at > 0.0

    def write_back_after_outages(self, prefix: str) -> None:
        if prefix not in self._kept:
            self._kept = (*self._kept, prefix)

    async def vouches_for_a_miss(self) -> bool:
        (writers,) = await self.hgetall([WRITING_BACK])
        if self.degraded or (self._back_at is not None and self._clock() - self._back_at < RECOVERY_GRACE_S):
            return False
        now = time.time()
        return not any(_deadline(value) > now for value in writers.values())

    def _went_away(self, exc: StoreUnavailable) -> None:
        if not self.degraded:
            self.outages += 1
            log.warning("store unavailable; memory stands in", extra={"error": str(exc)})
        self._retry_at = self._clock() + self._retry_after_s

    def _came_back(self) -> None:
        if self.degraded:
            log.warning("store answers again")
            self._back_at = self._clock()
        self._retry_at = 0.0
        if self._held and self._writing_back is None:
            self._start_write_back()

    def _start_write_back(self) -> asyncio.Task[int]:
        # In a context of its own: it is no request's work, and must not log as the one that noticed.
        task = asyncio.get_running_loop().create_task(self._write_back(), context=contextvars.Context())
        task.add_done_callback(self._written_back)
        self._writing_back = task
        return task

    async def _call(self, name: str, *args: object, held: Iterable[str] = ()) -> object:
        if self._clock() >= self._retry_at:
            try:
                result = await getattr(self._primary, name)(*args)
            except StoreUnavailable as exc:
                self._went_away(exc)
            else:
                self._came_back()
                return result
        self._fallback_used = True
        result = await getattr(self._fallback, name)(*args)
        self._hold(held)
        return result

    def _hold(self, keys: Iterable[str]) -> None:
        if not self._kept:
            return
        for key in keys:
            if key.startswith(self._kept):
                self._held[key] = None
        if len(self._held) > 2 * len(self._fallback) + HELD_SLACK:
            # A long outage fills memory, which drops what it was given first: forget those keys too.
            self._held = dict.fromkeys(key for key in self._held if key in self._fallback)
        if self._held and self._probe is None:
            self._probe = asyncio.get_running_loop().create_task(self._watch(), context=contextvars.Context())

    async def _watch(self) -> None:
        """Notice Redis's return on a worker nobody calls, so what it holds reaches the others."""
        try:
            while self._held:
                await asyncio.sleep(PROBE_EVERY_S)
                if self._writing_back is None and await self.ping():
                    with contextlib.suppress(StoreUnavailable):  # away again: the next probe retries
                        await self.write_back()
        finally:
            self._probe = None

    async def write_back(self) -> int:
        """Write back what is held now (or wait for the write-back under way); how many were
        written. StoreUnavailable if Redis went away again: what is left waits for its return."""
        return await asyncio.shield(self._writing_back or self._start_write_back())

    def _written_back(self, task: asyncio.Task[int]) -> None:
        self._writing_back = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("writing back to the store stopped", extra={"error": str(task.exception())})

    async def _write_back(self) -> int:
        written = 0
        try:
            while self._held:
                batch = list(itertools.islice(self._held, WRITE_BACK_BATCH))
                await self._primary.hset(WRITING_BACK, self._token, b"%.3f" % (time.time() + WRITING_BACK_FOR_S))
                values = [await self._fallback.get_with_ttl(key) for key in batch]
                kept = [(key, *value) for key, value in zip(batch, values, strict=True) if value is not None]
                # Only where Redis holds nothing: a value written there since is newer than ours.
                added = await asyncio.gather(*(self._primary.add(key, value, ttl_s) for key, value, ttl_s in kept))
                written += sum(added)
                for key in batch:
                    self._held.pop(key, None)
        except StoreUnavailable as exc:
            self._went_away(exc)
            raise
        log.warning("written back to the store what memory held while it was away", extra={"keys": written})
        with contextlib.suppress(StoreUnavailable):
            await self._primary.hdel(WRITING_BACK, [self._token])
        return written

    def __getattr__(self, name: str) -> Callable[..., Awaitable[object]]:
        # Methods a backend adds beyond the protocol get the same fallback.
        if name.startswith("_") or not callable(getattr(self._primary, name, None)):
            raise AttributeError(name)

        async def call(*args: object) -> object:
            return await self._call(name, *args)

        return call

    async def get(self, key: str) -> bytes | None:
        value = await self._call("get", key)
        if value is None and self._fallback_used:
            # Written here while Redis was away: Redis never saw it, yet a quote made then is
            # still this worker's promise after Redis returns.
            value = await self._fallback.get(key)
        return value  # type: ignore[return-value]

    async def get_referenced(self, key: str, prefix: str) -> bytes | None:
        value = await self._call("get_referenced", key, prefix)
        if value is None and self._fallback_used:
            value = await self._fallback.get_referenced(key, prefix)  # as in `get`
        return value  # type: ignore[return-value]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call("set", key, value, ttl_s, held=(key,))

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call("add", key, value, ttl_s)  # type: ignore[return-value]

    async def delete(self, key: str) -> None:
        await self._call("delete", key)
        self._held.pop(key, None)
        if self._fallback_used:
            # Or a copy from the outage would answer `get` again (a breaker's stale `open`).
            await self._fallback.delete(key)

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        await self._call("set_many", items, held=[key for key, _, _ in items])

    async def hgetall(self, keys: Sequence[str]) -> list[dict[str, bytes]]:
        return await self._call("hgetall", keys)  # type: ignore[return-value]

    async def hsum(self, groups: Sequence[Sequence[str]]) -> list[dict[str, int]]:
        return await self._call("hsum", groups)  # type: ignore[return-value]

    async def incr(self, key: str, ttl_s: float) -> int:
        return await self._call("incr", key, ttl_s)  # type: ignore[return-value]

    async def incr_and_get(self, key: str, ttl_s: float, other: str) -> tuple[int, bytes | None]:
        return await self._call("incr_and_get", key, ttl_s, other)  # type: ignore[return-value]

    # Durable writes go to Redis or fail: written to this process's memory they would vanish
    # with it, and what they record (imported outcomes, suspensions) would be silently lost.
    async def hincr(self, increments: Mapping[str, Mapping[str, int]]) -> None:
        await self._primary.hincr(increments)

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        return await self._primary.hsetnx_many(items)

    async def delete_prefix(self, prefix: str) -> int:
        return await self._primary.delete_prefix(prefix)

    async def hset(self, key: str, field: str, value: bytes) -> None:
        await self._primary.hset(key, field, value)

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        await self._primary.hdel(key, fields)

    async def ping(self) -> bool:
        ok = await self._primary.ping()
        if ok:
            self._came_back()
        return ok

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        # A worker stopping with Redis back still hands over what it held, and ends its entry in
        # WRITING_BACK rather than hold every worker's misses until its deadline.
        if self._writing_back is not None or (self._held and await self._primary.ping()):
            with contextlib.suppress(StoreUnavailable):
                await self.write_back()
        await self._primary.close()
        await self._fallback.close()


def _deadline(value: bytes) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0
