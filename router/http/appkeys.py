"""Typed application keys: every resource the app holds, declared in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from router.core.settings import Settings
    from router.history.track_record import TrackRecord
    from router.http.handlers.pickup_points import LivePoints
    from router.http.metrics import Metrics
    from router.integrations.retailcrm.accounts import AccountBook
    from router.quoting.book import QuoteBook
    from router.quoting.engine import QuoteEngine
    from router.quoting.places import Places
    from router.records import Database
    from router.records.keys import KeyRing
    from router.shipping.shipper import Shipper
    from router.store import Store
    from router.store.rate_limit import RateLimiter
    from router.syncing import Syncer
    from router.tracking.tracker import Tracker
    from router.webhooks.sender import Sender

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
STORE: web.AppKey[Store] = web.AppKey("store")
HTTP: web.AppKey[aiohttp.ClientSession] = web.AppKey("http")
PLACES: web.AppKey[Places] = web.AppKey("places")
ENGINE: web.AppKey[QuoteEngine] = web.AppKey("engine")
QUOTES: web.AppKey[QuoteBook] = web.AppKey("quotes")
PICKUP_POINTS: web.AppKey[LivePoints] = web.AppKey("pickup_points")
POINT_SYNC: web.AppKey[Syncer] = web.AppKey("point_sync")  # the CDEK carriers' networks, synced from their APIs
KEYRING: web.AppKey[KeyRing] = web.AppKey("keyring")
RECORDS: web.AppKey[Database] = web.AppKey("records")
RATE_LIMITER: web.AppKey[RateLimiter] = web.AppKey("rate_limiter")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
RETAILCRM_ACCOUNTS: web.AppKey[AccountBook] = web.AppKey("retailcrm_accounts")
TRACK_RECORD: web.AppKey[TrackRecord] = web.AppKey("track_record")
SHIPPER: web.AppKey[Shipper] = web.AppKey("shipper")
WEBHOOKS: web.AppKey[Sender] = web.AppKey("webhooks")
TRACKER: web.AppKey[Tracker] = web.AppKey("tracker")
# (method, route) of every endpoint that reads a body: the media types it reads.
BODY_TYPES: web.AppKey[dict[tuple[str, str], frozenset[str]]] = web.AppKey("body_types")
