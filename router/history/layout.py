"""Where the carriers' track record lives in the store, and how an outcome is keyed: key names,
months, lanes from coordinates, suspensions as JSON.

    rel:a:<carrier>[|<service>[|<lane>]]@<YYYY-MM>
                                           a Tally's fields (router/history/reliability.py) for
                                           the outcomes handed over that month; without `@…`,
                                           those imported before months were kept, counted as
                                           current
    rel:months                             outcomes imported, by month of hand-over
    rel:f:<carrier>[|<lane>]               serious failures by "<day>:<kind>"
    rel:susp                               suspensions in force, by "<carrier>[|<lane>]", as JSON
    rel:seen:<4 hex>                       8-byte digests of imported shipment ids, 65,536 buckets
    rel:refolding                          held, with an expiry, by the one process refolding the
                                           records' outcomes (router/history/archive.py)

A lane is `<origin region>><destination region>` in ISO 3166-2 (`RU-MOW>RU-NVS`). History
written before ISO codes keyed Russian lanes by GeoNames admin1 codes (`RU-48>RU-53`); it is
read under both forms and never rewritten: an aggregate sums both keys, a failure log reads
both, and a suspension stored under the old form is read with its lane in the new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime

import orjson

from router.core.models import Location
from router.core.regions import regions
from router.history.outcomes import Coordinates, Outcome, OutcomeStatus
from router.history.suspension import Suspension

AGGREGATE = "rel:a:"
MONTHS = "rel:months"
FAILURES = "rel:f:"
SUSPENSIONS = "rel:susp"
SEEN = "rel:seen:"
REFOLDING = "rel:refolding"


def aggregate_key(carrier: str, service: str | None = None, lane: str | None = None) -> str:
    key = AGGREGATE + carrier
    if service is not None:
        key += "|" + service
        if lane is not None:
            key += "|" + lane
    return key


def legacy_lane(lane: str) -> str | None:
    """The lane as history before ISO codes keyed it (`RU-48>RU-53` for `RU-MOW>RU-NVS`), or
    None where that was the same."""
    table = regions()
    ends = lane.split(">")
    old = [table.admin1_code(end) or end for end in ends]
    return ">".join(old) if old != ends else None


def current_lane(lane: str) -> str:
    """`RU-MOW>RU-NVS` for a lane written either way."""
    table = regions()
    return ">".join(table.iso_code(end) or end for end in lane.split(">"))


def legacy_key(key: str) -> str | None:
    """The key (an aggregate's or a scope's) that history before ISO codes kept the same figures
    under, or None where it is the same key."""
    head, bar, lane = key.rpartition("|")
    if not bar or ">" not in lane:
        return None
    old = legacy_lane(lane)
    return f"{head}|{old}" if old is not None else None


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(newest: str, count: int) -> list[str]:
    """`newest` (YYYY-MM) and the `count - 1` months before it."""
    year, month = int(newest[:4]), int(newest[5:7])
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index, index - count, -1)]


def scope(carrier: str, lane: str | None) -> str:
    return carrier if lane is None else f"{carrier}|{lane}"


def seen_key(shipment_id: str) -> tuple[str, str]:
    digest = hashlib.blake2b(shipment_id.encode(), digest_size=8).hexdigest()
    return SEEN + digest[:4], digest[4:]


def failure_kind(outcome: Outcome) -> str:
    # One shipment is one failure, however many things went wrong with it.
    if outcome.status in (OutcomeStatus.LOST, OutcomeStatus.DAMAGED):
        return outcome.status.value
    return "complaint"


def suspension_to_json(s: Suspension) -> bytes:
    return orjson.dumps(
        {
            "carrier": s.carrier,
            "lane": s.lane,
            "since": s.since.isoformat(),
            "failures": s.failures,
            "window_days": s.window_days,
            "first_day": s.first_day.isoformat(),
            "last_day": s.last_day.isoformat(),
            "kinds": [list(k) for k in s.kinds],
        }
    )


def suspension_from_json(raw: bytes) -> Suspension:
    d = orjson.loads(raw)
    return Suspension(
        carrier=d["carrier"],
        lane=current_lane(d["lane"]) if d["lane"] is not None else None,
        since=datetime.fromisoformat(d["since"]),
        failures=d["failures"],
        window_days=d["window_days"],
        first_day=date.fromisoformat(d["first_day"]),
        last_day=date.fromisoformat(d["last_day"]),
        kinds=tuple((k, n) for k, n in d["kinds"]),
    )


class RegionResolver:
    """Coordinates to a region code through `Places`, built only when the first coordinates come."""

    def __init__(self, places: Callable[[], object] | None) -> None:
        self._factory = places
        self._places: object | None = None
        self._cache: dict[tuple[float, float], str | None] = {}

    def __call__(self, point: Coordinates) -> str | None:
        # Two decimals is about a kilometre: enough to name the region, and repeated
        # pick-up addresses then cost one lookup (a lookup is ~140 µs).
        key = (round(point.lat, 2), round(point.lon, 2))
        if key in self._cache:
            return self._cache[key]
        region = None
        if self._factory is not None:
            if self._places is None:
                self._places = self._factory()
            place = self._places.resolve(Location(lat=point.lat, lon=point.lon), "")  # type: ignore[attr-defined]
            region = place.region
        self._cache[key] = region
        return region
