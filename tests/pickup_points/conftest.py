"""One app per test module: starting it builds the place index and the pickup directory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from router.core.settings import Settings
from router.http.app import create_app


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(Settings())))
    await client.start_server()
    yield client
    await client.close()
