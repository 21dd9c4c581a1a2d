"""The store's interface: what every backend offers, and the helpers callers use on any of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from router.store.errors import StoreUnavailable, UnstorableValue


class Store(Protocol):
    @property
    def backend(self) -> str:
        """ "memory" or "redis": where the store keeps what it is given, as `/healthz` reports it."""
        ...

    @property
    def degraded(self) -> bool:
        """True while a backend that should answer does not and this worker's memory stands in:
        a miss then cannot be vouched for (`refuse_a_miss_while_degraded`)."""
        ...

    def memory_use(self) -> MemoryUse | None:
        """What the store holds in this process's memory, if it holds anything there."""
        ...

    def write_back_after_outages(self, prefix: str) -> None:
        """Values `set` under `prefix` while Redis is away, kept in this worker's memory, are written
        to Redis when it answers again (where it holds none), with the time they have left: what
        other workers must find too, such as a quote under its guarantee. Nothing to do for a store
        that nothing stands in for."""
        ...

    async def vouches_for_a_miss(self) -> bool:
        """False while a key that is not found may yet be held by some worker: this one's memory
        stands in (`degraded`), or another is writing back what it held during an outage."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def get_referenced(self, key: str, prefix: str) -> bytes | None:
        """The value at `prefix` + the value at `key`, in one round trip; None if either is missing."""
        ...

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

    async def incr_and_get(self, key: str, ttl_s: float, other: str) -> tuple[int, bytes | None]:
        """`incr(key, ttl_s)` and `get(other)` in one round trip: a window's counter and the
        window before it, as the rate limiter and the breakers read them."""
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
        """Fields and values may not hold NUL (UnstorableValue)."""
        ...

    async def hdel(self, key: str, fields: Sequence[str]) -> None: ...

    async def hsetnx_many(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """Create each (hash, field) that is absent; True where this call created it."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key, value or hash, whose name starts with `prefix`; how many went."""
        ...


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """What a memory store holds, in `/healthz` and `/metrics`: at a sale-day rate of quotes it
    fills its bound in minutes, and from then on drops entries that have not expired (quotes
    still guaranteed among them), which is when a shop needs Redis."""

    entries: int
    bytes: int  # as the store counts them against max_bytes: deflated values, an estimate of overhead
    max_bytes: int
    evicted: int  # dropped before they expired, to stay under max_bytes


def memory_use(store: Store) -> MemoryUse | None:
    """What `store` holds in this process's memory, if it holds anything there."""
    return store.memory_use()


def refuse_a_miss_while_degraded(store: Store, what: str) -> None:
    """Raise StoreUnavailable for a miss `store` cannot vouch for: while Redis is away, reads are
    answered by this worker's memory, which may never have held the key, and "not found" would
    tell a checkout its price lock is gone, or a CRM to drop a delivery, that Redis still keeps."""
    if store.degraded:
        raise StoreUnavailable(f"{what} cannot be read while Redis is away")


async def refuse_a_miss_it_cannot_vouch_for(store: Store, what: str) -> None:
    """`refuse_a_miss_while_degraded`, and also while another worker writes back what it held
    during an outage: a quote made on it then is in Redis only once that is done."""
    if not await store.vouches_for_a_miss():
        raise StoreUnavailable(f"{what} is not found, but a worker may hold it until Redis has it back")


def check_hash_entry(field: str, value: bytes) -> None:
    """Hash fields and values travel NUL-separated to and from the scripts that read them in bulk."""
    if b"\0" in value or "\0" in field:
        raise UnstorableValue("hash fields and values may not hold NUL: it separates them on reading")
