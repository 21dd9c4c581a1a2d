"""Opening the records database, upgrading its schema, and one transaction at a time.

SQLite is opened in WAL mode, so readers never wait for a writer, and every write transaction
starts with `BEGIN IMMEDIATE`: two processes changing keys at once queue on the file's lock
instead of one failing halfway with "database is locked". PostgreSQL needs neither; its
schema upgrades hold an advisory lock so that workers starting together migrate once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from router.core.settings import Settings
from router.records.changes import ChangeWatch
from router.records.errors import RecordsError, RecordsUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_FILE = "records.sqlite3"
# Any constant the service owns: PostgreSQL's advisory locks are one namespace per database.
_MIGRATION_LOCK = 0x63_72_5F_64_62  # "cr_db"
_SQLITE_BUSY_MS = 15_000

# What a restart, a cut connection or a full pool look like from here: the caller may retry.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


# admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, and 55000: what a
# database closed to connections (ALLOW_CONNECTIONS false, as during maintenance) answers.
_SERVER_AWAY = frozenset({"57P01", "57P02", "57P03", "53300", "55000"})


def records_url(settings: Settings) -> str:
    """`DATABASE_URL` when set, else a SQLite file in the state directory."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.state_dir / SQLITE_FILE}"


def async_url(url: str) -> sa.URL:
    """The URL with the asyncio driver this service uses (asyncpg, aiosqlite) put in."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise RecordsError(f"DATABASE_URL is not a database URL: {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise RecordsError(f"records are kept in PostgreSQL or SQLite, not {backend!r}")


class Database:
    """The records database: `read()` and `write()` give a connection inside one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # Same pool; only how a transaction begins differs (see the module's docstring).
        self._writer = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self.changes = ChangeWatch(engine)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with _available(), self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        async with _available(), self._writer.begin() as conn:
            yield conn

    async def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision`, once however many processes start together."""
        if revision == "head" and await self.revision() == head_revision():
            return  # the common start: nothing to do, and no write lock for others to wait on
        async with self.write() as conn:
            if self.dialect == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            await conn.run_sync(_alembic, command.upgrade, revision)

    async def downgrade(self, revision: str) -> None:
        async with self.write() as conn:
            await conn.run_sync(_alembic, command.downgrade, revision)

    async def revision(self) -> str | None:
        """The schema's revision; None for an empty database."""
        async with self.read() as conn:
            return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())

    async def close(self) -> None:
        await self.changes.close()
        await self.engine.dispose()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the package ships its migrations"
    return head


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _alembic(connection: sa.Connection, step: Callable[[Config, str], None], revision: str) -> None:
    step(_config(connection), revision)


@asynccontextmanager
async def _available() -> AsyncIterator[None]:
    try:
        yield
    except sa.exc.IntegrityError:
        raise
    except _UNAVAILABLE as exc:
        raise RecordsUnavailable("the records database is not answering") from exc
    except sa.exc.DBAPIError as exc:
        # asyncpg's errors reach SQLAlchemy unclassified; PostgreSQL's SQLSTATE tells a server
        # going away (class 08, shutdowns, not yet accepting, out of connections) from bad data.
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        if exc.connection_invalidated or sqlstate.startswith("08") or sqlstate in _SERVER_AWAY:
            raise RecordsUnavailable("the records database is not answering") from exc
        raise


def create_engine(url: str, **options: Any) -> AsyncEngine:
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(target, connect_args={"timeout": _SQLITE_BUSY_MS / 1000}, **options)
        _sqlite_transactions(engine)
        return engine
    # pre_ping: a connection PostgreSQL closed while restarting is replaced, not handed out.
    return create_async_engine(target, pool_pre_ping=True, pool_size=5, max_overflow=5, **options)


def _sqlite_transactions(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling begins lazily and never for DDL; take it over, so a
    # transaction is exactly the block it is written as (SQLAlchemy's documented recipe).
    @sa.event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", f"busy_timeout={_SQLITE_BUSY_MS}", "foreign_keys=ON", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


@asynccontextmanager
async def open_database(url: str, *, upgrade: bool = True, **options: Any) -> AsyncIterator[Database]:
    """Open the database at `url` (upgrading its schema unless told not to); closed when the block ends."""
    database = Database(create_engine(url, **options))
    try:
        if upgrade:
            await database.upgrade()
        yield database
    finally:
        await database.close()


@asynccontextmanager
async def open_records(settings: Settings) -> AsyncIterator[Database]:
    """The service's records: upgraded, with any earlier release's files brought in."""
    from router.records.legacy import import_legacy_files

    async with open_database(records_url(settings)) as database:
        await import_legacy_files(database, settings.state_dir)
        yield database
