"""The CDEK emulator as the tracking tests want it: orders decided at once, every parcel arriving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from carriers.sandbox import SandboxServers, start_sandbox
from carriers.sandbox.cdek_journeys import SandboxJourneys
from carriers.sandbox.cdek_orders import SandboxOrders


@asynccontextmanager
async def travelling_sandbox(*, seed: int = 3, print_ready_after_s: float = 0) -> AsyncIterator[SandboxServers]:
    """`seed` draws the journeys; `print_ready_after_s`: how long a label takes (an hour: only a
    PRINT_FORM call made on demand delivers it)."""
    orders = SandboxOrders(decide_after_s=0, print_ready_after_s=print_ready_after_s)
    journeys = SandboxJourneys(orders, seed=seed, returned_share=0.0, lost_share=0.0)
    servers = await start_sandbox(seed=7, cdek_orders=orders, cdek_journeys=journeys)
    try:
        yield servers
    finally:
        await servers.close()
