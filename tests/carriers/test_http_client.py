"""The API carriers over aiohttp's client, against a raw TCP server that answers byte for byte.

What the carriers rely on from the client and its one session: the connector's per-host limit,
connections kept alive and reused, a cancelled or timed-out call leaving the next ones whole,
a dropped connection asked again once, and every failure reaching the caller as a carriers error.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from carriers.api import Secret
from carriers.courier import CourierCarrier, CourierClient
from carriers.errors import CarrierApiError, CarriersError, CarrierTimeout, CarrierUnavailable
from tests.carriers.sandbox_fixtures import MOSCOW, MOSCOW_EAST, rate_request

OK = b'{"is_successful":true,"order":{"payment_amount":"300.00","delivery_fee_amount":"300.00"}}'


def answer(body: bytes = OK, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


Reply = Callable[[int], bytes | tuple[bytes] | None]


class RawServer:
    """Answers each request with `reply(n)` (n counts requests from 0): bytes to send; (bytes,)
    to send and then close; None to close without a word. `gate`, while clear, holds every
    answer back."""

    def __init__(self, reply: Reply = lambda n: answer()) -> None:
        self.reply = reply
        self.requests = 0
        self.connections = 0
        self.held = 0
        self.most_held = 0
        self.gate = asyncio.Event()
        self.gate.set()
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
                await reader.readexactly(length)
                n, self.requests = self.requests, self.requests + 1
                self.held += 1
                self.most_held = max(self.most_held, self.held)
                await self.gate.wait()
                self.held -= 1
                data = self.reply(n)
                if data is None:
                    break
                writer.write(data if isinstance(data, bytes) else data[0])
                await writer.drain()
                if not isinstance(data, bytes):
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
async def serve() -> AsyncIterator[Callable[..., asyncio.Future[RawServer]]]:
    servers: list[RawServer] = []

    async def start(reply: Reply = lambda n: answer()) -> RawServer:
        server = RawServer(reply)
        server.server = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.gate.set()
        for writer in list(server.writers):
            writer.close()
        assert server.server is not None
        server.server.close()
        await server.server.wait_closed()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    # As the app opens it: no cap on the total, a cap per carrier host (two, to see it bite).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, limit_per_host=2)) as http:
        yield http


def courier(http: aiohttp.ClientSession, url: str, timeout_s: float = 2.0) -> CourierCarrier:
    return CourierCarrier(CourierClient(http, base_url=url, token=Secret("t")), timeout_s=timeout_s)


REQUEST = rate_request(MOSCOW, MOSCOW_EAST)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(2):
        while not condition():
            await asyncio.sleep(0.001)


async def test_calls_reuse_one_kept_alive_connection(serve, session) -> None:  # type: ignore[no-untyped-def]
    server = await serve()
    carrier = courier(session, server.url)
    for _ in range(5):
        assert (await carrier.quote(REQUEST)).offers
    assert server.requests == 5 and server.connections == 1


async def test_no_more_calls_than_the_per_host_limit_are_in_flight_and_the_rest_wait_their_turn(
    serve,  # type: ignore[no-untyped-def]
    session,
) -> None:
    server = await serve()
    server.gate.clear()
    carrier = courier(session, server.url)
    calls = [asyncio.ensure_future(carrier.quote(REQUEST)) for _ in range(5)]
    await until(lambda: server.requests == 2)
    await asyncio.sleep(0.05)
    assert server.requests == 2  # the other three wait for one of the two connections
    server.gate.set()
    async with asyncio.timeout(2):
        quotes = await asyncio.gather(*calls)
    assert all(q.offers for q in quotes)
    assert server.most_held == 2 and server.connections == 2


async def test_a_cancelled_call_leaves_later_calls_whole(serve, session) -> None:  # type: ignore[no-untyped-def]
    server = await serve()
    server.gate.clear()
    carrier = courier(session, server.url)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await carrier.quote(REQUEST)  # cancelled with its request on the wire, unanswered
    server.gate.set()
    for _ in range(3):
        assert (await carrier.quote(REQUEST)).offers
    # The cancelled call's connection was not handed to the next call with an answer half-due.
    assert server.connections == 2


async def test_a_hanging_server_hits_the_carriers_own_timeout(serve, session) -> None:  # type: ignore[no-untyped-def]
    server = await serve()
    server.gate.clear()
    carrier = courier(session, server.url, timeout_s=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(CarrierTimeout) as caught:
        await carrier.quote(REQUEST)
    assert 0.2 <= loop.time() - started < 1.0
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, CarriersError)
    server.gate.set()
    assert (await carrier.quote(REQUEST)).offers


async def test_a_kept_alive_connection_the_server_dropped_is_asked_again_once_on_a_new_one(
    serve,  # type: ignore[no-untyped-def]
    session,
) -> None:
    # The second request finds its kept-alive connection closed without an answer.
    server = await serve(lambda n: None if n == 1 else answer())
    carrier = courier(session, server.url)
    assert (await carrier.quote(REQUEST)).offers
    assert (await carrier.quote(REQUEST)).offers
    assert server.requests == 3 and server.connections == 2


async def test_a_server_that_keeps_dropping_the_call_is_unavailable(serve, session) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda n: None)
    with pytest.raises(CarrierUnavailable):
        await courier(session, server.url).quote(REQUEST)
    assert server.requests == 2  # asked once more, not in a loop


async def test_a_refused_connection_is_unavailable(session) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CarrierUnavailable):
        await courier(session, f"http://127.0.0.1:{port}").quote(REQUEST)


async def test_an_answer_that_is_not_http_is_unavailable_and_the_next_call_connects_anew(
    serve,  # type: ignore[no-untyped-def]
    session,
) -> None:
    server = await serve(lambda n: b"SSH-2.0-OpenSSH\r\n\r\n" if n == 0 else answer())
    carrier = courier(session, server.url)
    with pytest.raises(CarrierUnavailable):
        await carrier.quote(REQUEST)
    assert (await carrier.quote(REQUEST)).offers


async def test_an_answer_cut_short_is_unavailable_not_a_short_body(serve, session) -> None:  # type: ignore[no-untyped-def]
    server = await serve(lambda n: (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{",))
    with pytest.raises(CarrierUnavailable):
        await courier(session, server.url).quote(REQUEST)


async def test_an_answer_over_the_size_limit_is_refused_before_it_is_read(serve, session) -> None:  # type: ignore[no-untyped-def]
    from carriers.api import MAX_BODY_BYTES

    server = await serve(lambda n: f"HTTP/1.1 200 OK\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n{{".encode())
    with pytest.raises(CarrierApiError, match="over the"):
        await courier(session, server.url).quote(REQUEST)
