"""Fixtures that make the real servers cheap to use: Redis, and the app on the demo network."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis

from router.store.kv import MemoryStore, RedisStore, ResilientStore, Store, StoreUnavailable

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis the Redis paths are tested against; a missing server fails, never skips."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not answering at {REDIS_URL} ({exc}); start redis-server or set TEST_REDIS_URL")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own on the real Redis (suites may run side by side), emptied afterwards."""
    prefix = f"test:{uuid.uuid4().hex}:"
    yield prefix
    cleanup = redis.Redis.from_url(redis_url)
    for key in cleanup.scan_iter(match=prefix + "*"):
        cleanup.delete(key)
    cleanup.close()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The same store tests run against both backends."""
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"
    backend = RedisStore(url, prefix=prefix)
    yield backend
    cleanup = redis.Redis.from_url(url)
    for key in cleanup.scan_iter(match=prefix + "*"):
        cleanup.delete(key)
    cleanup.close()
    await backend.close()


class SwitchableRedis:
    """A real Redis that can be made to stop answering, as when it restarts."""

    backend = "redis"

    def __init__(self, inner: RedisStore) -> None:
        self.inner = inner
        self.up = True

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any) -> Any:
            if not self.up:
                raise StoreUnavailable("connection refused")
            return await method(*args)

        return call

    async def ping(self) -> bool:
        return self.up and await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
async def switch(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SwitchableRedis]:
    """The apps `make_api` starts with a `redis_url` run on this Redis; `switch.up = False` stops it."""
    prefix = f"test:{uuid.uuid4().hex}:"
    redis_ = SwitchableRedis(RedisStore(redis_url, prefix=prefix))
    # No pause before trying Redis again, so the test need not wait for it.
    monkeypatch.setattr("router.quoting.wiring.open_store", lambda url, prefix: ResilientStore(redis_, retry_after_s=0))
    yield redis_
    cleanup = redis.Redis.from_url(redis_url)
    for key in cleanup.scan_iter(match=prefix + "*"):
        cleanup.delete(key)
    cleanup.close()


@pytest.fixture
def make_api(aiohttp_client):  # type: ignore[no-untyped-def]
    """Start the real app (on the demo network unless told otherwise) behind a test client."""
    from router.core.settings import Settings
    from router.http.app import create_app

    async def start(settings: Settings | None = None, on_startup=None):  # type: ignore[no-untyped-def]
        app = create_app(settings or Settings())
        if on_startup is not None:

            async def hook(app):  # type: ignore[no-untyped-def]
                await on_startup(app)
                yield

            app.cleanup_ctx.append(hook)
        return await aiohttp_client(app)

    return start
