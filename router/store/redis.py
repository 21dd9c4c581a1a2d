"""RedisStore: the store on Redis, through redis-py's asyncio client with hiredis parsing replies.

Two paths, both redis-py's. The commands of quotes (GET, SET, DEL, the counters, HSET, HDEL,
PING) are few and small and come by the dozen at once from the quotes in flight: they go through
`batching.Batcher`, two connections on which whatever was issued meanwhile leaves as one batch
(see there for the figure that made it). Bulk hash work runs as Lua scripts, registered with
redis-py (EVALSHA, the source sent again on NOSCRIPT), through its client and a bounded,
blocking connection pool of `MAX_CONNECTIONS`: those calls are few, large and may overlap (an
outcome import beside the quotes' history reads), so each gets a connection of its own up to
the bound, and past it waits (within the same bound as a reply) rather than opening sockets
without limit on a Redis that every worker shares.

Bounds: connecting (with AUTH and SELECT), waiting for a pooled connection and each reply must
finish within `timeout_s`, else StoreUnavailable; the connection is then dropped (a late reply
never reaches the next caller), as it is for a caller cancelled mid-reply on the pool. A
connection found dead is tried once more on a new one: after Redis restarts every socket is
stale, and each should not count as an outage. Nothing that timed out is retried, or the bound
would double.

Where one operation takes several commands they go together: `set_many` in one batch, `incr`
and `incr_and_get` inside MULTI…EXEC in one batch (a counter must not be left without its
expiry), several script chunks in one pipeline without MULTI. URLs: `redis://[[user]:password@]
host[:port][/db]`, `rediss://` and `unix://path?db=N`, as redis-py reads them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoScriptError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from router.store import lua
from router.store.base import MemoryUse, check_hash_entry
from router.store.batching import Batcher
from router.store.errors import InvalidStoreUrl, StoreUnavailable

T = TypeVar("T")

TIMEOUT_S = 1.0
MAX_CONNECTIONS = 16
BATCH_CONNECTIONS = 2


def _pool(url: str, timeout_s: float, max_connections: int) -> BlockingConnectionPool:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise InvalidStoreUrl(f"not a redis://, rediss:// or unix:// URL: {url!r}")
    # redis-py reads a database it cannot parse as 0: a typo would share another service's keys.
    db = unquote(parts.path).strip("/") if parts.scheme != "unix" else ""
    if db and not db.isdigit():
        raise InvalidStoreUrl(f"Redis database must be a number, not {db!r}")
    try:
        return BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=timeout_s,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
            # Nothing here needs RESP3, and RESP2 connects without a HELLO round trip on any
            # server or proxy that speaks Redis.
            protocol=2,
        )
    except ValueError as exc:
        raise InvalidStoreUrl(f"{exc}: {url!r}") from exc


class RedisStore:
    backend = "redis"
    degraded = False

    def __init__(
        self,
        url: str,
        prefix: str = "cr:",
        timeout_s: float = TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        batch_connections: int = BATCH_CONNECTIONS,
    ) -> None:
        self._pool = _pool(url, timeout_s, max_connections)
        self._redis: Redis = Redis(connection_pool=self._pool)
        self._batch = Batcher(self._pool, timeout_s, batch_connections)
        self._prefix = prefix
        self._timeout_s = timeout_s
        self._hincr = self._redis.register_script(lua.HINCR)
        self._hsetnx = self._redis.register_script(lua.HSETNX)
        self._hgetall = self._redis.register_script(lua.HGETALL)
        self._hsum = self._redis.register_script(lua.HSUM)
        self._get_referenced = self._redis.register_script(lua.GET_REFERENCED)

    def write_back_after_outages(self, prefix: str) -> None:
        pass  # nothing stands in for this store

    async def vouches_for_a_miss(self) -> bool:
        return True

    def memory_use(self) -> MemoryUse | None:
        return None

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def _call(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except AuthenticationError as exc:
            raise StoreUnavailable(f"Redis refused the connection: {exc}") from exc
        except RedisTimeoutError as exc:
            raise StoreUnavailable(f"no reply from Redis within {self._timeout_s:g} s: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis: {exc or type(exc).__name__}") from exc

    async def get(self, key: str) -> bytes | None:
        return await self._call(cast("Awaitable[bytes | None]", self._batch.call("GET", self._k(key))))

    async def get_referenced(self, key: str, prefix: str) -> bytes | None:
        # Through the batcher like GET, as this is a cache hit's one read: EVALSHA, and the
        # source itself only when Redis answers NOSCRIPT (after a restart or a SCRIPT FLUSH).
        script, args = self._get_referenced, (1, self._k(key), self._k(prefix))
        try:
            return await self._call(self._batch.call("EVALSHA", script.sha, *args))
        except StoreUnavailable as exc:
            if not isinstance(exc.__cause__, NoScriptError):
                raise
        return await self._call(self._batch.call("EVAL", script.script, *args))

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call(self._batch.call("SET", self._k(key), value, "PX", _px(ttl_s)))

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        if not items:
            return
        await self._call(
            self._batch.calls([("SET", self._k(key), value, "PX", _px(ttl_s)) for key, value, ttl_s in items])
        )

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call(self._batch.call("SET", self._k(key), value, "PX", _px(ttl_s), "NX")) is not None

    async def delete(self, key: str) -> None:
        await self._call(self._batch.call("DEL", self._k(key)))

    async def incr(self, key: str, ttl_s: float) -> int:
        count, _ = await self.incr_and_get(key, ttl_s, None)
        return count

    async def incr_and_get(self, key: str, ttl_s: float, other: str | None) -> tuple[int, bytes | None]:
        # In MULTI: a counter must not be left without its expiry. NX keeps the window fixed from
        # the first increment instead of sliding forever.
        commands: list[tuple[Any, ...]] = [
            ("MULTI",),
            ("INCR", self._k(key)),
            ("PEXPIRE", self._k(key), _px(ttl_s), "NX"),
        ]
        if other is not None:
            commands.append(("GET", self._k(other)))
        *_, done = await self._call(self._batch.calls([*commands, ("EXEC",)]))
        error = next((reply for reply in done if isinstance(reply, Exception)), None)
        if error is not None:
            raise StoreUnavailable(f"Redis: {error}") from error
        return int(done[0]), (done[2] if other is not None else None)

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._batch.call("PING")))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
        await self._batch.close()
        await self._redis.aclose()
        await self._pool.aclose()

    async def hincr(self, increments: Mapping[str, Mapping[str, int]]) -> None:
        chunks: list[str] = []
        tokens: list[str] = []
        for key, fields in increments.items():
            if not fields:
                continue
            tokens += (self._k(key), str(len(fields)))
            for name, amount in fields.items():
                tokens += (name, str(amount))
            if len(tokens) >= lua.SCRIPT_CHUNK:
                chunks.append("\0".join(tokens))
                tokens = []
        if tokens:
            chunks.append("\0".join(tokens))
        await self._scripts(self._hincr, [((), (chunk,)) for chunk in chunks])

    async def hgetall(self, keys: Sequence[str]) -> list[dict[str, bytes]]:
        if not keys:
            return []
        (answers,) = await self._scripts(self._hgetall, [([self._k(key) for key in keys], ())])
        hashes = []
        for packed in answers:
            parts = packed.split(b"\0") if packed else []
            hashes.append({f.decode(): v for f, v in zip(parts[::2], parts[1::2], strict=False)})
        return hashes

    async def hsum(self, groups: Sequence[Sequence[str]]) -> list[dict[str, int]]:
        if not groups:
            return []
        keys = [self._k(key) for group in groups for key in group]
        (answers,) = await self._scripts(self._hsum, [(keys, [len(group) for group in groups])])
        sums = []
        for packed in answers:
            parts = packed.split(b"\0") if packed else []
            sums.append({f.decode(): int(v) for f, v in zip(parts[::2], parts[1::2], strict=False)})
        return sums

    async def hset(self, key: str, field: str, value: bytes) -> None:
        check_hash_entry(field, value)
        await self._call(self._batch.call("HSET", self._k(key), field, value))

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        if not fields:
            return
        await self._call(self._batch.call("HDEL", self._k(key), *fields))

    async def delete_prefix(self, prefix: str) -> int:
        # SCAN, not KEYS: Redis goes on answering everyone else between the pages.
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._k(prefix)) + "*"

        async def scan_and_unlink() -> int:
            deleted, page = 0, []
            async for key in self._redis.scan_iter(match=pattern, count=1000):
                page.append(key)
                if len(page) >= 1000:
                    deleted += await self._redis.unlink(*page)
                    page = []
            if page:
                deleted += await self._redis.unlink(*page)
            return deleted

        return await self._call(scan_and_unlink())

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        calls = []
        for start in range(0, len(items), lua.SCRIPT_CHUNK):
            chunk = items[start : start + lua.SCRIPT_CHUNK]
            calls.append(((), ("\0".join(self._k(key) for key, _ in chunk), "\0".join(name for _, name in chunk))))
        answers = await self._scripts(self._hsetnx, calls)
        return [c == 0x31 for answer in answers for c in answer]  # b"1"

    async def _scripts(self, script: Any, calls: Sequence[tuple[Sequence[Any], Sequence[Any]]]) -> list[Any]:
        """Run `script` once per (keys, args): one call alone, several in one pipeline. Either way
        redis-py runs it by its SHA1 and sends the source only when Redis does not know it."""
        if not calls:
            return []
        if len(calls) == 1:
            keys, args = calls[0]
            return [await self._call(script(keys=keys, args=args))]
        pipe = self._redis.pipeline(transaction=False)
        for keys, args in calls:
            await script(keys=keys, args=args, client=pipe)
        return await self._call(pipe.execute())


def _px(ttl_s: float) -> int:
    return max(1, int(ttl_s * 1000))
