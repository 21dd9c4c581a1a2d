"""Everything pickup_points refuses is caught by one root, PickupPointsError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pickup_points.errors import HoursError, ImportFormatError, PickupPointsError, PointsFileError
from pickup_points.hours import parse_hours
from pickup_points.importers import import_cdek, import_csv, import_geojson
from pickup_points.storage import load_points
from router.core.errors import ConfigError


@pytest.mark.parametrize(
    "read",
    [
        lambda: import_csv("code,address\n1,Somewhere\n", network="n"),
        lambda: import_geojson(b"not json", network="n"),
        lambda: import_cdek(b'{"items": 3}'),
    ],
)
def test_a_file_that_cannot_be_read_at_all_is_a_pickup_points_error(read: Callable[[], object]) -> None:
    with pytest.raises(PickupPointsError) as caught:
        read()
    assert isinstance(caught.value, ImportFormatError)


def test_hours_that_cannot_be_read_are_a_pickup_points_error_and_still_a_value_error() -> None:
    with pytest.raises(PickupPointsError) as caught:
        parse_hours("Mo-Fr 25:00-26:00")
    assert isinstance(caught.value, HoursError) and isinstance(caught.value, ValueError)


def test_a_broken_stored_file_is_a_pickup_points_error_that_still_stops_the_service_as_a_config_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.csv").write_text("not,the,header\n", encoding="utf-8")
    with pytest.raises(PickupPointsError) as caught:
        load_points(tmp_path)
    assert isinstance(caught.value, PointsFileError) and isinstance(caught.value, ConfigError)
    assert caught.value.source.endswith("broken.csv") and caught.value.path == "header"
