from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from carriers.booking import OrderState, OrderStatus
from router.core.settings import Settings
from router.quoting.wiring import open_engine
from router.records import open_database
from router.records.jobs import Hold, Job, JobQueue, JobRunner, Outcome, schedule
from router.records.tables import shipments
from router.shipping.model import ShipmentStatus
from router.store import MemoryStore
from router.tracking.poller import DEFAULT_PER_MINUTE, Poller, pace
from router.tracking.wiring import shipper_for

TRACK = "track"


async def test_polls_are_paced_by_the_second_and_refusals_never_starve_the_next_second() -> None:
    now = [1_000_000.25]
    pacer = Poller(tracker=None, bookings={}, store=MemoryStore(), every_s=60, per_minute={"cdek": 122}, clock=lambda: now[0])  # type: ignore[arg-type]  # fmt: skip

    first = [await pacer._allowed("cdek") for _ in range(6)]
    now[0] += 1
    second = [await pacer._allowed("cdek") for _ in range(6)]
    other = [await pacer._allowed("magistral") for _ in range(10)]  # its own count, at the default pace

    assert first == [None, None, 0.75, 0.75, 0.75, 0.75]  # refused until the next second begins
    assert second == first  # a second of refusals weighs on no later one
    assert other == [None] * 9 + [0.75]


def test_no_sixty_seconds_however_cut_hold_more_polls_than_the_limit() -> None:
    assert pace(DEFAULT_PER_MINUTE) == (1, 9)
    for per_minute in range(2, 700):
        window_s, allowed = pace(per_minute)
        assert allowed >= 1
        # The most windows any 60 s touch, each filled to what it allows.
        assert allowed * (math.ceil(60 / window_s) + 1) <= per_minute
    assert pace(60) > (1, 0) and pace(60)[1] * 60 / pace(60)[0] >= 50  # a low limit is not wasted


@dataclass
class Carrier:
    """A carrier whose orders never reach a final status: every poll asks again."""

    polled: list[str] = field(default_factory=list)

    async def follow(self, carrier_ref: str) -> OrderState:
        self.polled.append(carrier_ref)
        return OrderState(OrderStatus.BOOKED, carrier_ref)


class Shipments:
    """The ledger and tracker the poller reads through, over rows the test writes itself."""

    def __init__(self, database: Any, carriers: dict[str, str]) -> None:
        self.database = database
        self.carriers = carriers
        self.ledger = self

    async def get(self, shipment_id: str) -> Any:
        for _ in range(sum(map(ord, shipment_id)) % 5):  # rows come back in an order of their own
            await asyncio.sleep(0)
        return SimpleNamespace(
            id=shipment_id,
            carrier=self.carriers[shipment_id],
            status=ShipmentStatus.BOOKED,
            carrier_ref=shipment_id,
            tracking_status=None,
        )

    async def take(self, shipment_id: str, events: Any, source: str) -> bool:
        return False


async def _open_shipments(database: Any, ids: list[str], carrier: str, due: list[datetime]) -> None:
    now = datetime.now(UTC)
    async with database.write() as conn:
        for shipment_id, at in zip(ids, due, strict=True):
            await conn.execute(
                shipments.insert().values(
                    id=shipment_id, owner="shop", idempotency_key=shipment_id, request_sha256="0" * 64,
                    carrier=carrier, service="137", shop_order_number=shipment_id, status="booked",
                    ship_date=date(2026, 12, 8), price_kopecks=100, document={}, created_at=now, updated_at=now,
                )
            )  # fmt: skip
            await schedule(conn, TRACK, shipment_id, at=at)


@pytest.mark.parametrize("workers", [1, 2])
async def test_more_polls_due_than_the_limit_allows_go_oldest_due_first_and_none_twice_before_all_once(
    records_url: str, workers: int
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    ids = [f"shp_{n:02}" for n in range(12)]
    # Due in a shuffled order of ids, a second apart, all due before the first second is driven.
    due = [start - timedelta(seconds=12 - (n * 5) % 12) for n in range(12)]
    by_due = [i for _, i in sorted(zip(due, ids, strict=True))]
    now = [start + timedelta(milliseconds=500)]
    carrier = Carrier()
    store = MemoryStore()  # the count every worker shares
    held = 0
    async with open_database(records_url) as database:
        await _open_shipments(database, ids, "cdek", due)
        await _open_shipments(database, ["other_1"], "courier", [start - timedelta(seconds=1)])
        runners = []
        for worker in range(workers):
            poller = Poller(
                Shipments(database, {**dict.fromkeys(ids, "cdek"), "other_1": "courier"}),  # type: ignore[arg-type]
                {"cdek": carrier, "courier": carrier},  # type: ignore[dict-item]
                store,
                every_s=2.0,  # due again long before a round of twelve at three a second ends
                per_minute={"cdek": 3 * 61},
                clock=lambda: now[0].timestamp(),
            )

            async def run(job: Job, poller: Poller = poller) -> Outcome:
                nonlocal held
                outcome = await poller.run(job)
                held += isinstance(outcome, Hold)
                return outcome

            queue = JobQueue(database, worker=f"w{worker}", clock=lambda: now[0])
            runners.append(JobRunner(queue, {TRACK: run}, concurrency=5))  # more claimed at once than allowed
        seconds: list[list[str]] = []
        for _ in range(10):
            before = len(carrier.polled)
            await asyncio.gather(*(runner.drain() for runner in runners))
            seconds.append(carrier.polled[before:])
            now[0] += timedelta(seconds=1)

    due_now = dict(zip(ids, due, strict=True))
    polled_due: list[datetime] = []
    for n, second in enumerate(seconds):
        at = start + timedelta(seconds=n, milliseconds=500)
        for ref in (r for r in second if r != "other_1"):
            polled_due.append(due_now[ref])
            due_now[ref] = at + timedelta(seconds=2)
    assert polled_due == sorted(polled_due)  # oldest due first, throughout
    cdek = [ref for ref in carrier.polled if ref != "other_1"]
    assert cdek[:12] == by_due and sorted(cdek[12:24]) == ids  # each once before any twice
    assert all(len([r for r in second if r != "other_1"]) == 3 for second in seconds)  # the limit, and all of it
    assert carrier.polled.count("other_1") == 5  # another carrier's polls are not kept waiting behind
    # A refusal stops a worker claiming the carrier's polls until the next second: of the five it
    # claimed at once, at most three go and the rest are held; the others due wait unclaimed.
    assert held <= 10 * (5 * workers - 3)


async def test_the_shipper_paces_a_carriers_polls_to_the_limit_in_its_carriers_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDEK_CLIENT_ID", "id-value")
    monkeypatch.setenv("CDEK_CLIENT_SECRET", "secret-value")
    config = tmp_path / "carriers.toml"
    config.write_text(
        '[[carriers]]\nkind = "cdek"\nclient_id_env = "CDEK_CLIENT_ID"\nclient_secret_env = "CDEK_CLIENT_SECRET"\n'
        "polls_per_minute = 122\n"
    )
    settings = Settings(config_path=config, state_dir=tmp_path / "state", tracking_poll_s=60)
    async with open_engine(settings) as wired:
        shipper = shipper_for(wired, settings, lambda _: None)
        poller = shipper.runner.handlers[TRACK].__self__  # type: ignore[attr-defined]
        second = int(time.time()) + 1
        poller._clock = lambda: second + 0.5
        allowed = [await poller._allowed("cdek") for _ in range(3)]

    assert allowed == [None, None, 0.5]  # 122 a minute: two a second
