"""RedisStore through redis-py: against the real server, and against servers that misbehave.

The fakes are asyncio servers on port 0 that speak as much RESP as a test needs; the store
runs against them unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis

from router.store import InvalidStoreUrl, RedisStore, ResilientStore, StoreError, StoreUnavailable, lua

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def store(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisStore]:
    backend = RedisStore(redis_url, prefix=redis_prefix)
    yield backend
    await backend.close()


async def read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    """One RESP command as a client sends it (an array of bulk strings); None once it hangs up."""
    line = await reader.readline()
    if not line:
        return None
    args = []
    for _ in range(int(line[1:])):
        size = int((await reader.readline())[1:])
        args.append((await reader.readexactly(size + 2))[:-2])
    return args


@contextlib.asynccontextmanager
async def fake_server(handle: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server on a free port running `handle` per connection; its URL and a count of connections."""
    accepted: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writers.append(writer)
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await handle(reader, writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}", accepted
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


async def echo_keys(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """GET answers the key's own name, after 0.3 s for keys starting "slow"; anything else OK."""
    while (command := await read_command(reader)) is not None:
        if command[0].upper() == b"GET":
            key = command[1]
            if key.startswith(b"slow"):
                await asyncio.sleep(0.3)
            writer.write(b"$%d\r\n%b\r\n" % (len(key), key))
        else:
            writer.write(b"+OK\r\n")
        await writer.drain()


async def test_many_concurrent_calls_each_get_their_own_reply(store: RedisStore) -> None:
    # Many more than the pool's connections, so most wait their turn for one.
    await asyncio.gather(*(store.set(f"k{i}", f"value {i}".encode(), 60) for i in range(300)))
    values = await asyncio.gather(*(store.get(f"k{i}") for i in range(300)))
    assert values == [f"value {i}".encode() for i in range(300)]
    assert await store.get("absent") is None


async def test_counters_incremented_among_concurrent_reads_count_each_increment_once(store: RedisStore) -> None:
    async def increment() -> int:
        count, _ = await store.incr_and_get("counter", 60, "other")
        return count

    results = await asyncio.gather(*(increment() if i % 3 else store.get("counter") for i in range(300)))
    assert sorted(r for r in results if isinstance(r, int)) == list(range(1, 201))


async def test_callers_cancelled_mid_call_do_not_shift_the_replies_of_later_calls(store: RedisStore) -> None:
    await store.set_many([(f"k{i}", b"v%d" % i, 60) for i in range(200)])
    for _ in range(5):
        calls = [asyncio.ensure_future(store.get(f"k{i}")) for i in range(200)]
        await asyncio.sleep(0)  # some have sent their command, none has read its reply
        for call in calls[::2]:
            call.cancel()
        answered = await asyncio.gather(*calls[1::2])
        assert answered == [b"v%d" % i for i in range(1, 200, 2)]
    assert await asyncio.gather(*(store.get(f"k{i}") for i in range(200))) == [b"v%d" % i for i in range(200)]


async def test_a_caller_cancelled_while_its_reply_is_due_leaves_the_one_connection_clean() -> None:
    async with fake_server(echo_keys) as (url, _):
        store = RedisStore(url, prefix="", batch_connections=1)
        slow = asyncio.ensure_future(store.get("slow-key"))
        await asyncio.sleep(0.1)
        slow.cancel()
        # The same (only) connection's next reply is its own, not the late one for "slow-key".
        assert await store.get("fast-key") == b"fast-key"
        assert await asyncio.gather(*(store.get(f"k{i}") for i in range(20))) == [b"k%d" % i for i in range(20)]
        await store.close()


async def test_commands_issued_together_share_one_connection_and_one_write() -> None:
    writes: list[int] = []

    async def counting_writes(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1 << 16):
            writes.append(data.count(b"GET"))
            writer.write(b"$1\r\nv\r\n" * data.count(b"GET") + b"+OK\r\n" * (data.count(b"*") - data.count(b"GET")))

    async with fake_server(counting_writes) as (url, accepted):
        store = RedisStore(url, prefix="")
        await store.ping()  # connected, greeting and all
        writes.clear()
        assert await asyncio.gather(*(store.get(f"k{i}") for i in range(50))) == [b"v"] * 50
        assert len(accepted) == 1
        assert writes == [50]
        await store.close()


async def test_a_script_unknown_to_redis_is_loaded_and_run(store: RedisStore, redis_url: str) -> None:
    # A source never seen before (the comment makes it new), so Redis answers NOSCRIPT first.
    store._hsum = store._redis.register_script(f"-- {uuid.uuid4().hex}\n{lua.HSUM}")
    sync = redis.Redis.from_url(redis_url)
    try:
        assert sync.script_exists(store._hsum.sha) == [False]
        await store.hincr({"a": {"n": 2}, "b": {"n": 3}})
        assert await store.hsum([["a", "b"]]) == [{"n": 5}]
        assert sync.script_exists(store._hsum.sha) == [True]
    finally:
        sync.close()


async def test_a_read_through_a_reference_loads_its_script_when_redis_does_not_know_it(
    store: RedisStore, redis_url: str
) -> None:
    store._get_referenced = store._redis.register_script(f"-- {uuid.uuid4().hex}\n{lua.GET_REFERENCED}")
    sync = redis.Redis.from_url(redis_url)
    try:
        assert sync.script_exists(store._get_referenced.sha) == [False]
        await store.set_many([("ref", b"id", 60), ("quote:id", b"body", 60)])
        assert await store.get_referenced("ref", "quote:") == b"body"
        assert sync.script_exists(store._get_referenced.sha) == [True]
        assert await store.get_referenced("ref", "quote:") == b"body"
    finally:
        sync.close()


async def test_the_database_number_in_the_url_is_selected(redis_url: str, redis_prefix: str) -> None:
    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    store = RedisStore(base + "/5", prefix=redis_prefix)
    five, zero = redis.Redis.from_url(base + "/5"), redis.Redis.from_url(base + "/0")
    try:
        await store.set("in-db-5", b"five", 60)
        assert five.get(redis_prefix + "in-db-5") == b"five"
        assert zero.get(redis_prefix + "in-db-5") is None
    finally:
        await store.delete("in-db-5")
        await store.close()
        five.close()
        zero.close()


async def test_a_refused_password_is_a_clear_error_and_memory_stands_in(redis_url: str) -> None:
    host_port = redis_url.split("//", 1)[1].split("/", 1)[0]
    store = RedisStore(f"redis://nobody:wrong-password@{host_port}")
    with pytest.raises(StoreUnavailable, match="refused"):
        await store.get("k")
    resilient = ResilientStore(store)
    await resilient.set("k", b"v", 60)
    assert resilient.degraded and await resilient.get("k") == b"v"
    await resilient.close()


async def test_nothing_listening_is_unavailable() -> None:
    async with fake_server(echo_keys) as (url, _):
        pass  # closed: the port is free again
    store = RedisStore(url, timeout_s=0.5)
    with pytest.raises(StoreUnavailable):
        await store.get("k")
    assert await store.ping() is False
    await store.close()


async def test_a_silent_server_fails_every_waiting_call_within_the_bound_and_memory_stands_in() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(10)

    async with fake_server(silent) as (url, accepted):
        store = RedisStore(url, timeout_s=0.2)
        started = time.monotonic()
        results = await asyncio.wait_for(
            asyncio.gather(*(store.get(f"k{i}") for i in range(5)), return_exceptions=True), 2
        )
        assert all(isinstance(r, StoreUnavailable) and "within 0.2 s" in str(r) for r in results)
        assert time.monotonic() - started < 1.0  # the bound, not redis-py's default of none
        connections = len(accepted)
        resilient = ResilientStore(store, retry_after_s=0)
        await asyncio.wait_for(resilient.set("k", b"kept", 60), 2)
        assert resilient.degraded and resilient.outages == 1
        assert len(accepted) > connections  # the next call tried Redis again, on a new connection
        assert await asyncio.wait_for(resilient.get("k"), 2) == b"kept"
        await resilient.close()


async def test_calls_queued_behind_a_batch_that_timed_out_fail_with_it() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(10)

    async with fake_server(silent) as (url, _):
        store = RedisStore(url, timeout_s=0.5, batch_connections=1)
        started = time.monotonic()
        first = asyncio.ensure_future(store.get("first"))
        await asyncio.sleep(0.25)
        behind = asyncio.ensure_future(store.get("behind"))
        results = await asyncio.wait_for(asyncio.gather(first, behind, return_exceptions=True), 3)
        assert all(isinstance(r, StoreUnavailable) for r in results)
        # One bound for both, not a second one for the call that waited behind the first.
        assert time.monotonic() - started < 0.85
        await store.close()


async def test_a_connection_that_died_while_idle_is_replaced_without_failing_the_call() -> None:
    async def answer_once_then_hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(accepted) == 1:  # as Redis restarting between two quotes looks to the connection
            while (command := await read_command(reader)) is not None and command[0].upper() != b"GET":
                writer.write(b"+OK\r\n")  # the client's greeting
            assert command is not None
            writer.write(b"$%d\r\n%b\r\n" % (len(command[1]), command[1]))
            await writer.drain()
            await read_command(reader)
            writer.close()
            return
        await echo_keys(reader, writer)

    async with fake_server(answer_once_then_hang_up) as (url, accepted):
        store = RedisStore(url, prefix="")
        assert await store.get("a") == b"a"
        assert await store.get("k") == b"k"
        assert len(accepted) == 2
        await store.close()


async def test_a_server_that_always_hangs_up_is_unavailable_and_memory_stands_in() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_command(reader)
        writer.close()

    async with fake_server(hang_up) as (url, _):
        store = RedisStore(url)
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(store.get("k"), 2)
        resilient = ResilientStore(store)
        assert await resilient.incr("n", 60) == 1
        assert resilient.degraded
        await resilient.close()


async def test_an_answer_that_is_not_redis_is_unavailable() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await asyncio.sleep(10)

    async with fake_server(http) as (url, _):
        store = RedisStore(url)
        with pytest.raises(StoreUnavailable):
            await asyncio.wait_for(store.get("k"), 2)
        await store.close()


async def test_an_error_reply_fails_only_its_own_call(store: RedisStore) -> None:
    await store.set("text", b"not a number", 60)
    with pytest.raises(StoreUnavailable, match="not an integer"):
        await store.incr("text", 60)
    assert await store.get("text") == b"not a number"
    assert await store.ping() is True


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://127.0.0.1:6379/zero", "unix:///tmp/r.sock?db=x"])
def test_urls_it_cannot_use_are_refused_at_once(url: str) -> None:
    with pytest.raises(InvalidStoreUrl) as refused:
        RedisStore(url)
    assert isinstance(refused.value, StoreError) and isinstance(refused.value, ValueError)
