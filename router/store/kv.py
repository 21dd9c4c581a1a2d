"""Key-value store with expiry, behind one interface: memory by default, Redis with REDIS_URL.

Quote locks, the quote cache and (later) shared carrier state all live here, so several
workers sharing one Redis see the same quotes. Only this module speaks to Redis (through
router/redis_connection.py).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from router.store.packing import Deflater
from router.store.redis_connection import RedisConnection, RedisReplyError, RedisUnavailable, Script

log = logging.getLogger(__name__)

# Quotes are kept for their guarantee and a day after; at a few hundred quotes a second that
# is tens of gigabytes, so memory (the demo's store, and Redis's stand-in) keeps at most this.
MEMORY_MAX_BYTES = 256 * 1024 * 1024
_ENTRY_OVERHEAD = 120  # a dict slot and the key's and entry's object headers
# Values from this size on are kept deflated, against a dictionary: the first such value the
# store was given. Quotes come packed already (router/packing.py); this is for whatever else is
# large and alike, which then deflates to a fraction of its size. (A bytes object from orjson
# also keeps the slack of its output buffer for as long as it lives.) Smaller values gain too
# little over the entry's own overhead.
DEFLATE_FROM = 2048


class StoreUnavailable(Exception):
    """The backing server did not answer; callers decide whether that is fatal."""


class Store(Protocol):
    backend: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        """Several (key, value, ttl_s) set at once; on Redis one round trip."""
        ...

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl_s: float) -> int:
        """Increment a counter, starting its expiry with the first increment."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

    async def hincr(self, increments: Mapping[str, Mapping[str, int]]) -> None:
        """Add to integer fields of many hashes in one round trip; hashes never expire."""
        ...

    async def hgetall(self, keys: Sequence[str]) -> list[dict[str, bytes]]:
        """Every field of each hash, in one round trip; a missing hash reads as {}."""
        ...

    async def hsum(self, groups: Sequence[Sequence[str]]) -> list[dict[str, int]]:
        """Per group of integer hashes, each field summed over the group; one round trip."""
        ...

    async def hset(self, key: str, field: str, value: bytes) -> None:
        """Fields and values may not hold NUL."""
        ...

    async def hdel(self, key: str, fields: Sequence[str]) -> None: ...

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """Create each (hash, field) that is absent; True where this call created it."""
        ...


def refuse_a_miss_while_degraded(store: Store, what: str) -> None:
    """Raise StoreUnavailable for a miss `store` cannot vouch for: while Redis is away, reads are
    answered by this worker's memory, which may never have held the key, and "not found" would
    tell a checkout its price lock is gone, or a CRM to drop a delivery, that Redis still keeps."""
    if getattr(store, "degraded", False):
        raise StoreUnavailable(f"{what} cannot be read while Redis is away")


# Each entry is one bytes object: its expiry, its kind, then the value. One object and one dict
# slot a key, where a float expiry beside the value took two more of each (quotes are held by
# the hundred thousand, and their count is the store's memory). Bytes hold no references, so the
# cyclic collector never tracks them nor the dict holding them: no full collection walks the
# quotes held, which would stop the event loop for tens of milliseconds as the store fills.
# The expiry leads as big-endian milliseconds of the store's clock, so an entry has expired
# exactly when it sorts before the limit `_EXPIRY.pack(now_ms + 1)`: one comparison of bytes,
# no object made, which keeps a sweep over every entry as cheap as it was over floats.
_EXPIRY = struct.Struct(">Q")
_HEAD = struct.Struct(">QB")
_RAW, _DEFLATED, _COUNTER = 0, 1, 2
_KIND_AT, _VALUE_AT = 8, _HEAD.size


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """What a memory store holds, in `/healthz` and `/metrics`: at a sale-day rate of quotes it
    fills its bound in minutes, and from then on drops entries that have not expired (quotes
    still guaranteed among them), which is when a shop needs Redis."""

    entries: int
    bytes: int  # as the store counts them against max_bytes: deflated values, an estimate of overhead
    max_bytes: int
    evicted: int  # dropped before they expired, to stay under max_bytes


def _ms(seconds: float) -> int:
    return max(0, int(seconds * 1000))


class MemoryStore:
    """A dict with expiry. Expired keys are purged lazily and in sweeps as the store grows.

    Entries with expiry hold at most `max_bytes` (roughly counted, deflated values at their
    deflated size); past it the least recently written go first, even before they expire — a
    lost quote is a 404, a full memory a dead process. Hashes are not bounded: they are few,
    and durable by contract.
    """

    backend = "memory"

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sweep_every: int = 10_000,
        max_bytes: int = MEMORY_MAX_BYTES,
    ) -> None:
        # In the order of last writes: the front is what eviction drops first.
        self._entries: dict[str, bytes] = {}
        self._hashes: dict[str, dict[str, bytes | int]] = {}
        self._clock = clock
        self._sweep_every = sweep_every
        self._writes = 0
        self._max_bytes = max_bytes
        self._bytes = 0
        self.evicted = 0
        self._deflater: Deflater | None = None

    def memory_use(self) -> MemoryUse:
        return MemoryUse(len(self._entries), self._bytes, self._max_bytes, self.evicted)

    def _limit(self) -> bytes:
        return _EXPIRY.pack(_ms(self._clock()) + 1)

    def _entry(self, value: bytes, ttl_s: float) -> bytes:
        # A new object of its own size either way: the caller's may carry buffer slack (see
        # DEFLATE_FROM), which would otherwise be held for as long as the entry.
        expires = _ms(self._clock() + ttl_s)
        if len(value) >= DEFLATE_FROM:
            if self._deflater is None:
                self._deflater = Deflater(value)
            packed = self._deflater.deflate(value)
            if len(packed) < len(value):
                return _HEAD.pack(expires, _DEFLATED) + packed
        return _HEAD.pack(expires, _RAW) + value

    @staticmethod
    def _cost(key: str, entry: bytes) -> int:
        return len(key) + len(entry) + _ENTRY_OVERHEAD

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= self._cost(key, entry)

    def _live(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is not None and entry < self._limit():
            self._drop(key)
            return None
        return entry

    def _sweep(self) -> None:
        limit = self._limit()
        for k in [k for k, entry in self._entries.items() if entry < limit]:
            self._drop(k)

    def _put(self, key: str, entry: bytes) -> None:
        self._drop(key)  # re-inserted at the end: insertion order is the order of last writes
        self._entries[key] = entry
        self._bytes += self._cost(key, entry)
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            self._sweep()
        if self._bytes > self._max_bytes:
            self._make_room()

    def _make_room(self) -> None:
        self._sweep()
        # Down to nine tenths, so a full store does not sweep on every write.
        goal = self._max_bytes * 9 // 10
        if self._bytes > goal and not self.evicted:
            log.warning("memory store full; dropping the oldest entries", extra={"max_bytes": self._max_bytes})
        while self._bytes > goal and self._entries:
            self._drop(next(iter(self._entries)))
            self.evicted += 1

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        if entry is None:
            return None
        if entry[_KIND_AT] == _DEFLATED:
            return self._deflater.inflate(memoryview(entry)[_VALUE_AT:])  # type: ignore[union-attr]
        # A counter reads back as Redis returns it: the number's digits.
        return entry[_VALUE_AT:]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._put(key, self._entry(value, ttl_s))

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        """Several `set`s (key, value, ttl_s) at once; Redis makes them one round trip."""
        for key, value, ttl_s in items:
            await self.set(key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        if self._live(key) is not None:
            return False
        self._put(key, self._entry(value, ttl_s))
        return True

    async def delete(self, key: str) -> None:
        self._drop(key)
        self._hashes.pop(key, None)

    async def incr(self, key: str, ttl_s: float) -> int:
        entry = self._live(key)
        if entry is not None and entry[_KIND_AT] == _COUNTER:
            count = int(entry[_VALUE_AT:]) + 1
            # Assigned in place: the key keeps its expiry and its place in the order.
            self._entries[key] = updated = entry[:_VALUE_AT] + b"%d" % count
            self._bytes += len(updated) - len(entry)
            return count
        self._put(key, _HEAD.pack(_ms(self._clock() + ttl_s), _COUNTER) + b"1")
        return 1

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()
        self._hashes.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def hincr(self, increments: Mapping[str, Mapping[str, int]]) -> None:
        for key, fields in increments.items():
            h = self._hashes.setdefault(key, {})
            for name, amount in fields.items():
                current = h.get(name, 0)
                h[name] = (int(current) if isinstance(current, bytes) else current) + amount

    async def hsum(self, groups: Sequence[Sequence[str]]) -> list[dict[str, int]]:
        sums = []
        for group in groups:
            total: dict[str, int] = {}
            for key in group:
                for name, value in self._hashes.get(key, {}).items():
                    total[name] = total.get(name, 0) + int(value)
            sums.append(total)
        return sums

    async def hgetall(self, keys: Sequence[str]) -> list[dict[str, bytes]]:
        # Integers read back as Redis returns them: the number's digits.
        return [
            {f: v if isinstance(v, bytes) else str(v).encode() for f, v in self._hashes.get(k, {}).items()}
            for k in keys
        ]

    async def hset(self, key: str, field: str, value: bytes) -> None:
        if b"\0" in value or "\0" in field:
            raise ValueError("hash fields and values may not hold NUL: it separates them on reading")
        self._hashes.setdefault(key, {})[field] = value

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        h = self._hashes.get(key)
        if h is None:
            return
        for name in fields:
            h.pop(name, None)
        if not h:
            del self._hashes[key]

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        created = []
        for key, name in items:
            h = self._hashes.setdefault(key, {})
            created.append(name not in h)
            h.setdefault(name, b"1")
        return created


# Many hash writes as one script call: one round trip, and each call applies all or nothing.
# Like the keys of _HSETNX_SCRIPT below, the writes travel as one NUL-separated argument:
# key, number of fields, then field and amount for each.
_HINCR_SCRIPT = """
local blob = ARGV[1]
local pos, last, keys = 1, #blob, 0
local function token()
  local stop = string.find(blob, '\\0', pos, true) or (last + 1)
  local text = string.sub(blob, pos, stop - 1)
  pos = stop + 1
  return text
end
while pos <= last do
  local key = token()
  for _ = 1, tonumber(token()) do
    local field = token()
    redis.call('HINCRBY', key, field, token())
  end
  keys = keys + 1
end
return keys
"""
# Replies are packed into one string each: every element of a reply becomes a Python object,
# and 20,000 integers or 1,500 hash fields cost milliseconds that one string does not. Keys and
# fields travel NUL-separated in two arguments rather than as declared KEYS: 20,000 arguments
# cost more to pack than Redis takes for the writes. (A script touching undeclared keys is fine
# on one Redis server; this store is not meant for Redis Cluster.)
_HSETNX_SCRIPT = """
local keys, fields = ARGV[1], ARGV[2]
local created, n, k, f = {}, 0, 1, 1
while k <= #keys do
  local k_end = string.find(keys, '\\0', k, true) or (#keys + 1)
  local f_end = string.find(fields, '\\0', f, true) or (#fields + 1)
  n = n + 1
  created[n] = redis.call('HSETNX', string.sub(keys, k, k_end - 1), string.sub(fields, f, f_end - 1), '1')
  k, f = k_end + 1, f_end + 1
end
return table.concat(created)
"""
_HGETALL_SCRIPT = """
local packed = {}
for k = 1, #KEYS do
  packed[k] = table.concat(redis.call('HGETALL', KEYS[k]), '\\0')
end
return packed
"""
# Summed in Redis: a month-by-month aggregate is a dozen hashes of seventy counters, and adding
# them up here would cost the quote path far more than the round trip. ARGV: each group's size.
_HSUM_SCRIPT = """
local packed = {}
local k = 1
for g = 1, #ARGV do
  local sums, order = {}, {}
  for _ = 1, tonumber(ARGV[g]) do
    local flat = redis.call('HGETALL', KEYS[k])
    k = k + 1
    for f = 1, #flat, 2 do
      local name = flat[f]
      if sums[name] == nil then
        order[#order + 1] = name
        sums[name] = 0
      end
      sums[name] = sums[name] + tonumber(flat[f + 1])
    end
  end
  local parts = {}
  for _, name in ipairs(order) do
    parts[#parts + 1] = name
    parts[#parts + 1] = string.format('%d', sums[name])
  end
  packed[g] = table.concat(parts, '\\0')
end
return packed
"""
# Arguments per script call: large enough to amortise the round trip, small enough that one
# call never blocks Redis for more than a few milliseconds.
_SCRIPT_CHUNK = 20_000


class RedisStore:
    backend = "redis"

    def __init__(self, url: str, prefix: str = "cr:") -> None:
        # One connection a worker, every command pipelined on it (see router/redis_connection.py).
        self._redis = RedisConnection(url, timeout_s=1.0)
        self._prefix = prefix
        self._hincr_script = Script(self._redis, _HINCR_SCRIPT)
        self._hsetnx_script = Script(self._redis, _HSETNX_SCRIPT)
        self._hgetall_script = Script(self._redis, _HGETALL_SCRIPT)
        self._hsum_script = Script(self._redis, _HSUM_SCRIPT)

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def _call(self, *args: str | bytes | int) -> Any:
        try:
            return await self._redis.call(*args)
        except (RedisUnavailable, RedisReplyError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def get(self, key: str) -> bytes | None:
        return await self._call("GET", self._k(key))  # type: ignore[no-any-return]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call("SET", self._k(key), value, "PX", max(1, int(ttl_s * 1000)))

    async def set_many(self, items: Sequence[tuple[str, bytes, float]]) -> None:
        if not items:
            return
        try:
            await self._redis.calls(
                [("SET", self._k(key), value, "PX", max(1, int(ttl_s * 1000))) for key, value, ttl_s in items]
            )
        except (RedisUnavailable, RedisReplyError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call("SET", self._k(key), value, "PX", max(1, int(ttl_s * 1000)), "NX") is not None

    async def delete(self, key: str) -> None:
        await self._call("DEL", self._k(key))

    async def incr(self, key: str, ttl_s: float) -> int:
        try:
            *_, (value, _) = await self._redis.calls(
                [
                    ("MULTI",),
                    ("INCR", self._k(key)),
                    # NX keeps the window fixed from the first increment instead of sliding forever.
                    ("PEXPIRE", self._k(key), max(1, int(ttl_s * 1000)), "NX"),
                    ("EXEC",),
                ]
            )
        except (RedisUnavailable, RedisReplyError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return int(value)

    async def ping(self) -> bool:
        try:
            return await self._redis.call("PING") == b"PONG"
        except (RedisUnavailable, RedisReplyError):
            return False

    async def close(self) -> None:
        await self._redis.close()

    async def _script(self, script: Script, keys: Sequence[str] = (), args: Sequence[str | int] = ()) -> Any:
        try:
            return await script(keys=keys, args=args)
        except (RedisUnavailable, RedisReplyError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def hincr(self, increments: Mapping[str, Mapping[str, int]]) -> None:
        tokens: list[str] = []
        for key, fields in increments.items():
            if not fields:
                continue
            tokens += (self._k(key), str(len(fields)))
            for name, amount in fields.items():
                tokens += (name, str(amount))
            if len(tokens) >= _SCRIPT_CHUNK:
                await self._script(self._hincr_script, args=["\0".join(tokens)])
                tokens = []
        if tokens:
            await self._script(self._hincr_script, args=["\0".join(tokens)])

    async def hgetall(self, keys: Sequence[str]) -> list[dict[str, bytes]]:
        if not keys:
            return []
        answers = await self._script(self._hgetall_script, keys=[self._k(key) for key in keys])
        hashes = []
        for packed in answers:
            parts = packed.split(b"\0") if packed else []
            hashes.append({f.decode(): v for f, v in zip(parts[::2], parts[1::2], strict=False)})
        return hashes

    async def hsum(self, groups: Sequence[Sequence[str]]) -> list[dict[str, int]]:
        if not groups:
            return []
        answers = await self._script(
            self._hsum_script,
            keys=[self._k(key) for group in groups for key in group],
            args=[len(group) for group in groups],
        )
        sums = []
        for packed in answers:
            parts = packed.split(b"\0") if packed else []
            sums.append({f.decode(): int(v) for f, v in zip(parts[::2], parts[1::2], strict=False)})
        return sums

    async def hset(self, key: str, field: str, value: bytes) -> None:
        if b"\0" in value or "\0" in field:
            raise ValueError("hash fields and values may not hold NUL: it separates them on reading")
        await self._call("HSET", self._k(key), field, value)

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        if not fields:
            return
        await self._call("HDEL", self._k(key), *fields)

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        created: list[bool] = []
        for start in range(0, len(items), _SCRIPT_CHUNK):
            chunk = items[start : start + _SCRIPT_CHUNK]
            answer = await self._script(
                self._hsetnx_script,
                args=["\0".join(self._k(key) for key, _ in chunk), "\0".join(name for _, name in chunk)],
            )
            created.extend(c == 0x31 for c in answer)  # b"1"
        return created


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

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._call("set", key, value, ttl_s)

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        return await self._call("add", key, value, ttl_s)  # type: ignore[return-value]

    async def delete(self, key: str) -> None:
        await self._call("delete", key)
        if self._fallback_used:
            # Or a copy from the outage would answer `get` again (a breaker's stale `open`).
            await self._fallback.delete(key)

    async def incr(self, key: str, ttl_s: float) -> int:
        return await self._call("incr", key, ttl_s)  # type: ignore[return-value]

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


def memory_use(store: Store) -> MemoryUse | None:
    """What `store` holds in this process's memory, if it holds anything there."""
    use = getattr(type(store), "memory_use", None)
    return use(store) if use else None


def open_store(redis_url: str | None, prefix: str = "cr:") -> Store:
    return ResilientStore(RedisStore(redis_url, prefix)) if redis_url else MemoryStore()
