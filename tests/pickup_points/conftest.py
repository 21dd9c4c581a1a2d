"""One app per test module: starting it builds the place index and the pickup directory."""

from __future__ import annotations

from typing import AsyncIterator

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from router.app import create_app
from router.settings import Settings


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(Settings())))
    await client.start_server()
    yield client
    await client.close()
