"""Knowing, without asking the database, that records may have changed since a moment.

Hot paths (the API key of every request) keep what they read in memory and ask again only
when some process may have changed it. On SQLite that is the write-ahead log's shared index,
whose header counts every commit by any process on the machine (`iChange`), read with the
database and log files' sizes and times: a few system calls, microseconds. On PostgreSQL writers `NOTIFY` a channel inside their
transaction, delivered on commit, and each process `LISTEN`s on a connection of its own; while
that connection is down nothing is known, so nothing is cached.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Hashable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("carrier_router.records")

CHANNEL = "carrier_router_records"
_RECONNECT_S = 1.0


class ChangeWatch:
    """`token()`: a value that differs whenever a change may have been committed since it was
    last read, or None when that cannot be known (then read the database)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect.name
        database = engine.url.database
        self._files: tuple[Path, ...] = ()
        if self.dialect == "sqlite" and database and database != ":memory:":
            main = Path(database)
            self._files = (main, main.with_name(main.name + "-wal"), main.with_name(main.name + "-shm"))
        self._url = engine.url.set(drivername="postgresql")
        self._heard = 0
        self._listening = False
        self._task: asyncio.Task[None] | None = None

    def token(self) -> Hashable | None:
        if self._files:
            return (*(_stamp(f) for f in self._files), _wal_index_header(self._files[2]))
        return self._heard if self._listening else None

    async def notify(self, conn: AsyncConnection) -> None:
        """Tell every listening process, when this transaction commits, that records changed."""
        if self.dialect == "postgresql":
            await conn.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    def start(self) -> None:
        """Listen for other processes' changes (PostgreSQL; nothing to start for SQLite)."""
        if self.dialect == "postgresql" and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="records-changes")

    async def listening(self, within_s: float = 5.0) -> bool:
        """Start, and wait until changes can be known (PostgreSQL's listener connected)."""
        self.start()
        stop = asyncio.get_running_loop().time() + within_s
        while self.token() is None and asyncio.get_running_loop().time() < stop:
            await asyncio.sleep(0.01)
        return self.token() is not None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._listening = False

    async def _listen(self) -> None:
        import asyncpg

        dsn = self._url.render_as_string(hide_password=False)
        while True:
            try:
                conn = await asyncpg.connect(dsn, timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                log.warning("records: cannot listen for changes (%s); reading keys on every request", exc)
                await asyncio.sleep(_RECONNECT_S)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
            try:
                await conn.add_listener(CHANNEL, self._heard_one)
                # What changed while nobody listened is unknown: everything read before is stale.
                self._heard += 1
                self._listening = True
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("records: the change listener stopped (%s)", exc)
            finally:
                self._listening = False
                self._heard += 1
                if not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(_RECONNECT_S)

    def _heard_one(self, *_args: object) -> None:
        self._heard += 1


def _wal_index_header(shm: Path) -> bytes:
    # SQLite's WalIndexHdr: version, unused, iChange (one more each commit), flags, page size,
    # mxFrame, page count, checksums, salts: 48 bytes that differ after any commit.
    try:
        fd = os.open(shm, os.O_RDONLY)
    except FileNotFoundError:
        return b""
    try:
        return os.pread(fd, 48, 0)
    finally:
        os.close(fd)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_size)
