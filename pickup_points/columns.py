"""Points as numpy columns, so filters run over thousands of candidates without a Python loop.

Values that repeat (networks, limits, opening hours, time zones) are interned: a point holds a
small integer into a table. Real networks have a few hundred distinct schedules and limit sets
for hundreds of thousands of points, so a filter evaluates each distinct value once per query.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from pickup_points.model import Feature, Limits, OpeningHours, PickupPoint, PointType, Status

TYPES: tuple[PointType, ...] = tuple(PointType)
STATUSES: tuple[Status, ...] = tuple(Status)
FEATURE_BIT: dict[Feature, int] = {feature: 1 << i for i, feature in enumerate(Feature)}

T = TypeVar("T", bound=Hashable)


def intern(values: Iterable[T], dtype: type = np.int32) -> tuple[np.ndarray, tuple[T, ...]]:
    table: dict[T, int] = {}
    ids = [table.setdefault(v, len(table)) for v in values]
    return np.asarray(ids, dtype=dtype), tuple(table)


def feature_bits(features: Iterable[Feature]) -> int:
    bits = 0
    for feature in features:
        bits |= FEATURE_BIT[feature]
    return bits


@dataclass(frozen=True, slots=True, eq=False)
class PointColumns:
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray
    network_id: np.ndarray  # int16 into `networks`
    networks: tuple[str, ...]
    type_id: np.ndarray  # int8 into TYPES
    feature_bits: np.ndarray  # uint8, FEATURE_BIT
    status_id: np.ndarray  # int8 into STATUSES
    limits_id: np.ndarray  # int32 into `limits`
    limits: tuple[Limits, ...]
    hours_id: np.ndarray  # int32 into `hours`
    hours: tuple[OpeningHours, ...]
    zone_id: np.ndarray  # int16 into `zones`
    zones: tuple[str, ...]
    site_id: np.ndarray  # int32, rows sharing a physical place share it

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    @property
    def nbytes(self) -> int:
        arrays = (self.lat, self.lon, self.network_id, self.type_id, self.feature_bits, self.status_id)
        more = (self.limits_id, self.hours_id, self.zone_id, self.site_id)
        return sum(a.nbytes for a in arrays + more)

    @classmethod
    def from_points(cls, points: Sequence[PickupPoint], site_id: Sequence[int] | np.ndarray) -> PointColumns:
        network_id, networks = intern((p.network for p in points), np.int16)
        limits_id, limits = intern(p.limits for p in points)
        hours_id, hours = intern(p.hours for p in points)
        zone_id, zones = intern((p.timezone for p in points), np.int16)
        type_index = {t: i for i, t in enumerate(TYPES)}
        status_index = {s: i for i, s in enumerate(STATUSES)}
        return cls(
            lat=np.fromiter((p.lat for p in points), np.float64, len(points)),
            lon=np.fromiter((p.lon for p in points), np.float64, len(points)),
            network_id=network_id,
            networks=networks,
            type_id=np.fromiter((type_index[p.type] for p in points), np.int8, len(points)),
            feature_bits=np.fromiter((feature_bits(p.features) for p in points), np.uint8, len(points)),
            status_id=np.fromiter((status_index[p.status] for p in points), np.int8, len(points)),
            limits_id=limits_id,
            limits=limits,
            hours_id=hours_id,
            hours=hours,
            zone_id=zone_id,
            zones=zones,
            site_id=np.asarray(site_id, dtype=np.int32),
        )
