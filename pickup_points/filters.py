"""Which points a buyer can use: network, type, features, parcel fit, open at a moment.

`matches` answers for a batch of rows at once. Parcel fit is decided once per distinct limit set,
opening once per distinct (opening hours, time zone) pair, and the answers gathered per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from pickup_points.columns import STATUSES, TYPES, PointColumns, feature_bits
from pickup_points.hours import is_open
from pickup_points.model import Feature, PointType, Status
from router.models import Parcel


@dataclass(frozen=True, slots=True)
class PointFilter:
    networks: frozenset[str] = frozenset()  # empty: any
    types: frozenset[PointType] = frozenset()  # empty: any
    features: frozenset[Feature] = frozenset()  # all of them required
    parcel: Parcel | None = None
    open_at: datetime | None = None  # aware: that instant; naive: that wall time at each point
    statuses: frozenset[Status] = frozenset({Status.ACTIVE})

    @property
    def selects_all(self) -> bool:
        return (
            not self.networks
            and not self.types
            and not self.features
            and self.parcel is None
            and self.open_at is None
            and self.statuses == frozenset(Status)
        )


def matches(columns: PointColumns, rows: np.ndarray, where: PointFilter) -> np.ndarray:
    """A boolean per row of `rows`: does the point pass every condition."""
    keep = np.ones(rows.shape[0], dtype=bool)
    if where.selects_all or rows.shape[0] == 0:
        return keep
    if where.statuses != frozenset(Status):
        keep &= _one_of(columns.status_id[rows], [STATUSES.index(s) for s in where.statuses])
    if where.networks:
        wanted = [i for i, name in enumerate(columns.networks) if name in where.networks]
        keep &= _one_of(columns.network_id[rows], wanted)
    if where.types:
        keep &= _one_of(columns.type_id[rows], [TYPES.index(t) for t in where.types])
    if where.features:
        required = feature_bits(where.features)
        keep &= (columns.feature_bits[rows] & required) == required
    if where.parcel is not None:
        keep &= _fits(columns, where.parcel)[columns.limits_id[rows]]
    if where.open_at is not None:
        keep &= _open(columns, rows, keep, where.open_at)
    return keep


def _one_of(values: np.ndarray, wanted: list[int]) -> np.ndarray:
    return np.isin(values, np.asarray(wanted, dtype=values.dtype))


def _fits(columns: PointColumns, parcel: Parcel) -> np.ndarray:
    sides = parcel.sides_cm
    return np.fromiter((limits.fits(parcel.weight_g, sides) for limits in columns.limits), bool, len(columns.limits))


def _open(columns: PointColumns, rows: np.ndarray, keep: np.ndarray, at: datetime) -> np.ndarray:
    result = np.zeros(rows.shape[0], dtype=bool)
    live = np.flatnonzero(keep)
    pairs = columns.hours_id[rows[live]].astype(np.int64) * len(columns.zones) + columns.zone_id[rows[live]]
    distinct, which = np.unique(pairs, return_inverse=True)
    answers = np.fromiter(
        (is_open(columns.hours[pair // len(columns.zones)], columns.zones[pair % len(columns.zones)], at) for pair in distinct.tolist()),
        bool,
        distinct.shape[0],
    )
    result[live] = answers[which]
    return result
