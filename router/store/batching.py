"""The key-value commands of a worker, gathered into batches on two redis-py connections.

A busy worker has dozens of quotes in flight, each reading or writing a key or two at about the
same moment. Through redis-py's client each command checks a connection out of the pool, runs
its retry, timeout and observability wrappers, and makes its own `send` and read: measured here
at 54 µs of CPU for one GET alone, where the hand-written pipelined client this replaced took 12,
and bench/quotes.py showed cache hits over HTTP at twice that client's CPU a request. So the
commands of quotes (GET, SET, DEL, HSET, HDEL, PING, MULTI…EXEC for counters) go through this
batcher: whatever was issued while a batch was on the wire leaves as the next one, in one
write, on one of two connections made from redis-py's pool settings for the URL (so AUTH,
SELECT, TLS, unix sockets and connect timeouts are redis-py's), packed by redis-py and read back
by hiredis. Bulk hash work and most Lua scripts use redis-py's client and pool as they are.

A group of commands queued together (MULTI…EXEC) is never split between batches nor mixed with
another's. Each caller awaits a future of its own, so a caller cancelled or timed out leaves the
replies of the others untouched. An error reply fails only its own command. A connection that
fails or does not answer within the store's timeout fails its batch and is dropped; the next batch
connects again, and a batch that found its reused connection dead is sent once more on a new one
(after a Redis restart, the first command would otherwise be an outage of its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Command = Sequence[Any]
_Pending = tuple[Sequence[Command], "asyncio.Future[list[Any]]"]


class Batcher:
    def __init__(self, pool: ConnectionPool, timeout_s: float, connections: int = 2) -> None:
        self._lanes = [_Lane(pool, timeout_s) for _ in range(connections)]

    async def call(self, *command: Any) -> Any:
        """One command's reply (as Redis sends it: bytes, int, None or a list), or its error."""
        (reply,) = await self.calls([command])
        return reply

    def calls(self, commands: Sequence[Command]) -> asyncio.Future[list[Any]]:
        """Several commands back to back, none of anyone else's between them; their replies in
        order, or the first error among them once all have answered."""
        return self._lane().queue(commands)

    def _lane(self) -> _Lane:
        # A batch still gathering is joined; else a connection with nothing on the wire starts
        # one, so a batch in flight does not hold up the next; else the shortest queue. With one
        # connection, cache hits at 64 clients had a p99 15-30 % over the tree before; with two,
        # level with it (bench/quotes.py --redis-url).
        idle = None
        for lane in self._lanes:
            if not lane.in_flight:
                if lane.pending:
                    return lane
                idle = idle or lane
        return idle or min(self._lanes, key=lambda lane: len(lane.pending))

    async def close(self) -> None:
        for lane in self._lanes:
            await lane.close()


class _Lane:
    """One connection and the batches queued for it, sent one after another."""

    def __init__(self, pool: ConnectionPool, timeout_s: float) -> None:
        self._pool = pool
        self._timeout_s = timeout_s
        self._connection: AbstractConnection | None = None
        self.pending: list[_Pending] = []
        self.in_flight = False
        self._pump: asyncio.Task[None] | None = None

    def queue(self, commands: Sequence[Command]) -> asyncio.Future[list[Any]]:
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.pending.append((commands, future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._run())
        return future

    async def _run(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            batch = [(commands, future) for commands, future in batch if not future.done()]
            if not batch:
                continue
            commands = [command for group, _ in batch for command in group]
            self.in_flight = True
            try:
                replies = await self._exchange(commands)
            except BaseException as exc:
                closed = isinstance(exc, asyncio.CancelledError)
                # What queued behind a batch that failed or timed out would meet the same server:
                # it fails now rather than wait out a bound of its own, as it did before redis-py.
                queued, self.pending = self.pending, []
                for _, future in batch + queued:
                    if not future.done():
                        future.set_exception(RedisConnectionError("the store was closed") if closed else exc)
                if closed:
                    raise
                continue
            finally:
                self.in_flight = False
            at = 0
            for group, future in batch:
                mine, at = replies[at : at + len(group)], at + len(group)
                if future.done():
                    continue  # its caller gave up; the replies still had to be read in their turn
                error = next((r for r in mine if isinstance(r, Exception)), None)
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(mine)

    async def _exchange(self, commands: Sequence[Command]) -> list[Any]:
        reused = self._connection is not None and self._connection.is_connected
        try:
            return await self._send_and_read(commands)
        except RedisConnectionError:
            if not reused:
                raise
            return await self._send_and_read(commands)

    async def _send_and_read(self, commands: Sequence[Command]) -> list[Any]:
        connection = self._connection
        if connection is None:
            # One timer for the whole exchange below rather than one per write and per reply.
            kwargs = {**self._pool.connection_kwargs, "socket_timeout": None}
            connection = self._connection = self._pool.connection_class(**kwargs)
        try:
            try:
                async with asyncio.timeout(self._timeout_s):
                    await connection.send_packed_command(connection.pack_commands(commands), check_health=False)
                    replies: list[Any] = []
                    for _ in commands:
                        try:
                            replies.append(await connection.read_response())
                        except ResponseError as exc:
                            replies.append(exc)
                    return replies
            except TimeoutError as exc:
                raise RedisTimeoutError(f"no reply within {self._timeout_s:g} s") from exc
        except BaseException:
            # Replies may still be on their way: nothing more can be read on this connection.
            await connection.disconnect(nowait=True)
            raise

    async def close(self) -> None:
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        for _, future in self.pending:
            future.cancel()
        self.pending = []
        if self._connection is not None:
            await self._connection.disconnect()
            self._connection = None
