from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pickup_points.render import point_answer
from tests.pickup_points.factories import point

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "answered"),
    [
        ("77", "RU-TVE"),  # the demo networks' GeoNames admin1 code
        ("RU-48", "RU-MOW"),
        ("RU-SPE", "RU-SPE"),
        ("Москва", "Москва"),  # a name, as CDEK gives it, stays the network's own
        (None, None),
    ],
)
def test_a_points_region_is_answered_in_iso_3166_2_where_it_is_written_as_a_code(
    written: str | None, answered: str | None
) -> None:
    assert point_answer(point(region=written), NOW).region == answered
