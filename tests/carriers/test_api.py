"""What every HTTP carrier shares: its time budget under the caller's deadline and cutoff."""

from __future__ import annotations

import asyncio

import pytest

from carriers.api import bounded, budget_s, deadline_scope


async def test_a_carriers_own_shorter_timeout_still_ends_its_call_under_a_cutoff() -> None:
    loop = asyncio.get_running_loop()
    with deadline_scope(loop.time() + 5.0, cutoff=loop.time() + 2.0), pytest.raises(TimeoutError):
        async with bounded(0.05):
            await asyncio.sleep(5)


async def test_no_timer_is_armed_that_would_fire_after_the_caller_cancels_the_call() -> None:
    loop = asyncio.get_running_loop()
    with deadline_scope(loop.time() + 5.0, cutoff=loop.time() + 1.0):
        assert not isinstance(bounded(3.0), asyncio.Timeout)  # the caller's cancellation comes first
        assert isinstance(bounded(0.5), asyncio.Timeout)
    with deadline_scope(loop.time() + 1.0):  # a deadline alone: nobody promised to cancel
        assert isinstance(bounded(3.0), asyncio.Timeout)
        assert budget_s(3.0) <= 1.0
    assert isinstance(bounded(3.0), asyncio.Timeout)
