"""Fixtures that make the real servers cheap to use: Redis, PostgreSQL, and the app on the demo network."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestServer

from router.store import MemoryStore, RedisStore, ResilientStore, Store, StoreUnavailable
from tests.receiver import Receiver

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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


def _postgres_admin(statement: str) -> None:
    # Its own short-lived loop: fixtures that need a database may be sync or async.
    import asyncpg

    async def run() -> None:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            await admin.execute(statement)
        finally:
            await admin.close()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


# Databases of tests that have finished, dropped when the next one is made (and at the end):
# a test's app may still be closing, its background tasks reconnecting, when the fixture that
# made its database is torn down, so the database outlives its test by one.
_finished_databases: list[str] = []


def _drop_finished() -> None:
    while _finished_databases:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{_finished_databases.pop()}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def _drop_the_last_databases() -> Iterator[None]:
    yield
    if _finished_databases:
        _drop_finished()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty database of this test's own on the real PostgreSQL, dropped after the test.

    A missing server fails, never skips: `.ci/run` starts one."""
    import sqlalchemy as sa

    name = f"cr_test_{uuid.uuid4().hex[:16]}"
    try:
        _drop_finished()
        _postgres_admin(f'CREATE DATABASE "{name}"')
    except OSError as exc:
        pytest.fail(f"PostgreSQL is not answering at {POSTGRES_URL} ({exc}); start it or set TEST_POSTGRES_URL")
    yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    _finished_databases.append(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """The same records tests run against both back-ends, each on an empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


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
def make_api(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    """Start the real app (on the demo network unless told otherwise) behind a test client.

    Its records are the test's own (a state directory in `tmp_path`) unless the settings name
    a state directory: outcomes and keys one test writes must not reach the next."""
    from dataclasses import replace

    from router.core.settings import DEFAULT_STATE_DIR, Settings
    from router.http.app import create_app

    async def start(settings: Settings | None = None, on_startup=None):  # type: ignore[no-untyped-def]
        settings = settings or Settings()
        if settings.state_dir == DEFAULT_STATE_DIR:
            settings = replace(settings, state_dir=tmp_path / "state")
        app = create_app(settings)
        if on_startup is not None:

            async def hook(app):  # type: ignore[no-untyped-def]
                await on_startup(app)
                yield

            app.cleanup_ctx.append(hook)
        return await aiohttp_client(app)

    return start


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    got = Receiver()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if got.status != 200:
            got.refused += 1
            return web.Response(status=got.status)
        got.received.append((dict(request.headers), body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", hook)
    got.server = TestServer(app)
    await got.server.start_server()
    yield got
    await got.server.close()
