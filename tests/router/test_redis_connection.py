"""The pipelined Redis connection: against the real server, and against servers that misbehave."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis

from router.store.redis_connection import RedisConnection, RedisReplyError, RedisUnavailable, Script


@pytest.fixture
async def conn(redis_url: str) -> AsyncIterator[RedisConnection]:
    connection = RedisConnection(redis_url)
    yield connection
    await connection.close()


@contextlib.asynccontextmanager
async def fake_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server on a free port running `handle` per connection; the URL and a count of connections."""
    accepted: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writers.append(writer)
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}", accepted
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


async def test_many_concurrent_calls_each_get_their_own_reply(conn: RedisConnection, redis_prefix: str) -> None:
    keys = [f"{redis_prefix}k{i}" for i in range(300)]
    await asyncio.gather(*(conn.call("SET", key, f"value {i}".encode(), "PX", 60_000) for i, key in enumerate(keys)))
    values = await asyncio.gather(*(conn.call("GET", key) for key in keys))
    assert values == [f"value {i}".encode() for i in range(300)]
    assert await conn.call("GET", f"{redis_prefix}absent") is None
    assert await conn.call("DEL", *keys) == 300


async def test_a_transaction_among_concurrent_calls_is_not_split(conn: RedisConnection, redis_prefix: str) -> None:
    key = f"{redis_prefix}counter"

    async def increment() -> int:
        *_, (value, _) = await conn.calls([("MULTI",), ("INCR", key), ("PEXPIRE", key, 60_000, "NX"), ("EXEC",)])
        return int(value)

    async def read() -> bytes | None:
        return await conn.call("GET", key)  # type: ignore[return-value]

    results = await asyncio.gather(*(increment() if i % 3 else read() for i in range(300)))
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 201))


async def test_a_caller_that_gives_up_does_not_shift_the_replies_behind_it(
    conn: RedisConnection, redis_prefix: str
) -> None:
    await conn.call("SET", f"{redis_prefix}after", b"mine", "PX", 60_000)
    # BLPOP holds the connection for its 0.3 s; the GET queued behind it must still get its own reply.
    blocked = asyncio.ensure_future(conn.call("BLPOP", f"{redis_prefix}empty-list", "0.3"))
    behind = asyncio.ensure_future(conn.call("GET", f"{redis_prefix}after"))
    await asyncio.sleep(0.05)
    blocked.cancel()
    assert await behind == b"mine"
    assert await conn.call("PING") == b"PONG"


async def test_an_error_reply_fails_only_its_own_call(conn: RedisConnection, redis_prefix: str) -> None:
    key = f"{redis_prefix}text"
    await conn.call("SET", key, b"not a number", "PX", 60_000)
    with pytest.raises(RedisReplyError, match="not an integer"):
        await conn.call("INCR", key)
    assert await conn.call("GET", key) == b"not a number"
    with pytest.raises(RedisReplyError):
        await conn.calls([("GET", key), ("INCR", key), ("PING",)])
    assert await conn.call("PING") == b"PONG"


async def test_a_script_unknown_to_redis_is_sent_whole_once(conn: RedisConnection, redis_prefix: str) -> None:
    # A source never seen before (the comment makes it new), so Redis answers NOSCRIPT first.
    script = Script(conn, f"-- {uuid.uuid4().hex}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
    key = f"{redis_prefix}scripted"
    assert await conn.call("SCRIPT", "EXISTS", script.sha) == [0]
    assert await script(keys=[key], args=[5]) == 5
    assert await conn.call("SCRIPT", "EXISTS", script.sha) == [1]
    assert await script(keys=[key], args=[2]) == 7
    await conn.call("DEL", key)


async def test_the_database_number_in_the_url_is_selected(redis_url: str, redis_prefix: str) -> None:
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    conn = RedisConnection(base + "/5")
    key = f"{redis_prefix}in-db-5"
    try:
        await conn.call("SET", key, b"five", "PX", 60_000)
        assert redis.Redis.from_url(base + "/5").get(key) == b"five"
        assert redis.Redis.from_url(base + "/0").get(key) is None
    finally:
        await conn.call("DEL", key)
        await conn.close()


async def test_a_refused_password_is_unavailable_not_a_crash(redis_url: str) -> None:
    host_port = redis_url.split("//", 1)[1].split("/", 1)[0]
    conn = RedisConnection(f"redis://:wrong-password@{host_port}")
    with pytest.raises(RedisUnavailable, match="refused"):
        await conn.call("PING")
    await conn.close()


async def test_nothing_listening_is_unavailable() -> None:
    async with fake_server(lambda r, w: asyncio.sleep(0)) as (url, _):
        pass  # closed: the port is free again
    conn = RedisConnection(url, timeout_s=0.5)
    with pytest.raises(RedisUnavailable, match="cannot reach"):
        await conn.call("PING")


async def test_a_silent_server_fails_every_waiting_call_after_the_timeout_and_the_next_call_reconnects() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(10)

    async with fake_server(silent) as (url, accepted):
        conn = RedisConnection(url, timeout_s=0.2)
        results = await asyncio.wait_for(
            asyncio.gather(*(conn.call("GET", f"k{i}") for i in range(5)), return_exceptions=True), 2
        )
        assert all(isinstance(r, RedisUnavailable) and "within 0.2 s" in str(r) for r in results)
        with pytest.raises(RedisUnavailable):
            await asyncio.wait_for(conn.call("PING"), 2)
        assert len(accepted) == 2
        await conn.close()


async def test_a_server_that_hangs_up_fails_the_calls_in_flight_and_the_next_call_reconnects() -> None:
    async def hang_up_once_then_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(accepted) == 1:
            await reader.read(1 << 16)
            writer.close()
            return
        while data := await reader.read(1 << 16):
            writer.write(b"+PONG\r\n" * data.count(b"PING"))

    async with fake_server(hang_up_once_then_answer) as (url, accepted):
        conn = RedisConnection(url, timeout_s=1.0)
        with pytest.raises(RedisUnavailable, match="connection lost"):
            await conn.call("PING")
        assert await conn.call("PING") == b"PONG"
        assert len(accepted) == 2
        await conn.close()


async def test_an_answer_that_is_not_redis_fails_the_call() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await asyncio.sleep(10)

    async with fake_server(http) as (url, _):
        conn = RedisConnection(url, timeout_s=1.0)
        with pytest.raises(RedisUnavailable, match="not a Redis reply"):
            await asyncio.wait_for(conn.call("PING"), 2)
        await conn.close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://127.0.0.1:6379/zero", "unix:///tmp/r.sock?db=x"])
def test_urls_it_cannot_use_are_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError):
        RedisConnection(url)
