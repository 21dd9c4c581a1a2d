"""Pickup points as their answers (pickup_points/answers.py): the list, one point, and GeoJSON
for a map.

Map features stay small on purpose (id, position, count or the site's point ids and networks):
a map asks for the details of one point when the buyer opens it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType
from msgspec.structs import replace

from pickup_points import answers as out
from pickup_points.hours import DAY_NAMES, format_hours, format_time, is_open
from pickup_points.model import DayHours, Feature, OpeningHours, PickupPoint, Site
from pickup_points.search import MapView, Nearby, Nearest
from router.core import answers
from router.core.codec import encode, error_answer, offer_answer
from router.core.memo import IdMemo


def spans_answer(spans: DayHours) -> list[out.Span]:
    return [out.Span(opens=format_time(s.opens_min), closes=format_time(s.closes_min)) for s in spans]


def _hours(hours: OpeningHours) -> out.Hours:
    return out.Hours(
        text=format_hours(hours),
        week=[
            out.Day(
                day=DAY_NAMES[i].lower(), spans=spans_answer(spans), breaks=spans_answer(OpeningHours.breaks(spans))
            )
            for i, spans in enumerate(hours.week)
        ],
        exceptions=[out.DayException(date=e.day, spans=spans_answer(e.spans)) for e in hours.exceptions],
    )


def _static(point: PickupPoint) -> dict[str, Any]:
    limits = point.limits
    return {
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
        "hours": _hours_written(point.hours),
        "features": _features(point.features),
        "limits": out.Limits(
            max_weight_g=limits.max_weight_g,
            max_sides_cm=list(limits.max_sides_cm) if limits.max_sides_cm else None,
            cells_cm=[list(c.sides_cm) for c in limits.cells],
        ),
    }


# What does not change between requests is worked out once per object: points share a few
# hundred schedules, hashing a schedule's nested spans would cost more than building its answer,
# and most of a list answer is its points' unchanging fields. Answers are only ever written.
hours_answer = IdMemo(_hours, 8192)
# The codec's fast path for points: a schedule, half of a point's answer, is written once from
# its Struct and kept as those bytes, which msgspec puts in place of the Hours when it writes
# the point (a list of 20 points takes half the time to write).
_hours_written: IdMemo[OpeningHours, msgspec.Raw] = IdMemo(lambda hours: msgspec.Raw(encode(hours_answer(hours))), 8192)
_static_fields = IdMemo(_static, 262_144)


@functools.lru_cache(maxsize=256)  # a frozenset caches its own hash
def _features(features: frozenset[Feature]) -> list[str]:
    return sorted(f.value for f in features)


def point_answer(point: PickupPoint, now: datetime, site: Site | None = None) -> out.PickupPoint:
    return out.PickupPoint(
        **_static_fields(point),
        open_now=is_open(point.hours, point.timezone, now),
        site=UNSET
        if site is None
        else out.Site(id=site.id, point_ids=list(site.point_ids), networks=list(site.networks)),
    )


def nearby_answer(nearby: Nearby, priced: bool) -> out.NearbyPoint:
    offer: answers.Offer | None | UnsetType = UNSET
    if priced:
        offer = None if nearby.offer is None else offer_answer(nearby.offer, [])
    return replace(
        _nearby_template(nearby.point),
        open_now=nearby.open_now,
        distance_km=round(nearby.distance_km, 3),
        site_id=nearby.site_id,
        offer=offer,
    )


def _template(point: PickupPoint) -> out.NearbyPoint:
    return out.NearbyPoint(**_static_fields(point), open_now=False, distance_km=0.0, site_id="")


# A list answer's point is its kept template with this request's fields put in (a copy in C):
# building each point from its fields again cost more than writing it.
_nearby_template = IdMemo(_template, 262_144)


def nearest_answer(nearest: Nearest, priced: bool) -> out.PickupPointList:
    return out.PickupPointList(
        count=len(nearest.results),
        points=[nearby_answer(n, priced) for n in nearest.results],
        errors=[error_answer(e) for e in nearest.errors],
    )


def map_answer(view: MapView) -> out.PickupPointMap:
    features = [
        out.MapFeature(
            type="Feature",
            id=f"cluster:{c.id}",
            geometry=out.Geometry(type="Point", coordinates=[c.lon, c.lat]),
            properties=out.MapProperties(kind="cluster", count=c.count),
        )
        for c in view.clusters
    ]
    features.extend(
        out.MapFeature(
            type="Feature",
            id=s.id,
            geometry=out.Geometry(type="Point", coordinates=[s.lon, s.lat]),
            properties=out.MapProperties(
                kind="site", count=len(s.point_ids), points=list(s.point_ids), networks=list(s.networks)
            ),
        )
        for s in view.sites
    )
    return out.PickupPointMap(type="FeatureCollection", zoom=view.zoom, total=view.total, features=features)
