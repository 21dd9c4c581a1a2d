"""RedisStore: the store on Redis, through redis-py's asyncio client with hiredis parsing replies.

One pool of connections a worker, bounded and blocking: a quote on a cache hit reads twice and
a miss writes a handful of keys, and a busy worker has dozens of quotes in flight. Each command
(or pipeline) holds a connection only from sending to reading its reply, so `MAX_CONNECTIONS`
open sockets serve far more quotes than that in flight; past it a caller waits for the next free
connection (within the same bound as a reply) instead of opening sockets without limit, which a
burst would otherwise turn into thousands of connections per worker on a Redis shared by all of
them. A single shared connection would serialise every call behind a lock, one round trip at a
time; an unbounded pool has no such wait but no ceiling either.

Bounds: connecting (with AUTH and SELECT), waiting for a pooled connection and each reply must
each finish within `timeout_s`, else StoreUnavailable; redis-py then drops that connection (a
late reply never reaches the next caller), as it does for a caller cancelled mid-reply. A
connection found dead is retried once at once, on a new one: after Redis restarts every pooled
socket is stale, and one call each should not each count as an outage. Nothing that timed out is
retried, or the bound would double.

Where one operation takes several commands they go in one pipeline: `set_many` and several
script chunks without MULTI (each command stands alone), `incr` and `incr_and_get` inside
MULTI…EXEC (a counter must not be left without its expiry). URLs: `redis://[[user]:password@]
host[:port][/db]`, `rediss://` and `unix://path?db=N`, as redis-py reads them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from router.store import lua
from router.store.base import check_hash_entry
from router.store.errors import InvalidStoreUrl, StoreUnavailable

T = TypeVar("T")

TIMEOUT_S = 1.0
MAX_CONNECTIONS = 32


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

    def __init__(
        self,
        url: str,
        prefix: str = "cr:",
        timeout_s: float = TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._pool = _pool(url, timeout_s, max_connections)
        self._redis: Redis = Redis(connection_pool=self._pool)
        self._prefix = prefix
        self._timeout_s = timeout_s
        self._hincr = self._redis.register_script(lua.HINCR)
        self._hsetnx = self._redis.register_script(lua.HSETNX)
        self._hgetall = self._redis.register_script(lua.HGETALL)
        self._hsum = self._redis.register_script(lua.HSUM)

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
        return await self._call(cast("Awaitable[bytes | None]", self._redis.get(self._k(key))))

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call(self._redis.set(self._k(key), value, px=_px(ttl_s)))

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        if not items:
            return
        pipe = self._redis.pipeline(transaction=False)
        for key, value, ttl_s in items:
            pipe.set(self._k(key), value, px=_px(ttl_s))
        await self._call(pipe.execute())

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call(self._redis.set(self._k(key), value, px=_px(ttl_s), nx=True)) is not None

    async def delete(self, key: str) -> None:
        await self._call(self._redis.delete(self._k(key)))

    async def incr(self, key: str, ttl_s: float) -> int:
        pipe = self._redis.pipeline(transaction=True)
        # NX keeps the window fixed from the first increment instead of sliding forever.
        pipe.incr(self._k(key))
        pipe.pexpire(self._k(key), _px(ttl_s), nx=True)
        count, _ = await self._call(pipe.execute())
        return int(count)

    async def incr_and_get(self, key: str, ttl_s: float, other: str) -> tuple[int, bytes | None]:
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(self._k(key))
        pipe.pexpire(self._k(key), _px(ttl_s), nx=True)
        pipe.get(self._k(other))
        count, _, value = await self._call(pipe.execute())
        return int(count), value

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._redis.ping()))
        except StoreUnavailable:
            return False

    async def close(self) -> None:
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
        await self._call(self._redis.hset(self._k(key), field, value))

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        if not fields:
            return
        await self._call(self._redis.hdel(self._k(key), *fields))

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
