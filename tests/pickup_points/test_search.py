from __future__ import annotations

from decimal import Decimal

import msgspec
import numpy as np
import orjson
import pytest

from pickup_points.clustering import CELL_PX, MAX_VIEW_PX, cells_per_side, mercator_x, mercator_y
from pickup_points.filters import PointFilter
from pickup_points.index import BBox
from pickup_points.model import PointType
from pickup_points.search import PickupDirectory
from router.core.geo import haversine_km
from router.core.models import Offer, Place
from tests.pickup_points.factories import point
from tests.pickup_points.test_pricing import offer


def test_nearest_reports_haversine_distance_and_the_site() -> None:
    points = [
        point("a", 55.751, 37.62, network="x", address="ул. Ленина, 5"),
        point("b", 55.751, 37.62005, network="y", address="Ленина ул., д. 5"),
        point("c", 55.80, 37.70, network="x"),
    ]
    directory = PickupDirectory.build(points)
    found = directory.nearest(55.75, 37.62, limit=3).results
    assert [n.point.id for n in found][:2] in (["x:a", "y:b"], ["y:b", "x:a"])
    for n in found:
        assert n.distance_km == pytest.approx(float(haversine_km(55.75, 37.62, n.point.lat, n.point.lon)), rel=1e-9)
    assert found[0].site_id == found[1].site_id != found[2].site_id
    assert directory.site_of("x:a").networks == ("x", "y")


async def test_nearest_priced_asks_once_per_carrier_and_city() -> None:
    asked: list[str] = []

    async def quote_for(carrier: str, where: Place) -> list[Offer]:
        asked.append(carrier)
        return [offer(carrier, "199")]

    points = [point(str(i), 55.75 + i * 0.001, 37.62, network="x" if i % 2 else "y") for i in range(10)]
    directory = PickupDirectory.build(points)
    result = await directory.nearest_priced(55.75, 37.62, 10, quote_for)
    assert sorted(asked) == ["x", "y"]
    assert all(n.offer is not None and n.offer.price.total == Decimal("199.00") for n in result.results)


def test_get_by_id() -> None:
    directory = PickupDirectory.build([point("a"), point("b", network="y")])
    assert directory.get("y:b").network == "y"
    assert directory.get("nope:1") is None


def dense_directory(n: int = 5000) -> tuple[PickupDirectory, list]:
    rng = np.random.default_rng(9)
    points = [
        point(str(i), float(a), float(b))
        for i, (a, b) in enumerate(zip(rng.normal(55.75, 0.2, n), rng.normal(37.6, 0.3, n), strict=False))
    ]
    return PickupDirectory.build(points), points


def test_map_view_counts_every_point_in_the_box_once() -> None:
    directory, points = dense_directory()
    box = BBox(37.2, 55.5, 38.0, 56.0)
    view = directory.map_view(box, zoom=9)
    inside = sum(1 for p in points if box.south <= p.lat <= box.north and box.west <= p.lon <= box.east)
    assert view.total == inside
    assert sum(c.count for c in view.clusters) + sum(len(s.point_ids) for s in view.sites) == inside
    assert all(c.count > 1 for c in view.clusters)


def test_map_view_cells_are_independent_computation_of_the_mercator_grid() -> None:
    directory, points = dense_directory(2000)
    box = BBox(36.0, 54.0, 39.5, 57.5)
    zoom = 7
    view = directory.map_view(box, zoom)
    side = cells_per_side(view.zoom)
    cells: dict[tuple[int, int], int] = {}
    for p in points:
        if box.south <= p.lat <= box.north and box.west <= p.lon <= box.east:
            key = (int(mercator_y(p.lat) * side), int(mercator_x(p.lon) * side))
            cells[key] = cells.get(key, 0) + 1
    assert sorted(c.count for c in view.clusters) == sorted(v for v in cells.values() if v > 1)
    assert len(view.sites) == sum(1 for v in cells.values() if v == 1)


def test_a_huge_box_at_street_zoom_is_answered_at_a_coarser_zoom() -> None:
    directory, _ = dense_directory()
    view = directory.map_view(BBox(-180.0, 41.0, 180.0, 82.0), zoom=16)
    assert view.zoom < 16
    assert len(view.clusters) + len(view.sites) <= (MAX_VIEW_PX // CELL_PX + 1) ** 2


def test_street_zoom_shows_individual_sites_with_shared_ones_as_one_marker() -> None:
    points = [
        point("a", 55.751, 37.62, network="x", address="ул. Ленина, 5"),
        point("b", 55.751, 37.62005, network="y", address="Ленина ул., д. 5"),
        point("c", 55.752, 37.63, network="x", address="ул. Мира, 1"),
    ]
    directory = PickupDirectory.build(points)
    view = directory.map_view(BBox(37.61, 55.745, 37.64, 55.755), zoom=17)
    assert view.clusters == ()
    assert sorted(s.networks for s in view.sites) == [("x",), ("x", "y")]
    only_y = directory.map_view(
        BBox(37.61, 55.745, 37.64, 55.755), zoom=17, where=PointFilter(networks=frozenset({"y"}))
    )
    assert [s.point_ids for s in only_y.sites] == [("y:b",)]


def test_anadyr_bbox_across_180_on_a_map() -> None:
    points = [point("w", 64.9, 179.5), point("e", 64.9, -179.5, type=PointType.LOCKER), point("far", 64.9, 100.0)]
    directory = PickupDirectory.build(points)
    view = directory.map_view(BBox(175.0, 63.0, -175.0, 67.0), zoom=10)
    assert sorted(s.id for s in view.sites) == ["net:e", "net:w"]


def test_a_list_answer_says_offer_only_when_priced_and_null_when_a_point_has_none() -> None:
    from pickup_points.answers import PickupPointList
    from pickup_points.render import nearest_answer
    from pickup_points.search import Nearby, Nearest
    from router.core.codec import encode
    from router.core.models import CarrierError

    points = [
        point(str(i), 55.75 + i * 0.003, 37.62, network="x" if i % 2 else "y", name=f"Пункт «{i}»") for i in range(6)
    ]
    directory = PickupDirectory.build(points)
    found = directory.nearest(55.75, 37.62, limit=6)
    plain = msgspec.json.decode(encode(nearest_answer(found, priced=False)), type=PickupPointList)
    assert all("offer" not in msgspec.to_builtins(p) for p in plain.points)
    priced = Nearest(
        tuple(
            Nearby(n.point, n.distance_km, n.site_id, not n.open_now, offer("x", "199.5") if i % 2 else None)
            for i, n in enumerate(found.results)
        ),
        (CarrierError("y", "timeout", "no answer"),),
    )
    body = orjson.loads(encode(nearest_answer(priced, priced=True)))
    assert body["points"][1]["offer"]["price"]["total"] == "199.50" and body["points"][0]["offer"] is None
    assert [p["open_now"] for p in body["points"]] == [not n.open_now for n in found.results]
    # Without the carriers' names the error is named by its code.
    assert body["errors"] == [
        {"carrier": "y", "carrier_name": "y", "carrier_name_ru": "y", "kind": "timeout", "message": "no answer"}
    ]
