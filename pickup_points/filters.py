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
from router.core.models import Parcel


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
        keep &= _one_of(columns.status_id[rows], len(STATUSES), [STATUSES.index(s) for s in where.statuses])
    if where.networks:
        wanted = [i for i, name in enumerate(columns.networks) if name in where.networks]
        keep &= _one_of(columns.network_id[rows], len(columns.networks), wanted)
    if where.types:
        keep &= _one_of(columns.type_id[rows], len(TYPES), [TYPES.index(t) for t in where.types])
    if where.features:
        required = feature_bits(where.features)
        keep &= (columns.feature_bits[rows] & required) == required
    if where.parcel is not None:
        keep &= _fits(columns, where.parcel)[columns.limits_id[rows]]
    if where.open_at is not None:
        keep &= open_at(columns, rows, where.open_at, among=keep)
    return keep


def _one_of(ids: np.ndarray, table_size: int, wanted: list[int]) -> np.ndarray:
    allowed = np.zeros(table_size, dtype=bool)
    allowed[wanted] = True
    picked: np.ndarray = allowed[ids]
    return picked


def _fits(columns: PointColumns, parcel: Parcel) -> np.ndarray:
    sides = parcel.sides_cm
    return np.fromiter((limits.fits(parcel.weight_g, sides) for limits in columns.limits), bool, len(columns.limits))


class _MinuteAnswers:
    """Open-or-not per (hours, zone) pair for one table and one minute.

    Opening hours are kept to the minute and every zone in use is a whole number of minutes
    off UTC, so within one minute the answer for a pair cannot change; searches in the same
    minute ask about the same few schedules again and again."""

    __slots__ = ("columns", "minute", "answers")

    def __init__(self) -> None:
        self.columns: PointColumns | None = None
        self.minute: datetime | None = None
        self.answers: dict[int, bool] = {}

    def for_(self, columns: PointColumns, at: datetime) -> dict[int, bool]:
        minute = at.replace(second=0, microsecond=0)
        # `is`, not `==`: the table is the same object for as long as the service holds it.
        # (A naive minute never equals an aware one.)
        if columns is not self.columns or minute != self.minute:
            self.columns, self.minute, self.answers = columns, minute, {}
        return self.answers


_minute_answers = _MinuteAnswers()


def open_at(columns: PointColumns, rows: np.ndarray, at: datetime, among: np.ndarray | None = None) -> np.ndarray:
    """Whether each row is open at `at`; rows outside `among` are answered False unasked."""
    result = np.zeros(rows.shape[0], dtype=bool)
    live = np.arange(rows.shape[0]) if among is None else np.flatnonzero(among)
    zones = len(columns.zones)
    pairs = columns.hours_id[rows[live]].astype(np.int64) * zones + columns.zone_id[rows[live]]
    distinct, which = np.unique(pairs, return_inverse=True)
    known = _minute_answers.for_(columns, at)
    answers = np.empty(distinct.shape[0], dtype=bool)
    for i, pair in enumerate(distinct.tolist()):
        answer = known.get(pair)
        if answer is None:
            answer = known[pair] = is_open(columns.hours[pair // zones], columns.zones[pair % zones], at)
        answers[i] = answer
    result[live] = answers[which]
    return result
