"""Kept-alive HTTP/1.1 connections to one carrier's API, for its small JSON calls.

A quote asks every API carrier once, so a busy service makes ten calls for each quote it
answers; through aiohttp's client each call costs more CPU than the quote's own work (request
and response objects, stream readers, cookie and redirect handling, connection bookkeeping).
This pool does what such a call needs and nothing else: it writes one request (the head is
built once per token and reused) and reads one answer off a connection kept open for the next.

It reads what servers send to an API client: a status line, headers and a body framed by
Content-Length, chunked transfer coding, or the connection's close. It sends no Accept-Encoding,
so answers come uncompressed; it follows no redirects (a 3xx is the caller's to refuse), keeps no
cookies and uses no proxy. Larger or rarer calls (tokens, delivery-point pages) go through
aiohttp as before.

Timeouts are the caller's (`carriers.api.bounded`): a call that is cancelled closes its
connection, which then never goes back to the pool. A kept-alive connection that the server
closed while it sat idle is noticed when a request on it fails before any answer byte arrives;
that request is sent once more on a new connection (carrier quotes are idempotent).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD_BYTES = 64 * 1024


class HttpError(Exception):
    """The connection failed or the server answered something that is not HTTP/1.x."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes


class _Connection(asyncio.Protocol):
    """One connection: a request goes out, `answer` resolves when its whole response is in."""

    def __init__(self, max_body: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.answer: asyncio.Future[Answer] | None = None
        self.received = False  # some byte of the current answer arrived
        self._max_body = max_body
        self._buf = bytearray()
        self._head: tuple[int, dict[str, str], bool] | None = None  # status, headers, keep-alive
        self._length: int | None = None  # Content-Length of the current answer
        self._chunked = False

    # -------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self.answer is None or self.answer.done():
            self._fail(HttpError("data from the server with no request outstanding"))
            return
        self._buf += data
        try:
            self._parse(eof=False)
        except HttpError as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        if self.answer is not None and not self.answer.done():
            try:
                self._parse(eof=True)
            except HttpError as exc:
                self._fail(exc)
        self.closed = True
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(HttpError(f"connection lost{f': {exc}' if exc else ''}"))

    # -------------------------------------------------------- requests

    def send(self, data: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Answer]:
        assert self.transport is not None
        if self.transport.is_closing():
            raise HttpError("connection closed")  # before any byte: the pool asks again on a new one
        self.answer = loop.create_future()
        self.received = False
        self._head = None
        self._buf.clear()
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

    def _parse(self, eof: bool) -> None:
        buf = self._buf
        if self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD_BYTES:
                    raise HttpError("response head too long")
                if eof:
                    raise HttpError("connection closed before the response head ended")
                return
            self._read_head(bytes(buf[:end]).decode("latin-1"))
            del buf[: end + 4]
            if self._head is None:  # an interim 1xx answer: the real one follows
                self._parse(eof)
                return
        if self._chunked:
            body = self._dechunk(eof)
            if body is None:
                return
        elif self._length is not None:
            if len(buf) < self._length:
                if eof:
                    raise HttpError("connection closed before the response body ended")
                return
            if len(buf) > self._length:
                raise HttpError("more bytes than the response's Content-Length")
            body = bytes(buf)
        else:  # no framing: the body runs to the connection's close
            if len(buf) > self._max_body:
                raise HttpError(f"answer is over the {self._max_body} bytes limit")
            if not eof:
                return
            body = bytes(buf)
        status, headers, keep_alive = self._head
        buf.clear()
        if not keep_alive or (not self._chunked and self._length is None):
            self.close()
        assert self.answer is not None
        self.answer.set_result(Answer(status, headers, body))

    def _read_head(self, head: str) -> None:
        lines = head.split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise HttpError(f"not an HTTP/1.x answer: {lines[0][:40]!r}")
        try:
            status = int(rest[:3])
        except ValueError:
            raise HttpError(f"bad status line {lines[0][:40]!r}") from None
        if 100 <= status < 200:
            return
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpError(f"bad header line {line[:40]!r}")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._length = None
        if not self._chunked and "content-length" in headers:
            try:
                self._length = int(headers["content-length"])
            except ValueError:
                raise HttpError("bad Content-Length") from None
            if self._length < 0:
                raise HttpError("bad Content-Length")
            if self._length > self._max_body:
                raise HttpError(f"answer of {self._length} bytes is over the {self._max_body} limit")
        if status in (204, 304):
            self._length = 0
        self._head = (status, headers, keep_alive)

    def _dechunk(self, eof: bool) -> bytes | None:
        """The whole body once its last chunk is in, else None (waiting for more)."""
        buf = self._buf
        out = bytearray()
        at = 0
        while True:
            line_end = buf.find(b"\r\n", at)
            if line_end < 0:
                break
            try:
                size = int(bytes(buf[at:line_end]).split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise HttpError("bad chunk size") from None
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", line_end)
                if buf[line_end : line_end + 4] == b"\r\n\r\n" or trailer_end >= 0:
                    return bytes(out)
                break
            start, stop = line_end + 2, line_end + 2 + size
            if len(buf) < stop + 2:
                break
            out += buf[start:stop]
            if len(out) > self._max_body:
                raise HttpError(f"answer is over the {self._max_body} bytes limit")
            at = stop + 2
        if eof:
            raise HttpError("connection closed inside a chunked body")
        return None


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
        self._limit = asyncio.Semaphore(limit)
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
        async with self._limit:
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
