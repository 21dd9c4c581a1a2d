"""MemoryStore: the store in this process's memory, the demo's store and Redis's stand-in.

Bounded in bytes, deflating large values, with expiry to the millisecond of its clock.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Mapping, Sequence

from router.store.base import MemoryUse, check_hash_entry
from router.store.packing import Deflater

log = logging.getLogger(__name__)

# Quotes are kept for their guarantee and a day after; at a few hundred quotes a second that
# is tens of gigabytes, so memory (the demo's store, and Redis's stand-in) keeps at most this.
MEMORY_MAX_BYTES = 256 * 1024 * 1024
_ENTRY_OVERHEAD = 120  # a dict slot and the key's and entry's object headers
# Values from this size on are kept deflated, against a dictionary: the first such value the
# store was given. Quotes come packed already (router/store/packing.py); this is for whatever else is
# large and alike, which then deflates to a fraction of its size. (A bytes object from orjson
# also keeps the slack of its output buffer for as long as it lives.) Smaller values gain too
# little over the entry's own overhead.
DEFLATE_FROM = 2048


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
    degraded = False

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

    def write_back_after_outages(self, prefix: str) -> None:
        pass  # nothing stands in for this store

    async def vouches_for_a_miss(self) -> bool:
        return True

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

    def _value(self, entry: bytes) -> bytes:
        if entry[_KIND_AT] == _DEFLATED:
            return self._deflater.inflate(memoryview(entry)[_VALUE_AT:])  # type: ignore[union-attr]
        # A counter reads back as Redis returns it: the number's digits.
        return entry[_VALUE_AT:]

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else self._value(entry)

    async def get_with_ttl(self, key: str) -> tuple[bytes, float] | None:
        """The value and the seconds it has left, as `ResilientStore` writes it back to Redis."""
        entry = self._live(key)
        if entry is None:
            return None
        left_ms = _EXPIRY.unpack_from(entry)[0] - _ms(self._clock())
        return self._value(entry), max(left_ms, 1) / 1000

    async def get_referenced(self, key: str, prefix: str) -> bytes | None:
        ref = await self.get(key)
        return None if ref is None else await self.get(prefix + ref.decode())

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

    async def incr_and_get(self, key: str, ttl_s: float, other: str) -> tuple[int, bytes | None]:
        return await self.incr(key, ttl_s), await self.get(other)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()
        self._hashes.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return self._live(key) is not None

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
        check_hash_entry(field, value)
        self._hashes.setdefault(key, {})[field] = value

    async def hdel(self, key: str, fields: Sequence[str]) -> None:
        h = self._hashes.get(key)
        if h is None:
            return
        for name in fields:
            h.pop(name, None)
        if not h:
            del self._hashes[key]

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in (*self._entries, *self._hashes) if k.startswith(prefix)]
        for key in doomed:
            await self.delete(key)
        return len(set(doomed))

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        created = []
        for key, name in items:
            h = self._hashes.setdefault(key, {})
            created.append(name not in h)
            h.setdefault(name, b"1")
        return created
