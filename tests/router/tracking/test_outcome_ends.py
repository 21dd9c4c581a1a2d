"""The ends of a tracked shipment's outcome, as delivery history keys its lanes."""

from __future__ import annotations

import pytest

from router.core.models import Place
from router.history.outcomes import Coordinates
from router.tracking.tracker import outcome_end


def place(region: str | None, country: str = "RU") -> Place:
    return Place(55.75, 37.62, country, "Москва", region, "Europe/Moscow")


@pytest.mark.parametrize(
    ("region", "end"),
    [
        ("RU-MOW", "RU-MOW"),
        # Booked to a demo pickup point before points kept ISO codes: its GeoNames admin1 code.
        ("48", "RU-MOW"),
        ("RU-48", "RU-MOW"),
        # Booked to a CDEK point before: its region's name, which the coordinates stand in for.
        ("Москва", Coordinates(55.75, 37.62)),
        ("Уфа", Coordinates(55.75, 37.62)),
        (None, Coordinates(55.75, 37.62)),
    ],
)
def test_a_shipment_booked_before_iso_regions_is_learned_on_an_iso_lane(
    region: str | None, end: str | Coordinates
) -> None:
    assert outcome_end(place(region)) == end


def test_another_countrys_region_is_kept_as_written() -> None:
    assert outcome_end(place("UA-12", "UA")) == "UA-12"
