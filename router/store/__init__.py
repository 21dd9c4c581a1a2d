"""Short-lived shared state with expiry: quote cache and locks, limits, breakers, history.

Memory by default; Redis with REDIS_URL, so every worker shares it. Only this package speaks to
Redis, and only `redis` in it imports redis-py.

    base       the Store interface every backend offers, and helpers on any of them
    memory     MemoryStore: in this process, bounded, large values deflated
    redis      RedisStore: redis-py's asyncio client, a bounded pool, pipelines and Lua scripts
    batching   the quotes' small commands, gathered into batches on two redis-py connections
    lua        the scripts RedisStore runs for hash operations in bulk
    resilient  ResilientStore: Redis first, memory standing in while Redis is away, and what
               others must find written back when Redis returns
    packing    quotes deflated against a shipped dictionary for keeping
    errors     what the store raises:

    StoreError                  anything raised across the package's border (a RouterError)
    ├── StoreUnavailable        Redis did not answer in time, hung up, or refused us
    ├── UnstorableValue         (also a ValueError) a NUL in a hash field or value
    └── InvalidStoreUrl         (also a ValueError) a URL that names no Redis we can use
"""

from __future__ import annotations

from router.store.base import (
    MemoryUse,
    Store,
    memory_use,
    refuse_a_miss_it_cannot_vouch_for,
    refuse_a_miss_while_degraded,
)
from router.store.errors import InvalidStoreUrl, StoreError, StoreUnavailable, UnstorableValue
from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from router.store.resilient import ResilientStore

__all__ = [
    "InvalidStoreUrl",
    "MemoryStore",
    "MemoryUse",
    "RedisStore",
    "ResilientStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "UnstorableValue",
    "memory_use",
    "open_store",
    "refuse_a_miss_it_cannot_vouch_for",
    "refuse_a_miss_while_degraded",
]


def open_store(redis_url: str | None, prefix: str = "cr:") -> Store:
    """Redis with memory standing in while it is away when given a URL; memory alone otherwise."""
    return ResilientStore(RedisStore(redis_url, prefix)) if redis_url else MemoryStore()
