"""Background work kept in the records, shared by every worker on every machine.

A job is a kind and a subject (`book`, a shipment id): at most one of each, scheduled in the
same transaction as the change that calls for it, so a crash between the two loses nothing.
Workers claim jobs whose time has come with a lease: on PostgreSQL `FOR UPDATE SKIP LOCKED`,
so claimers never wait on each other nor take the same job; on SQLite every write transaction
holds the file's lock (`BEGIN IMMEDIATE`), which serialises claims the same way. A worker that
dies holding a job loses only its lease: when it runs out, the job is claimed again.

Each claim counts an attempt and is fenced by it: a worker whose lease ran out and whose job was
claimed again cannot finish or reschedule it over the newer claim.

Jobs are claimed oldest due first. A job whose turn came but that must wait for a limit (a
carrier's polls per second) is held rather than put back: it keeps its due time, and so its place
at the head of the line, and nobody claims it until the hold ends. Its lane (the jobs that meet
the same limit) is left alone by the worker until then, so the worker neither claims jobs only to
give them back nor keeps other work waiting behind them.

    queue = JobQueue(database, worker="host-1234")
    runner = JobRunner(queue, {"book": booker.run})   # handlers answer Done, Later, Retry or Fail
    runner.start(); ...; await runner.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from router.records.database import Database
from router.records.errors import RecordsUnavailable
from router.records.tables import jobs

log = logging.getLogger(__name__)

READY, DONE, FAILED = "ready", "done", "failed"


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[:64]


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    subject: str
    attempts: int  # counting this claim
    last_error: str | None = None
    version: int = 0  # as claimed; moved on when the job is scheduled again while it runs
    due: datetime | None = None  # when its time came: its place in line


@dataclass(frozen=True, slots=True)
class Done:
    """Nothing more to do."""


@dataclass(frozen=True, slots=True)
class Later:
    """Not a failure: ask again after a while (a carrier still deciding); attempts start over."""

    after_s: float


@dataclass(frozen=True, slots=True)
class Lane:
    """The jobs of one kind that meet the same limit: `subjects` selects their subjects."""

    name: str
    subjects: sa.Select[tuple[str]] = field(compare=False)


@dataclass(frozen=True, slots=True)
class Hold:
    """Its time came but a limit is spent for now: not run, it keeps its due time (its place in
    line), nobody claims it for `for_s` seconds, and the claim counts no attempt. With a `lane`,
    this worker claims none of the lane's jobs for as long."""

    for_s: float
    lane: Lane | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """It failed in a way that may pass; try again after the backoff, until attempts run out."""

    error: str


@dataclass(frozen=True, slots=True)
class Fail:
    """It failed for good; the job ends visible with its cause."""

    error: str


Outcome = Done | Later | Hold | Retry | Fail
Handler = Callable[[Job], Awaitable[Outcome]]


def backoff_s(attempts: int, base_s: float = 1.0, cap_s: float = 300.0) -> float:
    """Exponential, with jitter so that jobs failing together do not return together."""
    return float(min(cap_s, base_s * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


async def schedule(conn: AsyncConnection, kind: str, subject: str, *, at: datetime | None = None) -> None:
    """Make the job ready to run at `at` (now by default), inside the caller's transaction.

    A job running right now keeps its lease: it is marked to run again once it settles (its
    version moves on), so work asked for while it ran is never lost nor run twice at once."""
    now = datetime.now(UTC)
    when = at or now
    idle = sa.or_(jobs.c.leased_until.is_(None), jobs.c.leased_until < now)
    changed = await conn.execute(
        jobs.update()
        .where(jobs.c.kind == kind, jobs.c.subject == subject)
        .values(
            state=READY,
            run_at=when,
            version=jobs.c.version + 1,
            attempts=sa.case((idle, 0), else_=jobs.c.attempts),
            last_error=None,
            updated_at=now,
        )
    )
    if changed.rowcount == 0:
        await conn.execute(
            jobs.insert().values(
                kind=kind,
                subject=subject,
                state=READY,
                run_at=when,
                attempts=0,
                version=0,
                created_at=now,
                updated_at=now,
            )
        )


class JobQueue:
    """Claims and settles jobs for one worker."""

    def __init__(
        self,
        database: Database,
        *,
        worker: str | None = None,
        lease_s: float = 30.0,
        max_attempts: int = 8,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.worker = worker or worker_name()
        self.lease = timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    async def claim(
        self,
        limit: int = 8,
        *,
        kinds: Collection[str] | None = None,
        subject: str | None = None,
        skip: Collection[tuple[str, Lane]] = (),
    ) -> list[Job]:
        """Up to `limit` jobs whose time has come and that nobody holds, oldest due first, leased to
        this worker; none of the lanes in `skip` (each with its jobs' kind)."""
        now = self._clock()
        due = (
            sa.select(jobs.c.id)
            .where(
                jobs.c.state == READY,
                jobs.c.run_at <= now,
                sa.or_(jobs.c.leased_until.is_(None), jobs.c.leased_until < now),
            )
            .order_by(jobs.c.run_at, jobs.c.id)
            .limit(limit)
        )
        if kinds is not None:
            due = due.where(jobs.c.kind.in_(list(kinds)))
        if subject is not None:
            due = due.where(jobs.c.subject == subject)
        for kind, lane in skip:
            due = due.where(sa.not_(sa.and_(jobs.c.kind == kind, jobs.c.subject.in_(lane.subjects.scalar_subquery()))))
        if self.database.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed = (
            jobs.update()
            .where(jobs.c.id.in_(due.scalar_subquery()))
            .values(leased_until=now + self.lease, leased_by=self.worker, attempts=jobs.c.attempts + 1, updated_at=now)
            .returning(
                jobs.c.id,
                jobs.c.kind,
                jobs.c.subject,
                jobs.c.attempts,
                jobs.c.last_error,
                jobs.c.version,
                jobs.c.run_at,
            )
        )
        async with self.database.write() as conn:
            returned = (await conn.execute(claimed)).all()
        # RETURNING keeps no order: the jobs are handed out as they were chosen, oldest due first.
        rows = sorted(returned, key=lambda row: (row.run_at, row.id))
        return [
            Job(row.id, row.kind, row.subject, row.attempts, row.last_error, row.version, row.run_at) for row in rows
        ]

    async def settle(self, job: Job, outcome: Outcome) -> bool:
        """Record what came of `job`; False when this worker no longer held it (its lease ran out).

        Work scheduled while the job ran (its version moved on) makes it ready again at once,
        whatever this run's outcome."""
        now = self._clock()
        values: dict[str, object] = {"leased_until": None, "leased_by": None, "updated_at": now}
        state, run_at = READY, None
        if isinstance(outcome, Done):
            state = DONE
        elif isinstance(outcome, Later):
            run_at = now + timedelta(seconds=outcome.after_s)
            values["attempts"] = 0
        elif isinstance(outcome, Hold):
            values["attempts"] = jobs.c.attempts - 1
            values["leased_until"] = sa.case((jobs.c.version == job.version, now + timedelta(seconds=outcome.for_s)))
        elif isinstance(outcome, Retry) and job.attempts < self.max_attempts:
            run_at = now + timedelta(seconds=backoff_s(job.attempts))
        else:
            state = FAILED
        if isinstance(outcome, Retry | Fail):
            values["last_error"] = outcome.error
        elif isinstance(outcome, Done):
            values["last_error"] = None
        unchanged = jobs.c.version == job.version
        values["state"] = sa.case((unchanged, state), else_=READY)
        if run_at is not None:
            values["run_at"] = sa.case((unchanged, run_at), else_=now)
        else:
            values["run_at"] = sa.case((unchanged, jobs.c.run_at), else_=now)
        fenced = jobs.update().where(
            jobs.c.id == job.id, jobs.c.leased_by == self.worker, jobs.c.attempts == job.attempts
        )
        async with self.database.write() as conn:
            return (await conn.execute(fenced.values(values))).rowcount == 1

    async def state(self, kind: str, subject: str) -> tuple[str, int, str | None] | None:
        """(state, attempts, last error) of a job, or None if there is none."""
        query = sa.select(jobs.c.state, jobs.c.attempts, jobs.c.last_error).where(
            jobs.c.kind == kind, jobs.c.subject == subject
        )
        async with self.database.read() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.state, row.attempts, row.last_error)


class JobRunner:
    """Claims due jobs in a loop and runs them with their kind's handler, a few at a time.

    `run(kind, subject)` runs one job now if nobody holds it (a request that just scheduled its
    own booking need not wait for the next poll). A handler that raises is a `Retry` with the
    error's text: the job is never lost to a bug, and ends `failed` when attempts run out. A
    `Hold` with a lane keeps the lane's jobs out of this worker's claims until the hold ends.
    """

    def __init__(
        self, queue: JobQueue, handlers: Mapping[str, Handler], *, poll_s: float = 0.5, concurrency: int = 8
    ) -> None:
        self.queue = queue
        self.handlers = dict(handlers)
        self.poll_s = poll_s
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._held: dict[tuple[str, str], tuple[datetime, tuple[str, Lane]]] = {}  # until when, by kind and lane

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="jobs")

    def kick(self) -> None:
        """Look for due jobs now rather than at the next poll."""
        self._wake.set()

    async def run(self, kind: str, subject: str) -> bool:
        """Claim and run this one job in the background; False if it was not due or someone holds it."""
        claimed = await self.queue.claim(1, kinds=(kind,), subject=subject)
        for job in claimed:
            self._spawn(job)
        return bool(claimed)

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def drain(self) -> None:
        """Run every due job, and those they schedule to run at once, until none is due (tests, CLI)."""
        while True:
            claimed = await self._claim(self._concurrency)
            if not claimed:
                if not self._running:
                    return
                await asyncio.gather(*list(self._running), return_exceptions=True)
                continue
            for job in claimed:
                self._spawn(job)
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            free = self._concurrency - len(self._running)
            claimed: list[Job] = []
            if free > 0:
                try:
                    claimed = await self._claim(free)
                except RecordsUnavailable as exc:
                    log.warning("jobs: records unavailable (%s); trying again", exc.__cause__ or exc)
            for job in claimed:
                self._spawn(job)
            if len(claimed) < free or free <= 0:  # nothing more is due, or no room: wait for either to change
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._pause_s()):
                        await self._wake.wait()
                self._wake.clear()

    async def _claim(self, limit: int) -> list[Job]:
        now = self.queue.now()
        for key, (until, _) in list(self._held.items()):
            if until <= now:
                del self._held[key]
        return await self.queue.claim(limit, kinds=self.handlers, skip=[lane for _, lane in self._held.values()])

    def _pause_s(self) -> float:
        """Until the next look for due jobs: the poll, or sooner when a held lane opens again."""
        pause_s = self.poll_s * random.uniform(0.8, 1.2)
        if self._held:
            opens = min(until for until, _ in self._held.values())
            pause_s = min(pause_s, max(0.0, (opens - self.queue.now()).total_seconds()) + 0.001)
        return pause_s

    def _spawn(self, job: Job) -> None:
        task = asyncio.create_task(self._run(job), name=f"job {job.kind} {job.subject}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, job: Job) -> None:
        async with self._slots:
            try:
                outcome = await self.handlers[job.kind](job)
            except asyncio.CancelledError:
                raise  # the lease runs out and another worker takes it
            except RecordsUnavailable as exc:
                log.warning("job %s %s: records unavailable: %s", job.kind, job.subject, exc.__cause__ or exc)
                return  # nothing can be written; the lease runs out and the job is claimed again
            except Exception as exc:
                log.exception("job %s %s failed", job.kind, job.subject)
                outcome = Retry(f"{type(exc).__name__}: {exc}")
            if isinstance(outcome, Hold) and outcome.lane is not None:
                until = self.queue.now() + timedelta(seconds=outcome.for_s)
                self._held[(job.kind, outcome.lane.name)] = (until, (job.kind, outcome.lane))
            try:
                if not await self.queue.settle(job, outcome):
                    log.warning("job %s %s: lease lost before it was settled", job.kind, job.subject)
            except RecordsUnavailable:
                log.warning("job %s %s: could not be settled; it will run again", job.kind, job.subject)
            self.kick()  # a slot is free, and a job may have scheduled another
