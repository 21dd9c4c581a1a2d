"""Pickup points as the rest of the service sees them, whatever network or file they came from.

Times of day are minutes after local midnight in the point's own time zone. A span whose
closing minute is not after its opening minute runs past midnight into the next day.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from pickup_points.errors import HoursError, NetworkNameError
from router.core.models import PointType as PointType  # in the core: offers name the kinds they serve

MINUTES_PER_DAY = 24 * 60
DAYS_PER_WEEK = 7
# A network's name names its file (and, later, its rows): nothing in it may climb out of a folder.
_NETWORK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def network_name(name: str) -> str:
    """`name` if it may name a network's stored points, else `NetworkNameError`.

    The one check for every place a network's name becomes a path or a storage key.
    """
    if not _NETWORK_NAME.fullmatch(name):
        raise NetworkNameError(
            f"{name!r} is not a network name: 1 to 63 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


class Feature(enum.StrEnum):
    FITTING_ROOM = "fitting_room"
    RETURNS = "returns"
    PARTIAL_HANDOUT = "partial_handout"
    COD = "cod"  # cash on delivery accepted
    CARD = "card"  # card payment at the point


class Status(enum.StrEnum):
    ACTIVE = "active"
    TEMPORARILY_CLOSED = "temporarily_closed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Span:
    """Open from `opens_min` until `closes_min`; past midnight when `closes_min <= opens_min`."""

    opens_min: int
    closes_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.opens_min < MINUTES_PER_DAY:
            raise HoursError(f"opening minute {self.opens_min} is outside the day")
        if not 0 <= self.closes_min <= MINUTES_PER_DAY:
            raise HoursError(f"closing minute {self.closes_min} is outside the day")

    @property
    def length_min(self) -> int:
        """Minutes open; 24 h when opening and closing coincide (round-the-clock)."""
        return (self.closes_min - self.opens_min - 1) % MINUTES_PER_DAY + 1

    @property
    def overnight(self) -> bool:
        return self.opens_min + self.length_min > MINUTES_PER_DAY


DayHours = tuple[Span, ...]  # in opening order; the gaps between spans are breaks


@dataclass(frozen=True, slots=True)
class DatedHours:
    """A day that does not follow the weekly pattern; no spans means closed all day."""

    day: date
    spans: DayHours = ()


@dataclass(frozen=True, slots=True)
class OpeningHours:
    week: tuple[DayHours, ...]  # seven days, Monday first
    exceptions: tuple[DatedHours, ...] = ()

    def __post_init__(self) -> None:
        if len(self.week) != DAYS_PER_WEEK:
            raise HoursError(f"a week has seven days, not {len(self.week)}")

    def day(self, on: date) -> DayHours:
        for exception in self.exceptions:
            if exception.day == on:
                return exception.spans
        return self.week[on.weekday()]

    @staticmethod
    def breaks(spans: DayHours) -> tuple[Span, ...]:
        """The pauses between a day's spans (lunch, technical breaks)."""
        return tuple(
            Span(a.closes_min, b.opens_min)
            for a, b in zip(spans, spans[1:], strict=False)
            if a.closes_min < b.opens_min
        )


ALWAYS_OPEN = OpeningHours(week=((Span(0, MINUTES_PER_DAY),),) * DAYS_PER_WEEK)


@dataclass(frozen=True, slots=True)
class Cell:
    """One locker cell size; a parcel fits when its sorted sides fit the sorted cell."""

    sides_cm: tuple[float, float, float]  # longest first


@dataclass(frozen=True, slots=True)
class Limits:
    max_weight_g: int | None = None
    max_sides_cm: tuple[float, float, float] | None = None  # longest first
    cells: tuple[Cell, ...] = ()  # lockers: the parcel must fit one of them

    def fits(self, weight_g: int, sides_cm: tuple[float, float, float]) -> bool:
        if self.max_weight_g is not None and weight_g > self.max_weight_g:
            return False
        if self.max_sides_cm is not None and not _within(sides_cm, self.max_sides_cm):
            return False
        return not self.cells or any(_within(sides_cm, cell.sides_cm) for cell in self.cells)


def _within(sides: tuple[float, float, float], box: tuple[float, float, float]) -> bool:
    return all(s <= b for s, b in zip(sides, box, strict=False))


def sorted_sides(a: float, b: float, c: float) -> tuple[float, float, float]:
    x, y, z = sorted((a, b, c), reverse=True)
    return (x, y, z)


@dataclass(frozen=True, slots=True)
class PickupPoint:
    """One network's point. `carrier` is the carrier code that delivers parcels to it."""

    id: str  # network:code
    network: str
    code: str
    carrier: str
    type: PointType
    name: str
    address: str
    city: str | None
    region: str | None
    lat: float
    lon: float
    timezone: str  # IANA name, resolved once at import
    hours: OpeningHours
    features: frozenset[Feature] = frozenset()
    limits: Limits = Limits()
    status: Status = Status.ACTIVE
    postal_code: str | None = None
    country: str = "RU"  # ISO 3166-1 alpha-2

    @staticmethod
    def make_id(network: str, code: str) -> str:
        return f"{network}:{code}"


@dataclass(frozen=True, slots=True)
class Site:
    """One physical place on the map; several networks' points may share it."""

    id: str
    lat: float
    lon: float
    address: str
    city: str | None
    point_ids: tuple[str, ...]
    networks: tuple[str, ...]
