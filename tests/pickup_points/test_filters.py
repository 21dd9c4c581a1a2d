from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from pickup_points.columns import PointColumns
from pickup_points.filters import PointFilter, matches
from pickup_points.hours import parse_hours
from pickup_points.model import Cell, Feature, Limits, PointType, Status
from router.core.models import Parcel
from tests.pickup_points.factories import point


def passing(points: list, where: PointFilter) -> list[str]:
    columns = PointColumns.from_points(points, np.arange(len(points)))
    return [p.code for p, ok in zip(points, matches(columns, np.arange(len(points)), where), strict=False) if ok]


def test_network_type_and_features_must_all_match() -> None:
    points = [
        point("a", network="x", type=PointType.PVZ, features=frozenset({Feature.FITTING_ROOM, Feature.CARD})),
        point("b", network="x", type=PointType.PVZ, features=frozenset({Feature.CARD})),
        point("c", network="y", type=PointType.PVZ, features=frozenset({Feature.FITTING_ROOM, Feature.CARD})),
        point("d", network="x", type=PointType.LOCKER, features=frozenset({Feature.FITTING_ROOM, Feature.CARD})),
    ]
    where = PointFilter(
        networks=frozenset({"x"}),
        types=frozenset({PointType.PVZ}),
        features=frozenset({Feature.FITTING_ROOM, Feature.CARD}),
    )
    assert passing(points, where) == ["a"]
    assert passing(points, PointFilter(networks=frozenset({"x", "y"}))) == ["a", "b", "c", "d"]


def test_closed_points_are_left_out_unless_asked_for() -> None:
    points = [point("open"), point("shut", status=Status.TEMPORARILY_CLOSED)]
    assert passing(points, PointFilter()) == ["open"]
    assert passing(points, PointFilter(statuses=frozenset(Status))) == ["open", "shut"]


def test_parcel_must_fit_weight_sides_in_any_orientation_and_a_locker_cell() -> None:
    points = [
        point("light", limits=Limits(max_weight_g=1000)),
        point("small", limits=Limits(max_sides_cm=(40.0, 30.0, 20.0))),
        point(
            "cells",
            type=PointType.LOCKER,
            limits=Limits(max_weight_g=15000, cells=(Cell((64.0, 36.0, 9.0)), Cell((64.0, 36.0, 19.0)))),
        ),
        point("tiny-cells", type=PointType.LOCKER, limits=Limits(cells=(Cell((40.0, 30.0, 9.0)),))),
        point("any"),
    ]
    # 10 x 35 x 15 sorted is 35 x 15 x 10: within 40x30x20 and the 64x36x19 cell, not 40x30x9.
    parcel = Parcel(weight_g=1200, length_cm=10, width_cm=35, height_cm=15)
    assert passing(points, PointFilter(parcel=parcel)) == ["small", "cells", "any"]
    flat = Parcel(weight_g=500, length_cm=30, width_cm=8, height_cm=39)
    assert passing(points, PointFilter(parcel=flat)) == ["light", "small", "cells", "tiny-cells", "any"]


def test_open_at_an_instant_uses_each_points_own_time_zone() -> None:
    nine_to_six = parse_hours("Mo-Su 09:00-18:00")
    points = [
        point("kaliningrad", timezone="Europe/Kaliningrad", hours=nine_to_six),
        point("moscow", timezone="Europe/Moscow", hours=nine_to_six),
        point("novosibirsk", timezone="Asia/Novosibirsk", hours=nine_to_six),
        point("anadyr", timezone="Asia/Anadyr", hours=nine_to_six),
        point("holiday", timezone="Europe/Moscow", hours=parse_hours("Mo-Su 09:00-18:00; 2026-03-02 off")),
        point("night", timezone="Europe/Moscow", hours=parse_hours("Su 22:00-08:00")),
    ]
    # 06:30 UTC on Monday: 08:30 Kaliningrad, 09:30 Moscow, 13:30 Novosibirsk, 18:30 Anadyr.
    at = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    assert passing(points, PointFilter(open_at=at)) == ["moscow", "novosibirsk"]
    # 04:30 UTC: 07:30 Moscow, still inside Sunday night's span.
    early = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
    assert "night" in passing(points, PointFilter(open_at=early))


def test_open_at_a_wall_time_means_that_time_at_every_point() -> None:
    nine_to_six = parse_hours("Mo-Su 09:00-18:00")
    points = [
        point("k", timezone="Europe/Kaliningrad", hours=nine_to_six),
        point("a", timezone="Asia/Anadyr", hours=nine_to_six),
    ]
    assert passing(points, PointFilter(open_at=datetime(2026, 3, 2, 10, 0))) == ["k", "a"]
    assert passing(points, PointFilter(open_at=datetime(2026, 3, 2, 19, 0))) == []


def test_open_at_answers_each_minute_afresh_for_the_same_table() -> None:
    # Answers are kept per minute: the second before closing and closing time itself differ,
    # whichever is asked first, and another table in the same minute gets its own answers.
    from pickup_points.filters import open_at

    nine_to_six = parse_hours("Mo-Su 09:00-18:00")
    points = [
        point("m", timezone="Europe/Moscow", hours=nine_to_six),
        point("n", timezone="Asia/Novosibirsk", hours=nine_to_six),
    ]
    columns = PointColumns.from_points(points, np.arange(len(points)))
    rows = np.arange(len(points))
    last_second = datetime(2026, 3, 2, 14, 59, 59, tzinfo=UTC)  # 17:59:59 in Moscow
    closing = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert open_at(columns, rows, last_second).tolist() == [True, False]
    assert open_at(columns, rows, closing).tolist() == [False, False]
    assert open_at(columns, rows, last_second.replace(second=1)).tolist() == [True, False]
    night = [point("m", timezone="Europe/Moscow", hours=parse_hours("Mo-Su 18:00-23:00"))]
    other = PointColumns.from_points(night, np.arange(1))
    assert open_at(other, np.arange(1), closing).tolist() == [True]
    assert open_at(columns, rows, datetime(2026, 3, 2, 17, 59, 59)).tolist() == [True, True]  # wall time at each point
