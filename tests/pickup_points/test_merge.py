from __future__ import annotations

import pytest

from pickup_points.merge import merge_sites, normalise_address
from tests.pickup_points.factories import point

# About 11 m of latitude per 0.0001 degree.
NEAR = 0.0001
FAR = 0.0005  # ~55 m


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ул. Ленина, д. 5", "Ленина ул., 5"),
        ("улица Пушкина, 10к1", "ул Пушкина 10 к1"),
        ("Москва, ул. Тверская, 7", "Тверская улица, дом 7"),
        ("пр-т Мира, 12", "проспект мира 12"),
        ("ул. Семёновская, 3", "Семеновская ул, 3"),
    ],
)
def test_spellings_of_one_address_normalise_alike(a: str, b: str) -> None:
    assert normalise_address(a, "Москва") == normalise_address(b, "Москва")


@pytest.mark.parametrize(
    ("a", "b"),
    [("ул. Ленина, 5", "ул. Ленина, 7"), ("ул. Ленина, 5", "пр. Мира, 5"), ("ул. Ленина 5к1", "ул. Ленина 5к2")],
)
def test_different_addresses_stay_different(a: str, b: str) -> None:
    assert normalise_address(a) != normalise_address(b)


def test_two_networks_at_one_address_become_one_site() -> None:
    points = [
        point("1", 55.75, 37.62, network="magistral", address="ул. Ленина, д. 5"),
        point("9", 55.75 + NEAR, 37.62, network="domovoy", address="Ленина ул., 5"),
        point("2", 55.76, 37.62, network="magistral", address="ул. Ленина, 7"),
    ]
    sites, site_of = merge_sites(points)
    assert len(sites) == 2
    assert site_of[0] == site_of[1] != site_of[2]
    shared = sites[site_of[0]]
    assert shared.networks == ("domovoy", "magistral")
    assert shared.point_ids == ("domovoy:9", "magistral:1")
    assert sites[site_of[2]].point_ids == ("magistral:2",)


def test_same_address_too_far_apart_stays_apart() -> None:
    points = [
        point("1", 55.75, 37.62, address="ул. Ленина, 5"),
        point("2", 55.75 + FAR, 37.62, network="other", address="ул. Ленина, 5"),
    ]
    sites, _ = merge_sites(points)
    assert len(sites) == 2


def test_neighbours_with_different_addresses_stay_apart() -> None:
    points = [
        point("1", 55.75, 37.62, address="ул. Ленина, 5"),
        point("2", 55.75, 37.62, network="other", address="ул. Ленина, 5а"),
    ]
    sites, _ = merge_sites(points)
    assert len(sites) == 2


def test_three_networks_chain_into_one_site_across_180() -> None:
    points = [
        point("a", 64.9, 179.99995, network="x", address="ул. Отке, 1", city="Анадырь"),
        point("b", 64.9, -179.99995, network="y", address="Отке ул 1", city="Анадырь"),
        point("c", 64.9 + NEAR, -179.99995, network="z", address="г. Анадырь, улица Отке, дом 1", city="Анадырь"),
    ]
    sites, site_of = merge_sites(points)
    assert len(sites) == 1 and sites[0].networks == ("x", "y", "z")
    assert abs(abs(sites[0].lon) - 180.0) < 0.001
