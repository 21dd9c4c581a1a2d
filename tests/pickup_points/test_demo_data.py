"""The bundled demo networks: they load cleanly and meet the acceptance cases."""

from __future__ import annotations

import pytest

from pickup_points.index import BBox
from pickup_points.search import PickupDirectory
from pickup_points.storage import load_points
from router.core.geo import haversine_km
from router.core.settings import DEFAULT_DATA_DIR

DEMO = DEFAULT_DATA_DIR / "pickup_points"


@pytest.fixture(scope="module")
def directory() -> PickupDirectory:
    loaded = load_points(DEMO)
    assert loaded.errors == ()
    return PickupDirectory.build(loaded.points)


def test_demo_file_is_small_and_every_network_has_thousands_of_points(directory: PickupDirectory) -> None:
    assert (DEMO / "demo_points.csv").stat().st_size < 5_000_000
    stats = directory.stats()
    assert {n.network: n.points >= 1000 for n in stats.networks} == {
        "domovoy": True,
        "magistral": True,
        "vestnik": True,
    }
    assert stats.shared_sites >= 100


def test_moscow_nearest_twenty_come_from_several_networks_nearest_first(directory: PickupDirectory) -> None:
    found = directory.nearest(55.75, 37.62, limit=20).results
    assert len(found) == 20
    assert len({n.point.network for n in found}) >= 2
    distances = [n.distance_km for n in found]
    assert distances == sorted(distances)
    expected = sorted(
        float(haversine_km(55.75, 37.62, p.lat, p.lon)) for p in directory.points if p.status.value == "active"
    )[:20]
    assert distances == pytest.approx(expected)


def test_anadyr_radius_reaches_across_180_nearest_first(directory: PickupDirectory) -> None:
    found = directory.nearest(64.73, 177.51, limit=50, radius_km=300).results
    assert any(n.point.lon < 0 for n in found) and any(n.point.lon > 0 for n in found)
    assert all(n.distance_km <= 300 for n in found)
    assert [n.distance_km for n in found] == sorted(n.distance_km for n in found)
    view = directory.map_view(BBox(175.0, 62.0, -175.0, 68.0), zoom=12)
    lons = [s.lon for s in view.sites] + [c.lon for c in view.clusters]
    assert any(x < 0 for x in lons) and any(x > 0 for x in lons)
