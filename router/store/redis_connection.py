"""One connection to Redis that all of a worker's store calls share, pipelined as they come.

A quote touches Redis several times (its cache entry, its lock, the carriers' last good
answers, a breaker, delivery history), and a busy worker has dozens of quotes in flight. redis-py
takes a connection from its pool for each command and gives it back, with a lock, a condition
and a timeout each time: about 90 µs of this machine's CPU a command, more than the quote's own
work on a cache hit. Here every command goes down one connection in the order it was issued; what
is issued within one turn of the event loop leaves in one write (Redis answers in order, so this
is pipelining without asking for it), and replies are read by hiredis, Redis's own C parser, and
handed back in that order: 3 µs a command under load, 25 µs for one command alone.

Bounded like the pool it replaces: connecting (and AUTH/SELECT) must finish within `timeout_s`,
and a reply that has not come `timeout_s` after its command was issued fails every command in
flight and drops the connection (Redis answers in order: one late reply holds up all behind it).
A dropped connection fails what was waiting on it with `RedisUnavailable`; the next command opens a
new one. A caller cancelled mid-wait leaves its reply to be read and discarded in its turn, so
the replies behind it still reach their own callers.

URLs: `redis://[[user]:password@]host[:port][/db]`, `rediss://` (TLS, the system's trusted CAs)
and `unix://[[user]:password@]/path/to.sock[?db=N]`. RESP2, no pub/sub, no cluster.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections import deque
from collections.abc import Sequence
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

Arg = bytes | str | int
Reply = bytes | int | list | None


class RedisUnavailable(Exception):
    """No connection, or it failed or timed out: nothing is known of the commands in flight."""


class RedisReplyError(Exception):
    """Redis refused a command (wrong type, unknown script, bad password…)."""


def _pack(args: Sequence[Arg]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


class _Link(asyncio.Protocol):
    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._loop = asyncio.get_running_loop()
        self._reader = hiredis.Reader()
        self._waiting: deque[tuple[asyncio.Future[Reply], float]] = deque()
        self._out: list[bytes] = []
        self._flush_due = False
        self._watchdog: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def send(self, payload: bytes) -> asyncio.Future[Reply]:
        if self.closed:
            raise RedisUnavailable("connection closed")
        future: asyncio.Future[Reply] = self._loop.create_future()
        now = self._loop.time()
        self._waiting.append((future, now))
        self._out.append(payload)
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self._flush)
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(now + self._timeout_s, self._check)
        return future

    def _flush(self) -> None:
        self._flush_due = False
        if self.closed or self._transport is None:
            return
        self._transport.write(b"".join(self._out))
        self._out.clear()

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while True:
            try:
                reply = self._reader.gets()
            except hiredis.ProtocolError as exc:
                self.fail(RedisUnavailable(f"not a Redis reply: {exc}"))
                return
            if reply is False:  # RESP2 has no booleans: False only means "not all here yet"
                return
            if not self._waiting:
                self.fail(RedisUnavailable("a reply to no command"))
                return
            future, _ = self._waiting.popleft()
            if future.done():
                continue  # its caller gave up; the reply still had to be read in its turn
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(RedisReplyError(str(reply)))
            else:
                future.set_result(reply)

    def _check(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        oldest = self._waiting[0][1]
        if self._loop.time() - oldest >= self._timeout_s:
            self.fail(RedisUnavailable(f"no reply from Redis within {self._timeout_s:g} s"))
        else:
            self._watchdog = self._loop.call_at(oldest + self._timeout_s, self._check)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisUnavailable(f"connection lost{f': {exc}' if exc else ''}"))

    def fail(self, exc: RedisUnavailable) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        waiting, self._waiting = self._waiting, deque()
        self._out.clear()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(exc)
        if self._transport is not None:
            self._transport.close()


class RedisConnection:
    def __init__(self, url: str, timeout_s: float = 1.0) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self._timeout_s = timeout_s
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme in ("redis", "rediss"):
            self._host, self._port, self._path = parts.hostname or "127.0.0.1", parts.port or 6379, None
            db = parts.path.strip("/") or query.get("db", ["0"])[0]
            if parts.scheme == "rediss":
                self._ssl = ssl.create_default_context()
        elif parts.scheme == "unix":
            self._host, self._port, self._path = None, None, unquote(parts.path)
            db = query.get("db", ["0"])[0]
        else:
            raise ValueError(f"not a redis://, rediss:// or unix:// URL: {url!r}")
        if not db.isdigit():
            raise ValueError(f"Redis database must be a number, not {db!r}")
        self._db = int(db)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password is not None else None
        self._link: _Link | None = None
        self._connecting: asyncio.Future[_Link] | None = None

    async def call(self, *args: Arg) -> Reply:
        link = self._link
        if link is None or link.closed:
            link = await self._connected()
        return await link.send(_pack(args))

    async def calls(self, commands: Sequence[Sequence[Arg]]) -> list[Reply]:
        """Several commands back to back, none of anyone else's between them (MULTI…EXEC may be
        among them); every reply in order, or the first error once all have answered."""
        link = self._link
        if link is None or link.closed:
            link = await self._connected()
        futures = [link.send(_pack(command)) for command in commands]
        replies: list[Reply] = []
        error: Exception | None = None
        for future in futures:
            try:
                replies.append(await future)
            except (RedisReplyError, RedisUnavailable) as exc:
                error = error or exc  # the rest are still awaited, so none is left unread
                replies.append(None)
        if error is not None:
            raise error
        return replies

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._link is not None:
            self._link.fail(RedisUnavailable("connection closed"))
            self._link = None

    async def _connected(self) -> _Link:
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.ensure_future(self._connect())
            # Read even when every caller that waited was cancelled: no "never retrieved" noise.
            self._connecting.add_done_callback(lambda f: f.cancelled() or f.exception())
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> _Link:
        loop = asyncio.get_running_loop()
        link: _Link | None = None
        try:
            async with asyncio.timeout(self._timeout_s):
                if self._path is not None:
                    _, link = await loop.create_unix_connection(lambda: _Link(self._timeout_s), self._path)
                else:
                    _, link = await loop.create_connection(
                        lambda: _Link(self._timeout_s), self._host, self._port, ssl=self._ssl
                    )
                hello: list[bytes] = []
                if self._password is not None:
                    auth = ("AUTH", self._username, self._password) if self._username else ("AUTH", self._password)
                    hello.append(_pack(auth))
                if self._db:
                    hello.append(_pack(("SELECT", self._db)))
                for future in [link.send(command) for command in hello]:
                    await future
        except BaseException as exc:
            if link is not None:
                link.fail(RedisUnavailable("connection closed"))
            if isinstance(exc, RedisReplyError):
                raise RedisUnavailable(f"Redis refused the connection: {exc}") from exc
            if isinstance(exc, (OSError, TimeoutError)):
                raise RedisUnavailable(f"cannot reach Redis: {exc or type(exc).__name__}") from exc
            raise
        self._link = link
        return link


class Script:
    """A Lua script run by its SHA1, sent whole only when Redis does not know it (after a restart)."""

    def __init__(self, connection: RedisConnection, source: str) -> None:
        self._connection = connection
        self._source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, keys: Sequence[Arg] = (), args: Sequence[Arg] = ()) -> Reply:
        try:
            return await self._connection.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            return await self._connection.call("EVAL", self._source, len(keys), *keys, *args)
