"""Places as people mean them: ISO 3166-2 regions, suggestions that start with what was typed,
and a city that contradicts its coordinates."""

from __future__ import annotations

import pytest

from router.core.errors import InvalidRequest, PlaceNotFound
from router.core.models import Location, Place
from router.quoting.places import Places


@pytest.fixture(scope="module")
def places() -> Places:
    return Places()


def resolve(places: Places, **fields: object) -> Place:
    return places.resolve(Location(**fields), "destination")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("city", "region"),
    [
        ("Москва", "RU-MOW"),
        ("Химки", "RU-MOS"),
        ("Санкт-Петербург", "RU-SPE"),
        ("Новосибирск", "RU-NVS"),
        ("Калининград", "RU-KGD"),
        ("Анадырь", "RU-CHU"),
        ("Липецк", "RU-LIP"),
    ],
)
def test_a_place_carries_its_iso_3166_2_region(places: Places, city: str, region: str) -> None:
    assert resolve(places, city=city).region == region


def test_a_place_by_coordinates_carries_its_iso_region_too(places: Places) -> None:
    assert resolve(places, lat=55.7539, lon=37.6208).region == "RU-MOW"


def test_a_place_where_no_iso_code_is_known_keeps_its_admin1_code_after_the_country(places: Places) -> None:
    assert resolve(places, city="Kyiv", country="UA").region == "UA-12"


def test_novos_suggests_novosibirsk_first(places: Places) -> None:
    [first, *_] = places.search("Новос", limit=5)

    assert first.name_ru == "Новосибирск"


def test_cities_found_by_their_own_name_come_before_those_found_by_another_spelling(places: Places) -> None:
    suggestions = places.search("Новос", limit=5, country=None)
    own = [(s.name_ru or "").startswith("Новос") or s.name.startswith("Novos") for s in suggestions]

    # Ukraine's Samar is found by "Новоселиця" among its spellings: it follows every city whose
    # own name starts with the query.
    assert own == sorted(own, reverse=True)
    assert own[0] and not own[-1]


def test_suggestions_stay_in_russia_unless_asked_otherwise(places: Places) -> None:
    assert {s.country for s in places.search("Новос", limit=10)} == {"RU"}
    assert "UA" in {s.country for s in places.search("Новос", limit=10, country=None)}
    assert {s.country for s in places.search("Mos", limit=5, country="US")} == {"US"}


def test_a_suggestion_names_its_region_in_both_languages(places: Places) -> None:
    [moscow] = places.search("Москва", limit=1)

    assert (moscow.region, moscow.region_name, moscow.region_name_ru) == ("RU-MOW", "Moscow", "Москва")


def test_a_city_far_from_its_coordinates_is_refused_naming_both(places: Places) -> None:
    with pytest.raises(InvalidRequest) as caught:
        resolve(places, city="Новосибирск", lat=55.0, lon=37.0)

    assert not isinstance(caught.value, PlaceNotFound)
    assert [e.path for e in caught.value.errors] == ["destination.city", "destination.lat", "destination.lon"]


def test_coordinates_within_a_city_reach_stand_with_its_name(places: Places) -> None:
    # Zelenograd is part of Moscow, 37 km from the Kremlin.
    place = resolve(places, city="Москва", lat=55.98, lon=37.18)

    assert place.region == "RU-MOW"
    assert (place.lat, place.lon) == (55.98, 37.18)


def test_a_city_not_in_the_data_leaves_the_coordinates_to_say(places: Places) -> None:
    place = resolve(places, city="Верхние Пупсы", lat=55.0, lon=82.9)

    assert place.region == "RU-NVS"
