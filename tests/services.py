"""The real service in a subprocess, as a user starts it: `carrier-router serve` on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def start_services(*states: Path, flags: tuple[str, ...] = (), log: bool = False) -> Iterator[list[str]]:
    """`carrier-router serve` on the demo network once per state directory (keys live there),
    started side by side: each spends seconds building its indexes. `log`: what each prints goes
    to `serve.log` in its state directory."""
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    logs: list[IO[bytes]] = []
    try:
        for state in states:
            port = free_port()
            env = {**os.environ, "CARRIER_ROUTER_STATE": str(state)}
            env.pop("REDIS_URL", None)
            out: IO[bytes] | int = subprocess.DEVNULL
            if log:
                out = (state / "serve.log").open("wb")
                logs.append(out)
            proc = subprocess.Popen(
                [sys.executable, "-m", "router.cli", "serve", "--port", str(port), *flags],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            )
            started.append((proc, f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + 90
        for proc, url in started:
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("the service did not start")
                    time.sleep(0.1)
        yield [url for _, url in started]
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, _ in started:
            proc.wait(timeout=20)
        for file in logs:
            file.close()
