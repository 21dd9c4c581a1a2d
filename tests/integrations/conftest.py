"""The real app on the demo network, one per test module (starting it builds the place and
pickup-point indexes), and CRM accounts connected to it, called as the CRM calls them.

Modules using `service` run their tests in the module's event loop:
`pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.app import create_app
from router.integrations.retailcrm.accounts import Account, AccountBook
from tests.integrations.crm_client import CrmClient


@dataclass
class Service:
    api: TestClient
    book: AccountBook


@dataclass
class Connected:
    api: TestClient
    crm: CrmClient
    account: Account
    book: AccountBook

    async def quote(self, quote_id: str) -> Any:
        """A quote the account's calculation locked, read as its owner: `/v1/quotes` answers 404."""
        return orjson.loads(await self.api.server.app[keys.QUOTES].get(quote_id, readers=(self.account.id,)))


StartCrm = Callable[..., Awaitable[Connected]]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Service]:
    settings = Settings(state_dir=tmp_path_factory.mktemp("state"))
    client = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    yield Service(client, client.server.app[keys.RETAILCRM_ACCOUNTS])
    await client.close()


@pytest.fixture
def connect_crm(service: Service) -> StartCrm:
    """Connect a new account (keyword arguments as `AccountBook.create` takes them)."""

    async def start(**account: Any) -> Connected:
        created, client_id = await service.book.create(
            account.pop("crm_url", "https://shop.retailcrm.ru"), "carrier-router", **account
        )
        return Connected(service.api, CrmClient(service.api, client_id), created, service.book)

    return start


@pytest.fixture
def later(service: Service) -> Iterator[Callable[[timedelta], None]]:
    """Move the quotes' clock forward; put back after the test."""
    book = service.api.server.app[keys.QUOTES]
    original = book._clock

    def move(by: timedelta) -> None:
        book._clock = lambda: datetime.now(UTC) + by

    yield move
    book._clock = original
