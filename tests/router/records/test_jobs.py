from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from router.records import open_database
from router.records.jobs import Done, Fail, Hold, Job, JobQueue, JobRunner, Lane, Later, Retry, schedule
from router.records.tables import jobs


async def test_workers_claiming_together_never_take_the_same_job(records_url: str) -> None:
    async with open_database(records_url) as database:
        async with database.write() as conn:
            for n in range(60):
                await schedule(conn, "book", f"shp_{n}")
        queues = [JobQueue(database, worker=f"w{n}") for n in range(4)]

        async def claim_all(queue: JobQueue) -> list[str]:
            taken: list[str] = []
            while claimed := await queue.claim(5):
                taken += [job.subject for job in claimed]
            return taken

        taken = await asyncio.gather(*(claim_all(q) for q in queues))

    every = [subject for worker in taken for subject in worker]
    assert sorted(every) == sorted(f"shp_{n}" for n in range(60))
    assert sum(1 for worker in taken if worker) >= 2  # shared, not one worker taking all


async def test_a_job_whose_lease_ran_out_is_claimed_again_and_the_first_holder_cannot_settle_it(
    records_url: str,
) -> None:
    async with open_database(records_url) as database:
        async with database.write() as conn:
            await schedule(conn, "book", "shp_1")
        # Started once the job is scheduled: opening a database may take seconds on a busy machine.
        now = [datetime.now(UTC) + timedelta(seconds=1)]
        first = JobQueue(database, worker="killed", lease_s=10, clock=lambda: now[0])
        second = JobQueue(database, worker="alive", lease_s=10, clock=lambda: now[0])
        (held,) = await first.claim()
        assert await second.claim() == []  # held

        now[0] += timedelta(seconds=11)
        (again,) = await second.claim()

        assert again.subject == "shp_1" and again.attempts == 2
        assert not await first.settle(held, Done())  # fenced: the newer claim wins
        assert await second.settle(again, Done())
        assert await first.state("book", "shp_1") == ("done", 2, None)


async def test_a_job_that_keeps_failing_backs_off_then_ends_failed_with_its_cause(records_url: str) -> None:
    async with open_database(records_url) as database:
        async with database.write() as conn:
            await schedule(conn, "label", "shp_1")
        now = [datetime.now(UTC) + timedelta(seconds=1)]  # once the job is scheduled
        queue = JobQueue(database, worker="w", max_attempts=3, clock=lambda: now[0])
        for attempt, pause_s in ((1, 1.0), (2, 2.0)):
            (job,) = await queue.claim()
            assert job.attempts == attempt
            await queue.settle(job, Retry(f"carrier down ({attempt})"))
            now[0] += timedelta(seconds=pause_s * 0.75)  # the backoff is the pause, give or take a fifth
            assert await queue.claim() == []
            now[0] += timedelta(seconds=pause_s * 0.5)
        (job,) = await queue.claim()
        await queue.settle(job, Retry("carrier down (3)"))

        assert await queue.state("label", "shp_1") == ("failed", 3, "carrier down (3)")
        now[0] += timedelta(days=1)
        assert await queue.claim() == []


async def test_later_is_no_failure_and_starts_the_attempts_over(records_url: str) -> None:
    async with open_database(records_url) as database:
        async with database.write() as conn:
            await schedule(conn, "book", "shp_1")
        queue = JobQueue(database, worker="w", max_attempts=1)
        (job,) = await queue.claim()
        await queue.settle(job, Later(0))
        (job,) = await queue.claim()
        assert job.attempts == 1
        await queue.settle(job, Fail("refused"))
        assert await queue.state("book", "shp_1") == ("failed", 1, "refused")


async def test_a_job_scheduled_in_a_transaction_that_rolls_back_does_not_exist(records_url: str) -> None:
    async with open_database(records_url) as database:
        with pytest.raises(RuntimeError):
            async with database.write() as conn:
                await schedule(conn, "book", "shp_1")
                raise RuntimeError("the shipment was not written")
        assert await JobQueue(database).state("book", "shp_1") is None


async def test_the_runner_turns_a_handler_that_raises_into_a_retry_with_its_error(records_url: str) -> None:
    seen: list[Job] = []

    async def handler(job: Job) -> Done:
        seen.append(job)
        if len(seen) == 1:
            raise ValueError("a bug")
        return Done()

    async with open_database(records_url) as database:
        async with database.write() as conn:
            await schedule(conn, "book", "shp_1")
        runner = JobRunner(JobQueue(database, worker="w"), {"book": handler})
        await runner.drain()
        state = await runner.queue.state("book", "shp_1")

    assert len(seen) == 1
    assert state == ("ready", 1, "ValueError: a bug")


async def test_work_scheduled_while_a_job_runs_runs_after_it_and_never_beside_it(records_url: str) -> None:
    async with open_database(records_url) as database:
        async with database.write() as conn:
            await schedule(conn, "webhook", "whk_1/shp_1")
        queue = JobQueue(database, worker="w")
        (running,) = await queue.claim()
        async with database.write() as conn:
            await schedule(conn, "webhook", "whk_1/shp_1")  # a new event while it delivers

        assert await JobQueue(database, worker="other").claim() == []  # still held: not run twice at once
        assert await queue.settle(running, Done())
        (again,) = await queue.claim()
        assert again.subject == "whk_1/shp_1"
        assert await queue.settle(again, Done())
        state = await queue.state("webhook", "whk_1/shp_1")
        assert state is not None and state[0] == "done"


async def test_jobs_are_claimed_oldest_due_first_and_a_held_one_keeps_its_place_without_counting_an_attempt(
    records_url: str,
) -> None:
    start = datetime.now(UTC)
    now = [start + timedelta(seconds=1)]
    async with open_database(records_url) as database:
        async with database.write() as conn:
            for n, due_s in ((3, -1), (1, -3), (2, -2)):
                await schedule(conn, "track", f"shp_{n}", at=start + timedelta(seconds=due_s))
        queue = JobQueue(database, worker="w", clock=lambda: now[0])

        first = await queue.claim(2)
        assert [job.subject for job in first] == ["shp_1", "shp_2"]
        assert await queue.settle(first[0], Hold(0.5))  # a limit spent: its turn comes again
        assert await queue.settle(first[1], Later(60))
        assert [job.subject for job in await queue.claim(1)] == ["shp_3"]  # the held one nobody claims
        now[0] += timedelta(seconds=1)
        (again,) = await queue.claim(1)

    assert again.subject == "shp_1" and again.attempts == 1  # first in line still; the hold counted none


async def test_a_worker_skips_a_held_lane_and_leaves_other_work_its_turn(records_url: str) -> None:
    async with open_database(records_url) as database:
        async with database.write() as conn:
            for n in range(4):
                await schedule(conn, "track", f"busy-{n}", at=datetime.now(UTC) - timedelta(seconds=10 - n))
            await schedule(conn, "track", "quiet-1", at=datetime.now(UTC) - timedelta(seconds=1))
            await schedule(conn, "book", "busy-9")  # another kind: its jobs are no part of the lane
        busy = Lane("busy", sa.select(jobs.c.subject).where(jobs.c.subject.like("busy-%")))
        seen: list[str] = []

        async def track(job: Job) -> Hold | Done:
            seen.append(job.subject)
            return Hold(30, busy) if job.subject.startswith("busy-") else Done()

        async def book(job: Job) -> Done:
            seen.append(job.subject)
            return Done()

        runner = JobRunner(JobQueue(database, worker="w"), {"track": track, "book": book}, concurrency=1)
        await runner.drain()
        held = await runner.queue.state("track", "busy-1")

    assert seen == ["busy-0", "quiet-1", "busy-9"]  # one refusal, then none of the lane claimed
    assert held == ("ready", 0, None)
