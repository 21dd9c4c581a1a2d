"""The shop's webhook endpoint, as a real HTTP server on a free port: it keeps what it is sent."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestServer


@dataclass
class Receiver:
    """The shop's endpoint: it keeps what it is sent, and answers `status` while it is down."""

    server: TestServer | None = None
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refused: int = 0
    status: int = 200

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hooks"))

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    async def wait_for(self, count: int, within_s: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + within_s
        while len(self.received) < count:
            assert loop.time() < until, f"{len(self.received)} of {count} events arrived"
            await asyncio.sleep(0.05)
