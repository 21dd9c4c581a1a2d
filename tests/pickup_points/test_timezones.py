import pytest

from pickup_points.timezones import TimezoneLookup


@pytest.fixture(scope="module")
def zone_for() -> TimezoneLookup:
    return TimezoneLookup()


@pytest.mark.parametrize(
    ("lat", "lon", "zone"),
    [
        (55.75, 37.62, "Europe/Moscow"),
        (54.71, 20.51, "Europe/Kaliningrad"),
        (55.03, 82.92, "Asia/Novosibirsk"),
        (43.12, 131.89, "Asia/Vladivostok"),
        (53.02, 158.65, "Asia/Kamchatka"),
        (64.73, 177.51, "Asia/Anadyr"),
        (66.32, -179.12, "Asia/Anadyr"),  # Egvekinot, east of 180°
    ],
)
def test_points_get_their_regions_zone(zone_for: TimezoneLookup, lat: float, lon: float, zone: str) -> None:
    assert zone_for(lat, lon) == zone


def test_a_point_off_the_drawn_coast_gets_the_nearest_towns_zone_not_a_nautical_one(zone_for: TimezoneLookup) -> None:
    # In the Gulf of Anadyr the polygons answer Etc/GMT+12, twenty-four hours from local time.
    assert zone_for(64.7, -179.5) == "Asia/Anadyr"
