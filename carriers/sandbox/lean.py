"""The CDEK-format emulator on a bare asyncio protocol, for load benchmarks.

Same endpoints, wire format, pricing and faults as `create_cdek_app` (both answer through the
functions of `carriers.sandbox.cdek`), at a fraction of aiohttp's cost per request: a benchmark
runs its emulators on the cores it is measuring, so every millisecond they spend is one the
service under test does not get. Latency is a timer on the finished answer, not a sleeping task.

It speaks only what HTTP/1.1 clients send to an API: a request line, headers and a
Content-Length body (no chunked uploads), keep-alive unless the client says `close`, one request
at a time per connection. Use `create_cdek_app` for anything else; this is not a web server.

    server = await start_lean_cdek("id", "secret", state=SandboxState())
    ... f"http://127.0.0.1:{server.port}" ...
    await server.close()
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from carriers.sandbox.cdek import (
    TOKEN_TTL_S,
    UNAUTHORIZED,
    authorized,
    deliverypoints_answer,
    error_body,
    tarifflist_answer,
    token_answer,
)
from carriers.sandbox.faults import CONTROL_PREFIX, MALFORMED_BODY, Faults, SandboxState, parse_faults

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes


def response(status: int, body: bytes, headers: dict[str, str] | None = None, *, close: bool = False) -> bytes:
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def json_answer(status: int, body: Any, headers: dict[str, str] | None = None) -> bytes:
    return response(status, orjson.dumps(body), headers)


# The calculator's answers to the bodies asked lately. A service asks every carrier the same
# question for one quote, and a bench runs several emulators in one process: the answer (a pure
# function of the body) is priced and encoded once for all of them, each still receiving,
# counting, checking and answering its own call, faults and latency included.
_answered: dict[tuple[bytes, bool], bytes] = {}
MAX_ANSWERS_KEPT = 256


def _tarifflist_response(body: bytes, empty: bool) -> bytes:
    key = (body, empty)
    answer = _answered.get(key)
    if answer is None:
        if len(_answered) >= MAX_ANSWERS_KEPT:
            _answered.clear()
        answer = _answered[key] = json_answer(*tarifflist_answer(body, empty=empty))
    return answer


@dataclass
class LeanCdek:
    client_id: str
    client_secret: str = field(repr=False)
    state: SandboxState = field(default_factory=SandboxState)
    token_ttl_s: float = TOKEN_TTL_S
    server: asyncio.AbstractServer | None = None
    port: int = 0
    _hanging: set[asyncio.Transport] = field(default_factory=set)
    _open: set[asyncio.Transport] = field(default_factory=set)

    # ------------------------------------------------------------ routing

    def answer(self, request: Request) -> tuple[bytes | None, float]:
        """(the bytes to send, or None to hang; seconds to wait before sending them)."""
        if request.path.startswith(CONTROL_PREFIX):
            return self.control(request), 0.0
        state = self.state
        state.requests[request.path] += 1
        faults = state.take(request.path)
        delay = 0.0
        if faults is not None:
            jitter = state.random.uniform(-faults.jitter_ms, faults.jitter_ms) if faults.jitter_ms else 0.0
            delay = max(0.0, faults.latency_ms + jitter) / 1000
            fault = self.fault(faults)
            if fault is not None or faults.hang:
                return fault, delay
        return self.api(request, empty=bool(faults and faults.empty)), delay

    def fault(self, faults: Faults) -> bytes | None:
        if faults.hang:
            return None
        if faults.rate_limit_retry_after is not None:
            retry_after = {"Retry-After": f"{faults.rate_limit_retry_after:g}"}
            return response(429, error_body(429, "too many requests"), retry_after)
        if faults.status is not None:
            return response(faults.status, error_body(faults.status, "injected fault"))
        if faults.malformed:
            return response(200, MALFORMED_BODY)
        return None

    def api(self, request: Request, *, empty: bool) -> bytes:
        route = (request.method, request.path)
        if route == ("POST", "/v2/oauth/token"):
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            form.update({k: v for k, v in request.query.items() if k not in form})
            return json_answer(*token_answer(form, (self.client_id, self.client_secret), self.state, self.token_ttl_s))
        if route == ("POST", "/v2/calculator/tarifflist"):
            if not authorized(request.headers.get("authorization", ""), self.state):
                return json_answer(*UNAUTHORIZED)
            return _tarifflist_response(request.body, empty)
        if route == ("GET", "/v2/deliverypoints"):
            if not authorized(request.headers.get("authorization", ""), self.state):
                return json_answer(*UNAUTHORIZED)
            return json_answer(*deliverypoints_answer(request.query, empty=empty))
        return json_answer(
            404, {"errors": [{"code": "v2_not_found", "message": f"no {request.method} {request.path}"}]}
        )

    def control(self, request: Request) -> bytes:
        state = self.state
        if request.path == CONTROL_PREFIX + "/stats" and request.method == "GET":
            return json_answer(200, state.stats())
        if request.path != CONTROL_PREFIX + "/faults":
            return json_answer(404, {"error": f"no {request.path}"})
        if request.method == "DELETE":
            state.clear()
            return json_answer(200, {"faults": asdict(Faults())})
        if request.method == "GET":
            return json_answer(200, {"faults": asdict(state.faults)})
        try:
            faults, expire = parse_faults(orjson.loads(request.body))
        except orjson.JSONDecodeError:
            return json_answer(400, {"error": "body is not JSON"})
        except ValueError as exc:
            return json_answer(400, {"error": str(exc)})
        state.set_faults(faults, expire)
        if not faults.hang:
            self.release()
        return json_answer(200, {"faults": asdict(faults), "tokens_expired": expire})

    def release(self) -> None:
        """Let go of the connections a hang is holding: they are closed, as a dying server's would be."""
        for transport in self._hanging:
            transport.close()
        self._hanging.clear()

    # ------------------------------------------------------------ serving

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> LeanCdek:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Connection(self), host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self.state.release.set()
        self.release()
        if self.server is not None:
            self.server.close()
            # Kept-alive connections too, as a server going down closes them; the clients' ends
            # then close on the end of file rather than lingering after the test or bench.
            for transport in list(self._open):
                transport.close()
            self._open.clear()
            await self.server.wait_closed()
            for _ in range(3):
                await asyncio.sleep(0)


class _Connection(asyncio.Protocol):
    def __init__(self, emulator: LeanCdek) -> None:
        self.emulator = emulator
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiting = False  # an answer is on its timer; the next request waits in the buffer
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.emulator._open.add(self.transport)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self.emulator._hanging.discard(self.transport)
        self.emulator._open.discard(self.transport)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.waiting:
            self.next()

    def next(self) -> None:
        while self.transport is not None and not self.waiting and not self.closing:
            request = self.parse()
            if request is None:
                return
            close = request.headers.get("connection", "").lower() == "close"
            answer, delay = self.emulator.answer(request)
            if answer is None:
                self.emulator._hanging.add(self.transport)
                self.waiting = True
                return
            if delay > 0:
                self.waiting = True
                asyncio.get_running_loop().call_later(delay, self.send, answer, close)
                return
            self.send(answer, close)

    def send(self, answer: bytes, close: bool = False) -> None:
        self.waiting = False
        if self.transport is None:
            return
        self.transport.write(answer)
        if close:
            self.closing = True
            self.transport.close()
            return
        if self.buffer:
            self.next()

    def parse(self) -> Request | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD_BYTES:
                self.refuse(431)
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        try:
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self.refuse(400)
            return None
        if "chunked" in headers.get("transfer-encoding", "").lower() or not 0 <= length <= MAX_BODY_BYTES:
            self.refuse(400)
            return None
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        url = urlsplit(target)
        return Request(method, url.path, dict(parse_qsl(url.query)), headers, body)

    def refuse(self, status: int) -> None:
        assert self.transport is not None
        body = b'{"errors": [{"code": "v2_bad_request", "message": "unreadable request"}]}'
        self.transport.write(response(status, body, close=True))
        self.closing = True
        self.transport.close()


async def start_lean_cdek(
    client_id: str,
    client_secret: str,
    *,
    state: SandboxState | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    token_ttl_s: float = TOKEN_TTL_S,
) -> LeanCdek:
    """The lean CDEK-format emulator, listening; `port` 0 picks a free one."""
    emulator = LeanCdek(client_id, client_secret, state=state or SandboxState(), token_ttl_s=token_ttl_s)
    return await emulator.start(host, port)
