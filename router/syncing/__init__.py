"""Pickup-point networks kept in step with a carrier's API, by `carrier-router points sync` and on a schedule.

Outside in: the carriers TOML names each CDEK account (`kind = "cdek"`, its credentials' variables);
each one is a `PointSource` whose network takes the carrier's code. A sync pages through the
account's `/v2/deliverypoints` with the CDEK adapter (`carriers.cdek.points`), reads the points
with the importer a CDEK file goes through (so bad records are reported the same way; a point's
region is ISO 3166-2, from CDEK's region name or, where that is no region's, from its
coordinates through the `region_at` lookup the caller gives, the service's places), and saves
them as the network's records in one transaction (`router.records.networks`): a point the carrier
no longer lists is gone with the rest of the old network. Nothing is written unless every page
was read and at least one point could be used; otherwise the network served stays as it was and
the failure is kept in the store for `/healthz`, until a sync succeeds.

A sync holds a lock in the store for as long as it may run (`SYNC_LIMIT_S`), so two workers, or a
worker and the CLI, never read the same network at once. On a schedule every worker asks every
`every_s` seconds whether a sync is due, and the one that sets the due mark first runs it.

    SyncError                the root: what a sync raises to its callers (a RouterError)
    ├── SyncBusy             another process is syncing this network now
    └── SyncFailed           a page could not be read, or none of the points could be used;
                             the previous network is kept
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec

from carriers.cdek import wire
from carriers.cdek.client import DELIVERYPOINTS_PATH, CdekClient
from carriers.cdek.points import Paging, delivery_points
from carriers.config import CdekEntry, load_config
from carriers.errors import CarriersError
from carriers.registry import cdek_client
from pickup_points.importers import ImportResult, RegionAt, ZoneFor, import_cdek
from router.core.errors import RouterError
from router.core.settings import Settings
from router.records import RecordsError
from router.records.networks import NetworkRecord, Networks
from router.store import Store, StoreError

log = logging.getLogger(__name__)

# A sync that has not finished in this long is given up, so its lock can never outlive it.
SYNC_LIMIT_S = 600.0
FAILURE_KEPT_S = 30 * 86400.0
PAGE_SIZE = 1000


class SyncError(RouterError):
    """Root of what a sync raises."""


class SyncBusy(SyncError):
    """Another process holds this network's sync lock."""


class SyncFailed(SyncError):
    """The carrier's points could not all be read or none could be used; nothing was written."""


@dataclass(frozen=True, slots=True)
class PointSource:
    """One CDEK account's delivery points, kept as network `network`."""

    network: str
    carrier: str
    client: CdekClient
    page_size: int = PAGE_SIZE

    @property
    def where(self) -> str:
        return self.client.base_url + DELIVERYPOINTS_PATH


def point_sources(settings: Settings, http: aiohttp.ClientSession | None) -> dict[str, PointSource]:
    """Every CDEK account of the carriers TOML, by carrier code; ConfigError names a wrong field
    (a credential variable that is not set among them)."""
    if settings.config_path is None:
        return {}
    config = load_config(settings.config_path, env=os.environ, sandbox=settings.extra)
    return {
        e.code: PointSource(e.code, e.code, cdek_client(e, http)) for e in config.entries if isinstance(e, CdekEntry)
    }


@dataclass(frozen=True, slots=True)
class SyncReport:
    record: NetworkRecord
    result: ImportResult  # what was read, with the records that could not be used
    codes: tuple[str | None, ...]  # each record's code in the carrier's order, to name a rejected one
    pages: int
    before: int | None  # points the network had, if it was imported before

    def record_name(self, line: int) -> str:
        code = self.codes[line - 1] if 0 < line <= len(self.codes) else None
        return f"record {line}" + (f" ({code})" if code else "")


class Failure(msgspec.Struct, frozen=True):
    at: datetime
    error: str


async def sync_network(
    source: PointSource, networks: Networks, *, zone_for: ZoneFor | None = None, region_at: RegionAt | None = None
) -> SyncReport:
    """Read every page of `source` and replace its network with what could be used, all at once."""
    paging = Paging()
    try:
        items = [
            item
            async for item in delivery_points(source.client, source.carrier, page_size=source.page_size, paging=paging)
        ]
    except CarriersError as exc:
        # The path, not the URL: the failure is shown on /healthz, which anyone may ask.
        raise SyncFailed(f"page {paging.pages + 1} of {DELIVERYPOINTS_PATH}: {exc}") from None
    result = await asyncio.to_thread(_read, items, source, zone_for, region_at)
    if not result.points:
        raise SyncFailed(f"no usable points in {DELIVERYPOINTS_PATH} ({result.rejected} rejected of {len(items)})")
    try:
        before = {n.name: n.point_count for n in await networks.networks()}.get(source.network)
        record = await networks.save(source.network, result.points, source.where)
    except RecordsError as exc:
        raise SyncFailed(f"not saved: {exc}") from None
    codes = tuple(str(item["code"]) if item.get("code") else None for item in items)
    return SyncReport(record, result, codes, paging.pages, before)


def _read(
    items: list[dict[str, Any]], source: PointSource, zone_for: ZoneFor | None, region_at: RegionAt | None
) -> ImportResult:
    zone_for = zone_for or _zones()
    data = wire.encode(items)
    return import_cdek(data, network=source.network, carrier=source.carrier, zone_for=zone_for, region_at=region_at)


@functools.cache
def _zones() -> ZoneFor:
    # Seconds to load, so once per process and in the reading thread, never on the event loop.
    from pickup_points.timezones import TimezoneLookup

    return TimezoneLookup()


class Syncer:
    """The configured sources, synced one at a time per network across processes through the store."""

    def __init__(
        self,
        sources: Mapping[str, PointSource],
        networks: Networks,
        store: Store,
        *,
        on_saved: Callable[[], Awaitable[object]] | None = None,
        region_at: RegionAt | None = None,
    ) -> None:
        self.sources = dict(sources)
        self.networks = networks
        self.store = store
        self.on_saved = on_saved
        self.region_at = region_at

    async def sync(self, carrier: str) -> SyncReport:
        """Sync `carrier`'s network now; SyncBusy if another process is at it, SyncFailed if it failed."""
        source = self.sources[carrier]
        lock, token = _key(source.network, "running"), secrets.token_hex(8).encode()
        if not await self.store.add(lock, token, SYNC_LIMIT_S):
            raise SyncBusy(f"{source.network} is being synced by another process")
        try:
            try:
                report = await self._sync_within(source, SYNC_LIMIT_S * 0.9)
            except SyncFailed as exc:
                await self._keep_failure(source.network, str(exc))
                raise
            await self._forget_failure(source.network)
        finally:
            # Ours alone: the timeout above ends the sync well before the lock could expire.
            if await self.store.get(lock) == token:
                await self.store.delete(lock)
        if self.on_saved is not None:
            await self.on_saved()
        return report

    async def _sync_within(self, source: PointSource, limit_s: float) -> SyncReport:
        try:
            async with asyncio.timeout(limit_s):
                return await sync_network(source, self.networks, region_at=self.region_at)
        except TimeoutError:
            raise SyncFailed(f"{DELIVERYPOINTS_PATH} not read within {limit_s:g} s") from None

    async def failure(self, network: str) -> Failure | None:
        """The last sync's failure, if no sync has succeeded since."""
        try:
            raw = await self.store.get(_key(network, "failed"))
        except StoreError:
            return None
        return None if raw is None else msgspec.json.decode(raw, type=Failure)

    async def sync_due(self, every_s: float) -> None:
        """Sync each network no process has synced within `every_s`; failures are logged and kept."""
        for carrier, source in self.sources.items():
            try:
                if not await self.store.add(_key(source.network, "due"), b"1", every_s):
                    continue
                report = await self.sync(carrier)
            except SyncBusy:
                continue
            except (SyncError, StoreError) as exc:
                log.warning("pickup points of %s not synced: %s", source.network, exc)
                continue
            log.info(
                "pickup points of %s synced: %d points, %d rejected",
                source.network,
                len(report.result.points),
                report.result.rejected,
            )

    async def run(self, every_s: float) -> None:
        """Sync what is due, then ask again, for as long as the task runs."""
        while True:
            try:
                await self.sync_due(every_s)
            except Exception:
                # A schedule that died would leave the network unsynced without a word.
                log.exception("pickup points not synced")
            await asyncio.sleep(min(every_s, 60.0))

    async def _keep_failure(self, network: str, error: str) -> None:
        failure = Failure(datetime.now(UTC), error)
        try:
            await self.store.set(_key(network, "failed"), msgspec.json.encode(failure), FAILURE_KEPT_S)
        except StoreError as exc:
            log.warning("sync failure of %s not kept: %s", network, exc)

    async def _forget_failure(self, network: str) -> None:
        try:
            await self.store.delete(_key(network, "failed"))
        except StoreError as exc:
            log.warning("sync failure of %s not cleared: %s", network, exc)


def _key(network: str, what: str) -> str:
    return f"points-sync:{network}:{what}"
