"""The carriers' kept-alive HTTP/1.1 pool, against a raw TCP server that answers byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from carriers.http import Answer, HttpError, HttpPool

HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


class RawServer:
    """Answers each request with the next of `answers`: bytes; (bytes, "close") to close after
    them; None to close without a word."""

    def __init__(self, answers: list[bytes | tuple[bytes, str] | None]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.connections = 0
        self.server: asyncio.AbstractServer | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                index = len(self.requests) - 1
                answer = self.answers[index]
                if answer is None:
                    break
                writer.write(answer[0] if isinstance(answer, tuple) else answer)
                await writer.drain()
                if isinstance(answer, tuple):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[tuple[RawServer, HttpPool]]]]:
    """A raw server giving `answers`, and a pool to it; both closed after the test."""
    servers: list[RawServer] = []
    pools: list[HttpPool] = []

    async def start(
        answers: list[bytes | tuple[bytes, str] | None], path: str = "", **options: Any
    ) -> tuple[RawServer, HttpPool]:
        server = RawServer(answers)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(server)
        pools.append(HttpPool(server.url + path, **options))
        return server, pools[-1]

    yield start
    for pool in pools:
        pool.close()
    for server in servers:
        for writer in list(server.writers):
            writer.close()
        assert server.server is not None
        server.server.close()
        await server.server.wait_closed()
    await asyncio.sleep(0)


async def get(pool: HttpPool) -> Answer:
    return await pool.request(pool.head("GET", "/", {}))


def ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def test_a_request_goes_out_whole_and_the_answer_comes_back_on_a_kept_alive_connection(serve) -> None:
    server, pool = await serve([ok(b'{"a":1}', "Retry-After: 3"), ok(b"[]")], path="/base/")
    head = pool.head("POST", "/v2/calc", HEADERS)
    first = await pool.request(head, b'{"x":1}')
    second = await pool.request(head, b"{}")
    assert (first.status, first.body, first.headers["retry-after"]) == (200, b'{"a":1}', "3")
    assert second.body == b"[]"
    assert server.connections == 1 and pool.connections_made == 1
    sent = server.requests[0]
    assert sent.startswith(b"POST /base/v2/calc HTTP/1.1\r\n")
    port = server.url.rsplit(":", 1)[1]
    assert f"Host: 127.0.0.1:{port}\r\n".encode() in sent
    assert b"Content-Length: 7\r\n\r\n" in sent and sent.endswith(b'{"x":1}')


async def test_a_chunked_answer_is_put_back_together(serve) -> None:
    chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3;ext=1\r\n:12\r\n1\r\n}\r\n0\r\n\r\n'
    server, pool = await serve([chunked, ok(b"next")])
    answer = await pool.request(pool.head("GET", "/x", {}))
    again = await pool.request(pool.head("GET", "/x", {}))
    assert answer.body == b'{"a":12}'
    assert again.body == b"next" and server.connections == 1


async def test_an_answer_without_length_runs_to_the_close_and_the_next_call_connects_anew(serve) -> None:
    server, pool = await serve(
        [(b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\noops", "close"), ok(b"fine")]
    )
    first = await get(pool)
    second = await get(pool)
    assert (first.status, first.body) == (500, b"oops")
    assert second.body == b"fine"
    assert pool.connections_made == 2


async def test_an_idle_connection_the_server_dropped_is_replaced_once(serve) -> None:
    # The second request finds its kept-alive connection closed without an answer.
    server, pool = await serve([ok(b"1"), None, ok(b"2")])
    await get(pool)
    answer = await get(pool)
    assert answer.body == b"2"
    assert pool.connections_made == 2


async def test_a_new_connection_dropped_without_an_answer_is_an_error(serve) -> None:
    server, pool = await serve([None])
    with pytest.raises(HttpError):
        await get(pool)
    assert pool.connections_made == 1


async def test_an_answer_cut_short_is_an_error_not_a_short_body(serve) -> None:
    server, pool = await serve([(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", "close")])
    with pytest.raises(HttpError, match="body ended"):
        await get(pool)


async def test_garbage_and_oversized_answers_are_errors(serve) -> None:
    server, pool = await serve([b"SSH-2.0-OpenSSH\r\n\r\n", ok(b"x" * 100)], max_body=50)
    with pytest.raises(HttpError, match="not an HTTP"):
        await get(pool)
    with pytest.raises(HttpError, match="over the 50"):
        await get(pool)


async def test_an_interim_answer_is_skipped_and_the_real_one_read(serve) -> None:
    server, pool = await serve([b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"real")])
    answer = await pool.request(pool.head("POST", "/", {}), b"{}")
    assert (answer.status, answer.body) == (200, b"real")


async def test_bytes_past_an_answers_length_keep_the_answer_but_not_the_connection(serve) -> None:
    server, pool = await serve([ok(b"four") + b"junk that is not HTTP", ok(b"next")])
    first = await get(pool)
    second = await get(pool)
    assert first.body == b"four" and second.body == b"next"
    assert pool.connections_made == 2


async def test_a_head_past_the_limit_is_an_error(serve) -> None:
    huge = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(80))
    server, pool = await serve([(huge, "close")])
    with pytest.raises(HttpError, match="head too long"):
        await get(pool)


async def test_a_large_body_in_the_same_packet_as_its_head_is_not_taken_for_a_long_head(serve) -> None:
    body = b"z" * 100_000
    server, pool = await serve([ok(body)])
    answer = await get(pool)
    assert answer.body == body


async def test_a_cancelled_call_does_not_put_its_connection_back(serve) -> None:
    server, _ = await serve([ok(b"fresh")])
    gate = asyncio.Event()
    original = server.handle

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if server.connections == 0:
            server.connections += 1
            await reader.readuntil(b"\r\n\r\n")
            await gate.wait()  # never answers the first request
            writer.close()
            return
        await original(reader, writer)

    server.server.close()  # type: ignore[union-attr]
    server.server = await asyncio.start_server(slow, "127.0.0.1", 0)
    pool = HttpPool(server.url)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await get(pool)
        answer = await get(pool)
    finally:
        gate.set()
        pool.close()
    # The second call did not wait on the first call's connection: it had one of its own.
    assert answer.body == b"fresh" and pool.connections_made == 2


async def test_connection_refused_is_an_os_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = HttpPool(f"http://127.0.0.1:{port}")
    with pytest.raises(OSError):
        await get(pool)


def test_a_header_value_cannot_split_the_request_head() -> None:
    pool = HttpPool("https://api.example.test")
    with pytest.raises(HttpError):
        pool.head("POST", "/v2/x", {"Authorization": "Bearer t\r\nX-Evil: 1"})
    assert pool.head("GET", "/v2/x", {}).startswith(b"GET /v2/x HTTP/1.1\r\nHost: api.example.test\r\n")
    assert pool.port == 443


def test_only_http_urls_are_taken() -> None:
    with pytest.raises(ValueError):
        HttpPool("ftp://example.test")


async def test_https_is_spoken_and_a_certificate_is_checked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    raw = RawServer([ok(b'{"tls":true}'), ok(b"again")])
    server = await asyncio.start_server(raw.handle, "127.0.0.1", 0, ssl=server_side)
    port = server.sockets[0].getsockname()[1]
    trusting = ssl.create_default_context(cafile=str(cert))
    pool = HttpPool(f"https://localhost:{port}", ssl_context=trusting)
    untrusting = HttpPool(f"https://localhost:{port}")
    try:
        first = await get(pool)
        second = await get(pool)
        with pytest.raises(ssl.SSLCertVerificationError):
            await untrusting.request(untrusting.head("GET", "/", {}))
    finally:
        pool.close()
        untrusting.close()
        for writer in list(raw.writers):
            writer.close()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)
    assert (first.body, second.body) == (b'{"tls":true}', b"again")
    assert pool.connections_made == 1
    assert f"Host: localhost:{port}\r\n".encode() in raw.requests[0]


class HeldServer:
    """Answers every request once `gate` is set, counting how many it holds at a time."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.held = 0
        self.most_held = 0
        self.requests = 0
        self.server: asyncio.AbstractServer | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                self.requests += 1
                self.held += 1
                self.most_held = max(self.most_held, self.held)
                await self.gate.wait()
                self.held -= 1
                writer.write(ok(b"done"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> HeldServer:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.gate.set()
        self.server.close()
        await asyncio.sleep(0)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(2):
        while not condition():
            await asyncio.sleep(0.001)


async def test_no_more_calls_than_the_limit_are_in_flight_and_the_rest_go_in_their_turn() -> None:
    async with HeldServer() as server:
        pool = HttpPool(server.url, limit=2)
        try:
            calls = [asyncio.ensure_future(get(pool)) for _ in range(5)]
            await until(lambda: server.requests == 2)
            await asyncio.sleep(0.02)
            assert server.requests == 2  # the other three wait for a connection to come back
            server.gate.set()
            async with asyncio.timeout(2):
                answers = await asyncio.gather(*calls)
        finally:
            pool.close()
    assert [a.body for a in answers] == [b"done"] * 5
    assert server.most_held == 2 and pool.connections_made == 2


async def test_a_call_cancelled_while_waiting_its_turn_leaves_its_place_to_the_next() -> None:
    async with HeldServer() as server:
        pool = HttpPool(server.url, limit=1)
        try:
            first = asyncio.ensure_future(get(pool))
            await until(lambda: server.requests == 1)
            waiting, after = asyncio.ensure_future(get(pool)), asyncio.ensure_future(get(pool))
            await asyncio.sleep(0.01)
            waiting.cancel()  # still waiting: it never held a place
            server.gate.set()
            async with asyncio.timeout(2):
                assert (await first).body == b"done" and (await after).body == b"done"
            with pytest.raises(asyncio.CancelledError):
                await waiting
            # Still one at a time: the cancelled call gave no place away twice.
            server.gate.clear()
            more = [asyncio.ensure_future(get(pool)) for _ in range(3)]
            await until(lambda: server.requests == 3)
            await asyncio.sleep(0.02)
            server.gate.set()
            async with asyncio.timeout(2):
                await asyncio.gather(*more)
        finally:
            pool.close()
    assert server.most_held == 1 and server.requests == 5


async def test_a_call_cancelled_just_as_its_turn_came_hands_the_place_on() -> None:
    async with HeldServer() as server:
        pool = HttpPool(server.url, limit=1)
        try:
            first = asyncio.ensure_future(get(pool))
            await until(lambda: server.requests == 1)
            handed, after = asyncio.ensure_future(get(pool)), asyncio.ensure_future(get(pool))
            await asyncio.sleep(0.01)
            first.cancel()
            await asyncio.sleep(0)  # the first call ends and hands `handed` its place...
            handed.cancel()  # ...which is cancelled before it could use it
            server.gate.set()
            async with asyncio.timeout(2):
                assert (await after).body == b"done"
            with pytest.raises(asyncio.CancelledError):
                await handed
            with pytest.raises(asyncio.CancelledError):
                await first
        finally:
            pool.close()


async def test_a_place_is_not_handed_to_a_call_already_cancelled_in_the_queue() -> None:
    async with HeldServer() as server:
        pool = HttpPool(server.url, limit=1)
        try:
            first = asyncio.ensure_future(get(pool))
            await until(lambda: server.requests == 1)
            gone, after = asyncio.ensure_future(get(pool)), asyncio.ensure_future(get(pool))
            await asyncio.sleep(0.01)
            first.cancel()  # ends first, before `gone` learns it was cancelled in the queue
            gone.cancel()
            server.gate.set()
            async with asyncio.timeout(2):
                assert (await after).body == b"done"
            for call in (first, gone):
                with pytest.raises(asyncio.CancelledError):
                    await call
        finally:
            pool.close()
    assert server.requests == 2
