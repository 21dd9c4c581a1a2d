"""Key-value store with expiry, behind one interface: memory by default, Redis with REDIS_URL.

Quote locks, the quote cache and (later) shared carrier state all live here, so several
workers sharing one Redis see the same quotes. This is the only module that imports redis.
"""

from __future__ import annotations

import time
from typing import Awaitable, Callable, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError


class StoreUnavailable(Exception):
    """The backing server did not answer; callers decide whether that is fatal."""


class Store(Protocol):
    backend: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_s: float) -> int:
        """Increment a counter, starting its expiry with the first increment."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A dict with expiry. Expired keys are purged lazily and in sweeps as the store grows."""

    backend = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_every: int = 10_000) -> None:
        self._data: dict[str, tuple[float, bytes | int]] = {}
        self._clock = clock
        self._sweep_every = sweep_every
        self._writes = 0

    def _live(self, key: str) -> bytes | int | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires <= self._clock():
            del self._data[key]
            return None
        return value

    def _write(self, key: str, value: bytes | int, ttl_s: float) -> None:
        self._data[key] = (self._clock() + ttl_s, value)
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            now = self._clock()
            for k in [k for k, (exp, _) in self._data.items() if exp <= now]:
                del self._data[k]

    async def get(self, key: str) -> bytes | None:
        value = self._live(key)
        # Counters read back as Redis returns them: the number's digits.
        return str(value).encode() if isinstance(value, int) else value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._write(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        if self._live(key) is not None:
            return False
        self._write(key, value, ttl_s)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def incr(self, key: str, ttl_s: float) -> int:
        current = self._live(key)
        if isinstance(current, int):
            expires, _ = self._data[key]
            self._data[key] = (expires, current + 1)
            return current + 1
        self._write(key, 1, ttl_s)
        return 1

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class RedisStore:
    backend = "redis"

    def __init__(self, url: str, prefix: str = "cr:") -> None:
        self._redis = aioredis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        try:
            return await self._redis.get(self._k(key))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        try:
            await self._redis.set(self._k(key), value, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        try:
            return bool(await self._redis.set(self._k(key), value, px=max(1, int(ttl_s * 1000)), nx=True))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._k(key))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def incr(self, key: str, ttl_s: float) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(self._k(key))
                # NX keeps the window fixed from the first increment instead of sliding forever.
                pipe.pexpire(self._k(key), max(1, int(ttl_s * 1000)), nx=True)
                value, _ = await pipe.execute()
            return int(value)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()


class ResilientStore:
    """Redis first; while it does not answer, memory, trying Redis again after a pause.

    A checkout must not fail because Redis restarted. What is written to memory during an
    outage is local to this process and is not copied back: quotes made then are honoured by
    this worker only, which `/healthz` makes visible through `degraded`.
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
        self.outages = 0

    @property
    def backend(self) -> str:
        return self._primary.backend

    @property
    def degraded(self) -> bool:
        return self._retry_at > 0.0

    async def _call(self, name: str, *args: object) -> object:
        if self._clock() >= self._retry_at:
            try:
                result = await getattr(self._primary, name)(*args)
            except StoreUnavailable:
                if not self.degraded:
                    self.outages += 1
                self._retry_at = self._clock() + self._retry_after_s
            else:
                self._retry_at = 0.0
                return result
        return await getattr(self._fallback, name)(*args)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[object]]:
        # Methods a backend adds beyond the protocol get the same fallback.
        if name.startswith("_") or not callable(getattr(self._primary, name, None)):
            raise AttributeError(name)

        async def call(*args: object) -> object:
            return await self._call(name, *args)

        return call

    async def get(self, key: str) -> bytes | None:
        return await self._call("get", key)  # type: ignore[return-value]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call("set", key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call("add", key, value, ttl_s)  # type: ignore[return-value]

    async def delete(self, key: str) -> None:
        await self._call("delete", key)

    async def incr(self, key: str, ttl_s: float) -> int:
        return await self._call("incr", key, ttl_s)  # type: ignore[return-value]

    async def ping(self) -> bool:
        ok = await self._primary.ping()
        if ok:
            self._retry_at = 0.0
        return ok

    async def close(self) -> None:
        await self._primary.close()
        await self._fallback.close()


def open_store(redis_url: str | None) -> Store:
    return ResilientStore(RedisStore(redis_url)) if redis_url else MemoryStore()
