"""ResilientStore: Redis first, and this process's memory standing in while Redis does not answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from router.store.base import MemoryUse, Store, memory_use
from router.store.errors import StoreUnavailable
from router.store.memory import MemoryStore

log = logging.getLogger(__name__)


class ResilientStore:
    """Redis first; while it does not answer, memory, trying Redis again after a pause.

    A checkout must not fail because Redis restarted. What is written to memory during an
    outage is local to this process and is not copied back: quotes made then are honoured by
    this worker only — during the outage and after it — which `/healthz` makes visible through
    `degraded`.
    """

    def __init__(
        self,
        primary: Store,
        fallback: Store | None = None,
        retry_after_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._fallback = fallback or MemoryStore()
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._retry_at = 0.0
        self._fallback_used = False
        self.outages = 0

    @property
    def backend(self) -> str:
        return self._primary.backend

    def memory_use(self) -> MemoryUse | None:
        """The memory that stands in while Redis is away; None until it has been needed."""
        return memory_use(self._fallback) if self._fallback_used else None

    @property
    def degraded(self) -> bool:
        return self._retry_at > 0.0

    async def _call(self, name: str, *args: object) -> object:
        if self._clock() >= self._retry_at:
            try:
                result = await getattr(self._primary, name)(*args)
            except StoreUnavailable as exc:
                if not self.degraded:
                    self.outages += 1
                    log.warning("store unavailable; memory stands in", extra={"error": str(exc)})
                self._retry_at = self._clock() + self._retry_after_s
            else:
                if self.degraded:
                    log.warning("store answers again")
                self._retry_at = 0.0
                return result
        self._fallback_used = True
        return await getattr(self._fallback, name)(*args)

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
        await self._call("set", key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call("add", key, value, ttl_s)  # type: ignore[return-value]

    async def delete(self, key: str) -> None:
        await self._call("delete", key)
        if self._fallback_used:
            # Or a copy from the outage would answer `get` again (a breaker's stale `open`).
            await self._fallback.delete(key)

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        await self._call("set_many", items)

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

    async def hset(self, key: str, field: str, value: bytes) -> None:
        await self._primary.hset(key, field, value)

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        await self._primary.hdel(key, fields)

    async def ping(self) -> bool:
        ok = await self._primary.ping()
        if ok:
            self._retry_at = 0.0
        return ok

    async def close(self) -> None:
        await self._primary.close()
        await self._fallback.close()
