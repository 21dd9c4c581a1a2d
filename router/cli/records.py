"""Opening the records database for one command, the same way for every command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import sqlalchemy as sa

from router.core.settings import Settings
from router.records import Database, RecordsUnavailable, open_records, records_url

T = TypeVar("T")


def where(settings: Settings) -> str:
    """The records' address as a person may see it: no password."""
    return sa.make_url(records_url(settings)).render_as_string(hide_password=True)


def with_records(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the records (upgrading their schema), do `work`, close them.

    A database that does not answer is one line naming where it was looked for, not a traceback."""

    async def go() -> T:
        async with open_records(settings) as records:
            return await work(records)

    try:
        return asyncio.run(go())
    except RecordsUnavailable as exc:
        raise click.ClickException(f"{exc} ({where(settings)}); nothing changed") from None
