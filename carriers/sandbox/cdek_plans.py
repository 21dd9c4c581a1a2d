"""The CDEK emulator's journeys planned: the statuses a parcel goes through on its lane, each
after so long, and the clock they run on (`carriers.sandbox.cdek_journeys` plays them).

Once an order is CREATED, the emulator plans its journey, the way CDEK's own statuses go: the
sender's warehouse, the transporter, a transit city on long lanes, the recipient's city, then
the pickup point (or the courier to the door), and the end. How long each leg takes depends on
the lane: a day and a half of trunk per thousand kilometres between the cities, at least one.
Each status is dated in its city's own offset (`2026-12-08T10:15:00+0700` in Novosibirsk).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from router.core.geo import distance_km

HOUR_S = 3600.0
DAY_S = 86400.0
TRUNK_KM_PER_DAY = 700.0  # a lorry's day; air freight on the longest lanes is folded into it
TRANSIT_OVER_KM = 1500.0  # longer lanes go through a transit city
TRANSIT_CITY = ("Екатеринбург", 56.8389, 60.6057)
# Offsets of the cities the demo lanes use; elsewhere the longitude decides (15 degrees an hour).
CITY_OFFSETS_H = {
    "москва": 3,
    "moscow": 3,
    "санкт-петербург": 3,
    "saint petersburg": 3,
    "казань": 3,
    "краснодар": 3,
    "самара": 4,
    "екатеринбург": 5,
    "yekaterinburg": 5,
    "омск": 6,
    "новосибирск": 7,
    "novosibirsk": 7,
    "красноярск": 7,
    "иркутск": 8,
    "хабаровск": 10,
    "владивосток": 10,
    "калининград": 2,
}


def city_offset(city: str, lon: float | None) -> timezone:
    hours = CITY_OFFSETS_H.get(city.strip().lower())
    if hours is None:
        hours = min(12, max(2, round(lon / 15))) if lon is not None else 3
    return timezone(timedelta(hours=hours))


def cdek_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S%z")


class SandboxClock:
    """The journeys' time: the wall clock's UTC at the start, `speed` times as fast, plus every advance."""

    def __init__(self, *, speed: float = 0.0, start: datetime | None = None) -> None:
        self.speed = speed
        self._start = start or datetime.now(UTC).replace(microsecond=0)
        self._started = time.monotonic()
        self._advanced_s = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._advanced_s + self.speed * (time.monotonic() - self._started))

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock does not go back")
        self._advanced_s += seconds


@dataclass(frozen=True, slots=True)
class Stop:
    city: str
    lat: float | None
    lon: float | None


@dataclass(slots=True)
class Step:
    after_s: float  # from the journey's start
    code: str
    stop: Stop
    is_return: bool = False


@dataclass
class Journey:
    order_uuid: str
    start: datetime
    outcome: str
    steps: list[Step]
    done: int = 0  # steps already pushed


def _km(a: Stop, b: Stop) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    return distance_km(a.lat, a.lon, b.lat, b.lon)


def plan(
    origin: Stop, destination: Stop, *, door: bool, outcome: str, rnd: random.Random, late_s: float = 0.0
) -> list[Step]:
    """The statuses a parcel goes through, each after so long from its CREATED; `late_s` more on
    the trunk into the recipient's city (a lane made late, `carriers.sandbox.cdek_lanes`)."""
    km = _km(origin, destination)
    trunk_s = max(1.0, (km if km is not None else 1000.0) / TRUNK_KM_PER_DAY) * DAY_S
    jitter = rnd.uniform(0.8, 1.3)  # lanes are never quite on time
    steps: list[Step] = []
    t = rnd.uniform(2, 8) * HOUR_S  # the shop hands the parcel over

    def at(code: str, stop: Stop, hours: float, is_return: bool = False) -> None:
        nonlocal t
        t += hours * HOUR_S
        steps.append(Step(t, code, stop, is_return))

    at("RECEIVED_AT_SHIPMENT_WAREHOUSE", origin, 0)
    at("READY_FOR_SHIPMENT_IN_SENDER_CITY", origin, rnd.uniform(2, 6))
    at("TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY", origin, rnd.uniform(1, 4))
    if km is not None and km > TRANSIT_OVER_KM:
        transit = Stop(*TRANSIT_CITY)
        at("SENT_TO_TRANSIT_CITY", origin, 0.5)
        if outcome == "lost":
            return steps
        at("ACCEPTED_IN_TRANSIT_CITY", transit, trunk_s * jitter / 2 / HOUR_S)
        at("ACCEPTED_AT_TRANSIT_WAREHOUSE", transit, 2)
        at("READY_FOR_SHIPMENT_IN_TRANSIT_CITY", transit, rnd.uniform(3, 10))
        at("TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY", transit, 2)
        at("SENT_TO_RECIPIENT_CITY", transit, 0.5)
        at("ACCEPTED_IN_RECIPIENT_CITY", destination, (trunk_s * jitter / 2 + late_s) / HOUR_S)
    else:
        at("SENT_TO_RECIPIENT_CITY", origin, 0.5)
        if outcome == "lost":
            return steps
        at("ACCEPTED_IN_RECIPIENT_CITY", destination, (trunk_s * jitter + late_s) / HOUR_S)
    if door:
        at("ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE", destination, rnd.uniform(2, 6))
        at("TAKEN_BY_COURIER", destination, rnd.uniform(10, 16))
        if outcome == "returned":
            at("RETURNED_TO_RECIPIENT_CITY_WAREHOUSE", destination, rnd.uniform(4, 8))
            at("TAKEN_BY_COURIER", destination, rnd.uniform(14, 20))
            at("NOT_DELIVERED", destination, rnd.uniform(3, 8))
        else:
            at("DELIVERED", destination, rnd.uniform(1, 8))
    else:
        at("ACCEPTED_AT_PICK_UP_POINT", destination, rnd.uniform(3, 8))
        if outcome == "returned":
            at("NOT_DELIVERED", destination, 7 * 24)  # the office keeps a parcel a week
        else:
            at("DELIVERED", destination, rnd.uniform(4, 72))
    if outcome == "returned":
        at("SENT_TO_SENDER_CITY", destination, rnd.uniform(12, 30), True)
        at("ACCEPTED_IN_SENDER_CITY", origin, trunk_s * jitter / HOUR_S, True)
        at("RETURNED_TO_SENDER_CITY_WAREHOUSE", origin, rnd.uniform(2, 6), True)
    return steps
