"""Kept-alive HTTP/1.1 connections to one carrier's API, for its small JSON calls.

A quote asks every API carrier once, so a busy service makes ten calls for each quote it
answers; through aiohttp's client each call costs more CPU than the quote's own work (request
and response objects, stream readers, cookie and redirect handling, connection bookkeeping).
This pool does what such a call needs and nothing else: it writes one request (the head is
built once per token and reused) and reads one answer off a connection kept open for the next.
Answers are parsed by llhttp, Node's HTTP parser, through httptools (as uvicorn does): bodies
framed by Content-Length, chunked transfer coding, or the connection's close. It sends no
Accept-Encoding, so answers come uncompressed; it follows no redirects (a 3xx is the caller's to
refuse), keeps no cookies and uses no proxy. Larger or rarer calls (tokens, delivery-point pages) go through
aiohttp as before.

Timeouts are the caller's (`carriers.api.bounded`): a call that is cancelled closes its
connection, which then never goes back to the pool. A kept-alive connection that the server
closed while it sat idle is noticed when a request on it fails before any answer byte arrives;
that request is sent once more on a new connection (carrier quotes are idempotent).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

MAX_HEAD_BYTES = 64 * 1024  # llhttp sets no bound of its own on a response's head


class HttpError(Exception):
    """The connection failed or the server answered something that is not HTTP/1.x."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes


class _Connection(asyncio.Protocol):
    """One connection: a request goes out, `answer` resolves when its whole response is in.
    The response is read by llhttp (through httptools), the parser uvicorn serves with."""

    def __init__(self, max_body: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.answer: asyncio.Future[Answer] | None = None
        self.received = False  # some byte of the current answer arrived
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self._headers: dict[str, str] = {}
        self._body = bytearray()
        self._framed = False  # Content-Length or chunked: the body's end is known without a close
        self._headers_done = False
        self._head_bytes = 0
        self._error: HttpError | None = None

    # -------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self.answer is None or self.answer.done():
            self._fail(HttpError("data from the server with no request outstanding"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.answer.done():
                # Bytes past a complete answer: the answer stands, the connection does not.
                self.close()
                return
            cause = self._error or (exc.__context__ if isinstance(exc.__context__, HttpError) else None)
            self._fail(cause or HttpError(f"not an HTTP/1.x answer: {exc}"))
            return
        if not self._headers_done:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(HttpError("response head too long"))

    def eof_received(self) -> bool:
        if self.answer is not None and not self.answer.done():
            if self._headers_done and not self._framed:
                self._finish(keep_alive=False)  # no framing: the body ran to the close
            elif self._headers_done:
                self._fail(HttpError("connection closed before the response body ended"))
            else:
                self._fail(HttpError("connection closed before the response head ended"))
        self.closed = True
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(HttpError(f"connection lost{f': {exc}' if exc else ''}"))

    # -------------------------------------------------------- parser callbacks

    def on_message_begin(self) -> None:
        self._headers = {}
        self._body.clear()
        self._framed = False
        self._headers_done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        # A repeated header keeps its last value.
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1").strip()

    def on_headers_complete(self) -> None:
        self._headers_done = True
        status = self._parser.get_status_code()
        headers = self._headers
        self._framed = (
            "content-length" in headers
            or "chunked" in headers.get("transfer-encoding", "").lower()
            or (status in (204, 304) or 100 <= status < 200)
        )
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max_body:
            self._error = HttpError(f"answer of {length} bytes is over the {self._max_body} limit")
            raise self._error

    def on_body(self, chunk: bytes) -> None:
        self._body += chunk
        if len(self._body) > self._max_body:
            self._error = HttpError(f"answer is over the {self._max_body} bytes limit")
            raise self._error

    def on_message_complete(self) -> None:
        if 100 <= self._parser.get_status_code() < 200:
            return  # an interim answer: the real one follows
        self._finish(self._parser.should_keep_alive())

    # -------------------------------------------------------- requests

    def send(self, data: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Answer]:
        assert self.transport is not None
        if self.transport.is_closing():
            raise HttpError("connection closed")  # before any byte: the pool asks again on a new one
        self.answer = loop.create_future()
        self.received = False
        self._headers_done = False
        self._head_bytes = 0
        self._error = None
        self.transport.write(data)
        return self.answer

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: HttpError) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc)
        self.close()

    def _finish(self, keep_alive: bool) -> None:
        if not keep_alive:
            self.close()
        assert self.answer is not None
        self.answer.set_result(Answer(self._parser.get_status_code(), self._headers, bytes(self._body)))


class HttpPool:
    """Up to `limit` kept-alive connections to the origin of `base_url`; requests queue for one."""

    def __init__(
        self,
        base_url: str,
        *,
        limit: int = 20,
        max_body: int = 8 * 1024 * 1024,
        ssl_context: ssl.SSLContext | None = None,  # for https: the system's trusted CAs unless given
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.authority = host if default_port else f"{host}:{self.port}"
        self.base_path = parts.path.rstrip("/")
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._max_body = max_body
        # Requests in flight, and those waiting for one of them to end, first come first served.
        # Not an asyncio.Semaphore: in Python 3.11 every acquire and release of one walks all its
        # waiters (`locked()`, `_wake_up_next`), and at 32 quotes at a time each carrier keeps a
        # dozen requests waiting for one of its 20 connections.
        self._limit = limit
        self._busy = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self.connections_made = 0
        self._closed = False

    def head(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        """The request line and fixed headers of a call, without the Content-Length and body."""
        lines = [f"{method} {self.base_path}{path} HTTP/1.1", f"Host: {self.authority}"]
        for name, value in headers.items():
            if any(c in name or c in value for c in "\r\n\0"):
                raise HttpError(f"header {name!r} holds a line break")  # e.g. a token that would split the head
            lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n").encode("latin-1")

    async def request(self, head: bytes, body: bytes | None = None) -> Answer:
        """Send `head` (from `head()`) with `body`; the whole answer, or HttpError / OSError."""
        if self._closed:
            raise HttpError("pool closed")
        data = head + (b"Content-Length: %d\r\n\r\n" % len(body) + body if body is not None else b"\r\n")
        loop = asyncio.get_running_loop()
        if self._busy < self._limit and not self._waiting:
            self._busy += 1
        else:
            await self._wait_turn(loop)
        try:
            conn = self._take()
            reused = conn is not None
            while True:
                if conn is None:
                    conn = await self._connect(loop)
                try:
                    answer = await conn.send(data, loop)
                except HttpError:
                    # An idle connection the server had already closed: once more on a new one.
                    retry = reused and not conn.received
                    self._drop(conn)
                    if retry:
                        conn, reused = None, False
                        continue
                    raise
                except BaseException:
                    self._drop(conn)  # cancelled or timed out half way: the connection is spoiled
                    raise
                if conn.closed or self._closed:
                    self._drop(conn)
                else:
                    self._idle.append(conn)
                return answer
        finally:
            self._pass_turn()

    async def _wait_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait until a request in flight hands this one its place (`_pass_turn`)."""
        turn = loop.create_future()
        self._waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._pass_turn()  # handed a place just as it was cancelled: the next one has it
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def _pass_turn(self) -> None:
        """A request ends: its place goes to the first one waiting, if any still waits."""
        waiting = self._waiting
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._busy -= 1

    def _take(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
            self._open.discard(conn)
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        _, conn = await loop.create_connection(
            lambda: _Connection(self._max_body),
            self.host,
            self.port,
            ssl=self._ssl,
            server_hostname=self.host if self._ssl is not None else None,
        )
        self.connections_made += 1
        self._open.add(conn)
        return conn

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    def close(self) -> None:
        self._closed = True
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
