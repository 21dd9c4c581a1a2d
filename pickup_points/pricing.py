"""Each point's price and dates: its carrier's offer for delivery to that kind of point.

A carrier prices a pickup point by where it is (city, zone) and by what kind of point it is
(CDEK has one tariff to its offices and another to its lockers), not by which counter it is. So
the points are grouped by (carrier, country, region, city) and each group is quoted once; twenty
points of one network in one city cost one quote, not twenty. Each point then carries the
cheapest of that quote's pickup offers that delivers to its kind of point, or none. Points with
no city are grouped by a 0.1° cell (~10 km), well inside any zone a rate card draws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass

from pickup_points.model import PickupPoint, PointType
from router.core.models import CarrierError, Offer, Place

# One carrier's pickup offers to a place, every kind of point's; raises when the carrier failed.
QuoteFor = Callable[[str, Place], Awaitable[Sequence[Offer]]]


@dataclass(frozen=True, slots=True)
class Pricing:
    offers: tuple[Offer | None, ...]  # one per point, in the order given; None: no offer
    errors: tuple[CarrierError, ...]
    quotes_asked: int


def destination(point: PickupPoint) -> Place:
    return Place(
        lat=point.lat,
        lon=point.lon,
        country=point.country,
        city=point.city,
        region=point.region,  # ISO 3166-2, as the importers keep it; history keys lanes by it
        timezone=point.timezone,
        postal_code=point.postal_code,
        address=point.address,
    )


def group_key(point: PickupPoint) -> Hashable:
    if point.city:
        return (point.carrier, point.country, point.region, point.city.casefold())
    return (point.carrier, point.country, round(point.lat, 1), round(point.lon, 1))


async def price_points(points: Sequence[PickupPoint], quote_for: QuoteFor) -> Pricing:
    """Quote each (carrier, place) group once, concurrently; a failing group costs only its points."""
    groups: dict[Hashable, list[int]] = {}
    for i, point in enumerate(points):
        groups.setdefault(group_key(point), []).append(i)
    # The first point of a group is the nearest one when points come nearest first.
    heads = [points[members[0]] for members in groups.values()]
    answers = await asyncio.gather(*(quote_for(p.carrier, destination(p)) for p in heads), return_exceptions=True)
    offers: list[Offer | None] = [None] * len(points)
    errors: list[CarrierError] = []
    for head, members, answer in zip(heads, groups.values(), answers, strict=False):
        if isinstance(answer, asyncio.CancelledError):
            raise answer
        if isinstance(answer, BaseException):
            errors.append(CarrierError(head.carrier, "error", f"{type(answer).__name__}: {answer}"))
            continue
        by_type: dict[PointType, Offer | None] = {}
        for i in members:
            kind = points[i].type
            if kind not in by_type:
                by_type[kind] = offer_to(kind, answer)
            offers[i] = by_type[kind]
    return Pricing(tuple(offers), tuple(errors), len(groups))


def offer_to(kind: PointType, offers: Sequence[Offer]) -> Offer | None:
    """The cheapest (then soonest) of `offers` that is handed over at a point of `kind`."""
    fitting = [o for o in offers if o.delivers_to(kind)]
    return min(fitting, key=lambda o: (o.price.total, o.eta.max_date, o.id)) if fitting else None
