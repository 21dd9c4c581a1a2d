"""Pickup points as JSON: the list answer, one point, and GeoJSON for a map.

Map features stay small on purpose (id, position, count or the site's point ids and networks):
a map asks for the details of one point when the buyer opens it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import orjson

from pickup_points.hours import DAY_NAMES, format_hours, format_time, is_open
from pickup_points.model import DayHours, Feature, OpeningHours, PickupPoint, Site
from pickup_points.search import MapView, Nearby, Nearest
from router.core.codec import offer_json
from router.core.models import CarrierError


def spans_json(spans: DayHours) -> list[dict[str, str]]:
    return [{"opens": format_time(s.opens_min), "closes": format_time(s.closes_min)} for s in spans]


def hours_json(hours: OpeningHours) -> dict[str, Any]:
    """Cached per hours object: points share a few hundred schedules, and hashing the nested
    spans of a schedule would cost more than building its JSON. Never mutate the answer."""
    cached = _HOURS_JSON.get(id(hours))
    if cached is not None and cached[0] is hours:
        return cached[1]
    if len(_HOURS_JSON) >= _HOURS_JSON_MAX:
        _HOURS_JSON.clear()
    body = _hours_json(hours)
    _HOURS_JSON[id(hours)] = (hours, body)  # holding `hours` keeps its id from being reused
    return body


_HOURS_JSON: dict[int, tuple[OpeningHours, dict[str, Any]]] = {}
_HOURS_JSON_MAX = 8192


def _hours_json(hours: OpeningHours) -> dict[str, Any]:
    return {
        "text": format_hours(hours),
        "week": [
            {"day": DAY_NAMES[i].lower(), "spans": spans_json(spans), "breaks": spans_json(OpeningHours.breaks(spans))}
            for i, spans in enumerate(hours.week)
        ],
        "exceptions": [{"date": e.day.isoformat(), "spans": spans_json(e.spans)} for e in hours.exceptions],
    }


def point_json(point: PickupPoint, now: datetime, site: Site | None = None) -> dict[str, Any]:
    body = {**_static_json(point), "open_now": is_open(point.hours, point.timezone, now)}
    if site is not None:
        body["site"] = {"id": site.id, "point_ids": list(site.point_ids), "networks": list(site.networks)}
    return body


def _static_json(point: PickupPoint) -> dict[str, Any]:
    """What does not change between requests, cached per point object like `hours_json`."""
    cached = _POINT_JSON.get(id(point))
    if cached is not None and cached[0] is point:
        return cached[1]
    if len(_POINT_JSON) >= _POINT_JSON_MAX:
        _POINT_JSON.clear()
    limits = point.limits
    body = {
        "id": point.id,
        "network": point.network,
        "carrier": point.carrier,
        "type": point.type.value,
        "name": point.name,
        "address": point.address,
        "city": point.city,
        "region": point.region,
        "postal_code": point.postal_code,
        "country": point.country,
        "lat": point.lat,
        "lon": point.lon,
        "timezone": point.timezone,
        "status": point.status.value,
        "hours": hours_json(point.hours),
        "features": _features(point.features),
        "limits": {
            "max_weight_g": limits.max_weight_g,
            "max_sides_cm": list(limits.max_sides_cm) if limits.max_sides_cm else None,
            "cells_cm": [list(c.sides_cm) for c in limits.cells],
        },
    }
    _POINT_JSON[id(point)] = (point, body)
    return body


_POINT_JSON: dict[int, tuple[PickupPoint, dict[str, Any]]] = {}
_POINT_JSON_MAX = 262_144


@functools.lru_cache(maxsize=256)  # a frozenset caches its own hash
def _features(features: frozenset[Feature]) -> list[str]:
    return sorted(f.value for f in features)


def nearby_json(nearby: Nearby, priced: bool) -> dict[str, Any]:
    body = {
        **_static_json(nearby.point),
        "open_now": nearby.open_now,
        "distance_km": round(nearby.distance_km, 3),
        "site_id": nearby.site_id,
    }
    if priced:
        body["offer"] = None if nearby.offer is None else offer_json(nearby.offer, [])
    return body


def nearest_json(nearest: Nearest, priced: bool) -> dict[str, Any]:
    return {
        "count": len(nearest.results),
        "points": [nearby_json(n, priced) for n in nearest.results],
        "errors": [error_json(e) for e in nearest.errors],
    }


def nearest_body(nearest: Nearest, priced: bool) -> bytes:
    """`nearest_json` as orjson writes it, byte for byte: each point's unchanging fields are
    written once per point and kept, not once per answer (most of an answer is those)."""
    return orjson.dumps(
        {
            "count": len(nearest.results),
            "points": [orjson.Fragment(_nearby_body(n, priced)) for n in nearest.results],
            "errors": [error_json(e) for e in nearest.errors],
        }
    )


def _nearby_body(nearby: Nearby, priced: bool) -> bytes:
    # The keys in `nearby_json`'s order, after the static ones.
    parts = [
        _static_body(nearby.point),
        b',"open_now":true,"distance_km":' if nearby.open_now else b',"open_now":false,"distance_km":',
        orjson.dumps(round(nearby.distance_km, 3)),
        b',"site_id":',
        orjson.dumps(nearby.site_id),
    ]
    if priced:
        parts += (b',"offer":', orjson.dumps(None if nearby.offer is None else offer_json(nearby.offer, [])))
    parts.append(b"}")
    return b"".join(parts)


def _static_body(point: PickupPoint) -> bytes:
    """`_static_json` written out, without its closing brace, so that more keys can follow."""
    cached = _POINT_BODY.get(id(point))
    if cached is not None and cached[0] is point:
        return cached[1]
    if len(_POINT_BODY) >= _POINT_JSON_MAX:
        _POINT_BODY.clear()
    body = orjson.dumps(_static_json(point))[:-1]
    _POINT_BODY[id(point)] = (point, body)
    return body


_POINT_BODY: dict[int, tuple[PickupPoint, bytes]] = {}


def error_json(error: CarrierError) -> dict[str, str]:
    return {"carrier": error.carrier, "kind": error.kind, "message": error.message}


def map_json(view: MapView) -> dict[str, Any]:
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "id": f"cluster:{c.id}",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {"kind": "cluster", "count": c.count},
        }
        for c in view.clusters
    ]
    features.extend(
        {
            "type": "Feature",
            "id": s.id,
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {
                "kind": "site",
                "count": len(s.point_ids),
                "points": list(s.point_ids),
                "networks": list(s.networks),
            },
        }
        for s in view.sites
    )
    return {"type": "FeatureCollection", "zoom": view.zoom, "total": view.total, "features": features}
