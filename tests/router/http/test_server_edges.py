"""What the server answers before the app sees a request: problem+json, and no request bytes logged."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from router.core.settings import Settings
from router.http.app import create_app
from router.http.server import AppRunner

TOKEN = "sk_live_8h2Jq0ZpLm3"
MALFORMED = [
    # A secret key followed by a control byte: aiohttp's parser refuses the header.
    f"GET /v1/carriers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\x01\r\n\r\n".encode(),
    f"GET /v1/carriers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\x7f\r\n\r\n".encode(),
    f"G@T /v1/carriers?key={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),  # a bad request line
    b"GET /" + b"a" * 9000 + f"?key={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),  # a line too long
]


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    answer = await reader.read()  # the server closes the connection after such an answer
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture
async def port(tmp_path: Path) -> AsyncIterator[int]:
    runner = AppRunner(create_app(Settings(state_dir=tmp_path)))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("raw", MALFORMED, ids=["control-byte", "delete-byte", "request-line", "long-line"])
async def test_a_request_the_parser_refuses_is_a_problem_and_its_bytes_are_never_logged(
    port: int, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, headers, body = await exchange(port, raw)
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    problem = orjson.loads(body)
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert TOKEN.encode() not in body
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records if r.exc_info)
    assert caplog.records and TOKEN not in logged


async def test_a_well_formed_request_is_still_the_apps(port: int) -> None:
    status, headers, _ = await exchange(port, b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 404 and headers["content-type"].startswith("application/problem+json")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_served_service_answers_a_malformed_header_in_problem_json_and_logs_no_key(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARRIER_ROUTER_") and k != "REDIS_URL"}
    env["CARRIER_ROUTER_STATE"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        answer = None
        deadline = time.monotonic() + 120
        while answer is None:
            assert server.poll() is None, "the service exited while starting"
            assert time.monotonic() < deadline, "the service did not listen within 120 s"
            try:
                answer = asyncio.run(exchange(port, MALFORMED[0]))
            except OSError:
                time.sleep(0.2)
        status, headers, _ = answer
        assert status == 400 and headers["content-type"].startswith("application/problem+json")
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0
    assert b"unreadable request refused" in stderr  # the log was written, and it holds no key
    assert TOKEN.encode() not in stderr
