from __future__ import annotations

import pytest

from router.store import MemoryStore
from router.tracking import poller as polling
from router.tracking.poller import Poller


async def test_polls_are_paced_by_the_second_and_refusals_never_starve_the_next_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(polling.time, "time", lambda: now[0])
    pace = Poller(tracker=None, bookings={}, store=MemoryStore(), every_s=60, per_minute={"cdek": 122})  # type: ignore[arg-type]

    first = [await pace._allowed("cdek") for _ in range(6)]
    now[0] += 1
    second = [await pace._allowed("cdek") for _ in range(6)]
    other = [await pace._allowed("magistral") for _ in range(3)]  # its own count, at the default pace (9 a second)

    assert first == [True, True, False, False, False, False]
    assert second == [True, True, False, False, False, False]  # a second of refusals weighs on no later one
    assert other == [True, True, True]
