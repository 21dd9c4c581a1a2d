"""`/v1/pickup-points`: nearest points with distance (and price), map views, one point by id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from multidict import MultiMapping

from pickup_points.filters import PointFilter
from pickup_points.index import BBox
from pickup_points.model import Feature, PointType
from pickup_points.pricing import QuoteFor
from pickup_points.render import map_answer, nearest_answer, point_answer
from pickup_points.search import PickupDirectory
from router.core.calendar import PLAUSIBLE_DAYS, plausible_moment
from router.core.errors import ConfigError, FieldError, InvalidRequest
from router.core.models import DeliveryType, Location, Offer, Parcel, Place, Policy, Shipment
from router.http import appkeys as keys
from router.http.handlers.answering import json_answer
from router.http.middlewares.problems import problem
from router.http.schemas.decode import convert
from router.http.schemas.wire import PickupPointQuery
from router.quoting.engine import QuoteEngine
from router.records import RecordsUnavailable
from router.records.networks import Marks, Networks, served_points
from router.syncing import Syncer, point_sources

log = logging.getLogger(__name__)

KNOWN = frozenset(PickupPointQuery.__struct_fields__)
LISTED = frozenset({"network", "type", "features"})  # may be repeated: the values add up
_LAT_LON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


class LivePoints:
    """The directory the API answers from, replaced whole when the imported networks change.

    A request reads `directory` once and keeps that one; a reload builds the next directory
    beside it and swaps the reference, so no request sees a directory half built.
    """

    def __init__(self, directory: PickupDirectory, marks: Marks | None = None) -> None:
        self.directory = directory
        self.marks: Marks = marks or {}
        # The follower and a sync's own reload take turns: one that read the records before a
        # sync saved must not swap its older directory in after the sync's newer one.
        self.reloading = asyncio.Lock()


async def load_live_points(bundled: Path, networks: Networks) -> LivePoints:
    served = await served_points(bundled, networks)
    for skipped in served.skipped:
        log.warning("pickup point skipped: %s", skipped)
    directory = await asyncio.to_thread(PickupDirectory.build, served.points)
    log.info("pickup points: %d points at %d sites", len(directory), len(directory.sites))
    return LivePoints(directory, served.marks)


async def reload_points(live: LivePoints, bundled: Path, networks: Networks) -> bool:
    """Rebuild `live` if a network was imported or removed since it was built; whether it was."""
    async with live.reloading:
        if await networks.marks() == live.marks:
            return False
        fresh = await load_live_points(bundled, networks)
        live.directory, live.marks = fresh.directory, fresh.marks
        return True


async def _follow_imports(live: LivePoints, bundled: Path, networks: Networks, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await reload_points(live, bundled, networks)
        except (RecordsUnavailable, ConfigError) as exc:
            # The points already loaded keep being served; the next round tries again.
            log.warning("pickup points not reloaded: %s", exc)
        except Exception:
            # A follower that died would leave the worker serving old points without a word.
            log.exception("pickup points not reloaded")


async def pickup_points(app: web.Application) -> AsyncIterator[None]:
    """Load the bundled networks and those imported into the records; follow later imports, sync
    the CDEK carriers' networks when that is on, and serve a network this worker synced at once."""
    settings = app[keys.SETTINGS]
    bundled = settings.data_dir / "pickup_points"
    networks = Networks(app[keys.RECORDS])
    live = app[keys.PICKUP_POINTS] = await load_live_points(bundled, networks)
    syncer = app[keys.POINT_SYNC] = Syncer(
        point_sources(settings, app[keys.HTTP]),
        networks,
        app[keys.STORE],
        on_saved=lambda: reload_points(live, bundled, networks),
        region_at=app[keys.PLACES].region_at,
    )
    tasks = []
    if settings.points_reload_s > 0:
        tasks.append(asyncio.create_task(_follow_imports(live, bundled, networks, settings.points_reload_s)))
    if settings.points_sync_s > 0 and syncer.sources:
        tasks.append(asyncio.create_task(syncer.run(settings.points_sync_s)))
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(frozen=True, slots=True)
class _Query:
    where: PointFilter
    lat: float | None
    lon: float | None
    limit: int
    radius_km: float | None
    bbox: BBox | None
    zoom: int
    parcel: Parcel | None
    origin: Location | None


async def list_points(request: web.Request) -> web.Response:
    query = _parse(request.query)
    directory = request.app[keys.PICKUP_POINTS].directory
    now = datetime.now(UTC)
    if query.bbox is not None:
        return json_answer(map_answer(directory.map_view(query.bbox, query.zoom, query.where)))
    assert query.lat is not None and query.lon is not None
    if query.origin is None or query.parcel is None:
        found = directory.nearest(query.lat, query.lon, query.limit, query.radius_km, query.where, now)
        return json_answer(nearest_answer(found, priced=False))
    places = request.app[keys.PLACES]
    places.resolve(query.origin, "origin")  # an unknown origin is the caller's 422, not a pricing error
    quote_for = _engine_quote_for(request.app[keys.ENGINE], query.origin, query.parcel)
    found = await directory.nearest_priced(
        query.lat, query.lon, query.limit, quote_for, query.radius_km, query.where, now
    )
    return json_answer(nearest_answer(found, priced=True))


async def get_point(request: web.Request) -> web.Response:
    directory = request.app[keys.PICKUP_POINTS].directory
    point_id = request.match_info["point_id"]
    point = directory.get(point_id)
    if point is None:
        return problem(404, "Pickup point not found", f"no pickup point {point_id}", instance=request.path)
    return json_answer(point_answer(point, datetime.now(UTC), directory.site_of(point_id)))


def _engine_quote_for(engine: QuoteEngine, origin: Location, parcel: Parcel) -> QuoteFor:
    """One carrier's pickup offers to a place, through the quote engine's own deadlines."""

    async def quote_for(carrier: str, destination: Place) -> Sequence[Offer]:
        shipment = Shipment(
            origin=origin,
            destination=Location(country=destination.country, lat=destination.lat, lon=destination.lon),
            parcels=(parcel,),
        )
        quote = await engine.quote(shipment, Policy(only=frozenset({carrier})))
        pickups = [o for o in quote.offers if o.delivery_type is DeliveryType.PICKUP]
        if not pickups and quote.errors:
            raise LookupError("; ".join(e.message for e in quote.errors))
        return pickups

    return quote_for


def _parse(params: MultiMapping[str]) -> _Query:
    errors: list[FieldError] = []
    raw: dict[str, str] = {}
    for name in params:
        if name not in KNOWN:
            errors.append(FieldError(name, "unknown parameter"))
        elif name in raw:
            if name not in LISTED:
                errors.append(FieldError(name, "give it once"))
            else:
                raw[name] = ",".join(params.getall(name))
        else:
            raw[name] = params[name].strip()
    try:
        query = convert(raw, PickupPointQuery, strict=False)
    except InvalidRequest as exc:
        raise InvalidRequest(errors + exc.errors, title="Invalid pickup-point query") from None

    bbox = _bbox(query.bbox, errors)
    if query.bbox is None:
        for name, value in (("lat", query.lat), ("lon", query.lon)):
            if value is None:
                errors.append(FieldError(name, "required (or give bbox=west,south,east,north)"))
    elif "lat" in params or "lon" in params:
        errors.append(FieldError("bbox", "give either lat and lon, or bbox"))

    sides = [s for s in (query.length_cm, query.width_cm, query.height_cm) if s is not None]
    if sides and len(sides) != 3:
        errors.append(FieldError("length_cm", "give length_cm, width_cm and height_cm together"))
    elif sides and query.weight_g is None:
        errors.append(FieldError("weight_g", "required with the parcel's sides"))
    parcel = None
    if query.weight_g is not None:
        # Weight alone still filters; sides of 0 fit every box.
        length, width, height = sides if len(sides) == 3 else (0.0, 0.0, 0.0)
        parcel = Parcel(int(query.weight_g), length, width, height)
    origin = _origin(query.origin)
    if origin is not None and parcel is None:
        errors.append(FieldError("weight_g", "required to price delivery from origin"))
    open_at = _moment(query.open_at, errors)
    if errors:
        raise InvalidRequest(errors, title="Invalid pickup-point query")
    return _Query(
        where=PointFilter(
            networks=frozenset(_listed(query.network)),
            types=frozenset(PointType(v) for v in _listed(query.type)),
            features=frozenset(Feature(v) for v in _listed(query.features)),
            parcel=parcel,
            open_at=open_at,
        ),
        lat=query.lat,
        lon=query.lon,
        limit=int(query.limit),
        radius_km=query.radius_km,
        bbox=bbox,
        zoom=int(query.zoom),
        parcel=parcel,
        origin=origin,
    )


def _listed(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _bbox(raw: str | None, errors: list[FieldError]) -> BBox | None:
    if raw is None:
        return None
    try:
        west, south, east, north = (float(v) for v in raw.split(","))
    except ValueError:
        errors.append(FieldError("bbox", "must be west,south,east,north in degrees"))
        return None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        errors.append(FieldError("bbox", "must be finite numbers"))
    elif not (-180 <= west <= 180 and -180 <= east <= 180):
        errors.append(FieldError("bbox", "west and east must be between -180 and 180 (west > east crosses 180°)"))
    elif not -90 <= south <= north <= 90:
        errors.append(FieldError("bbox", "needs -90 <= south <= north <= 90"))
    else:
        return BBox(west, south, east, north)
    return None


def _moment(raw: str | None, errors: list[FieldError]) -> datetime | None:
    if raw is None:
        return None
    if raw == "now":
        return datetime.now(UTC)
    try:
        # Naive means that wall time at each point, which is what "open at 19:00" asks.
        moment = datetime.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError("open_at", "must be 'now' or an ISO 8601 time, e.g. 2026-03-02T19:00+03:00"))
        return None
    if not plausible_moment(moment):
        errors.append(FieldError("open_at", f"must be within {PLAUSIBLE_DAYS} days of today"))
        return None
    return moment


def _origin(raw: str | None) -> Location | None:
    if not raw:
        return None
    match = _LAT_LON.match(raw)
    if match:
        return Location(lat=float(match[1]), lon=float(match[2]))
    if raw.isdigit():
        return Location(postal_code=raw)
    return Location(city=raw)
