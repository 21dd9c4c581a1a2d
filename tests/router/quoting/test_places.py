from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from router.core.errors import ConfigError, PlaceNotFound
from router.core.geo import distance_km
from router.core.models import Location, Place
from router.quoting.places import POSTAL_PREFIXES, Places

RED_SQUARE = (55.7539, 37.6208)
PALACE_SQUARE = (59.9390, 30.3158)
NOVOSIBIRSK_STATION = (55.0353, 82.8977)
NIZHNY_KREMLIN = (56.3287, 44.0020)


@pytest.fixture(scope="module")
def places() -> Places:
    return Places()


def km_between(place: Place, lat: float, lon: float) -> float:
    return distance_km(place.lat, place.lon, lat, lon)


def resolve(places: Places, **fields: object) -> Place:
    return places.resolve(Location(**fields), "destination")  # type: ignore[arg-type]


def not_found(places: Places, **fields: object) -> tuple[str, str]:
    with pytest.raises(PlaceNotFound) as caught:
        resolve(places, **fields)
    [error] = caught.value.errors
    return error.path, error.message


@pytest.mark.parametrize("spelling", ["Moskva", "Москва", "moscow", "МОСКВА", "г. Москва", "  Moscow "])
def test_moscow_resolves_from_russian_and_latin_spellings(places: Places, spelling: str) -> None:
    place = resolve(places, city=spelling)

    assert place.country == "RU"
    assert place.timezone == "Europe/Moscow"
    assert km_between(place, *RED_SQUARE) < 10
    assert place == resolve(places, city="Moscow")


@pytest.mark.parametrize(
    "spelling",
    ["Санкт-Петербург", "санкт петербург", "St. Petersburg", "Saint Petersburg", "Sankt-Peterburg"],
)
def test_st_petersburg_resolves_from_every_common_spelling(places: Places, spelling: str) -> None:
    place = resolve(places, city=spelling)

    assert place.country == "RU"
    assert km_between(place, *PALACE_SQUARE) < 10
    assert place == resolve(places, city="Санкт-Петербург")


def test_nizhny_novgorod_resolves_from_its_russian_name(places: Places) -> None:
    place = resolve(places, city="Нижний Новгород")

    assert km_between(place, *NIZHNY_KREMLIN) < 10
    assert place == resolve(places, city="Nizhny Novgorod") == resolve(places, city="нижний-новгород")


def test_novosibirsk_resolves_by_russian_name_into_its_own_time_zone(places: Places) -> None:
    place = resolve(places, city="Новосибирск")

    assert place.timezone == "Asia/Novosibirsk"
    assert km_between(place, *NOVOSIBIRSK_STATION) < 10


def test_yo_and_ye_are_the_same_letter(places: Places) -> None:
    assert resolve(places, city="Орёл") == resolve(places, city="Орел")


def test_a_bare_name_prefers_russia_and_a_given_country_wins(places: Places) -> None:
    russian = resolve(places, city="Moscow")
    american = resolve(places, city="Moscow", country="us")

    assert russian.country == "RU"
    assert american.country == "US"
    assert american.timezone.startswith("America/")


def test_a_name_shared_within_the_country_resolves_to_the_most_populous(places: Places) -> None:
    kirovs = [s for s in places.search("Kirov", limit=50, country="RU") if s.name == "Kirov"]
    assert len(kirovs) > 1, "the data should hold more than one Kirov"
    largest = max(kirovs, key=lambda s: s.population)

    place = resolve(places, city="Kirov")

    assert (place.lat, place.lon) == (largest.lat, largest.lon)


def test_a_name_outside_the_given_country_is_not_found(places: Places) -> None:
    path, message = not_found(places, city="Paris", country="RU")

    assert path == "destination.city"
    assert "Paris" in message and "RU" in message


def test_unknown_city_names_the_city_field(places: Places) -> None:
    path, message = not_found(places, city="Nowhere-on-Nothing")

    assert path == "destination.city"
    assert "Nowhere-on-Nothing" in message


def test_blank_city_is_reported_as_empty(places: Places) -> None:
    assert not_found(places, city="   ")[0] == "destination.city"


def test_nothing_to_resolve_names_the_location_itself(places: Places) -> None:
    assert not_found(places)[0] == "destination"
    assert not_found(places, address="ул. Ленина, 1", country="RU")[0] == "destination"


def test_unknown_country_code_names_the_country_field(places: Places) -> None:
    assert not_found(places, city="Moscow", country="ZZ")[0] == "destination.country"


@pytest.mark.parametrize(
    ("lat", "lon", "timezone"),
    [
        (55.03, 82.92, "Asia/Novosibirsk"),
        (54.71, 20.51, "Europe/Kaliningrad"),
        (64.73, 177.51, "Asia/Anadyr"),
        (43.12, 131.89, "Asia/Vladivostok"),
    ],
)
def test_coordinates_keep_their_values_and_take_the_nearest_citys_zone(
    places: Places, lat: float, lon: float, timezone: str
) -> None:
    place = resolve(places, lat=lat, lon=lon)

    assert (place.lat, place.lon) == (lat, lon)
    assert place.timezone == timezone
    assert place.country == "RU"
    assert place.city and place.region


def test_nearest_city_is_found_across_the_antimeridian(places: Places) -> None:
    # East of 180° in Chukotka: Anadyr is ~170 km away across the line, Alaska's towns
    # are hundreds of km the other way, and flat lat/lon would see Anadyr 356° away.
    place = resolve(places, lat=65.0, lon=-179.0)

    assert place.timezone == "Asia/Anadyr"
    assert place.country == "RU"


def test_coordinates_in_a_big_city_district_resolve_to_the_city(places: Places) -> None:
    yasenevo = resolve(places, lat=55.606, lon=37.533)  # southern Moscow

    assert yasenevo.city == resolve(places, city="Москва").city
    assert yasenevo.region == resolve(places, city="Москва").region


def test_coordinates_in_a_neighbouring_town_keep_that_town(places: Places) -> None:
    khimki = resolve(places, lat=55.897, lon=37.430)  # just past Moscow's ring road

    assert khimki.city == resolve(places, city="Химки").city
    assert khimki.region != resolve(places, city="Москва").region


def test_coordinates_with_a_country_stay_in_that_country(places: Places) -> None:
    # Narva-Ivangorod: the nearest city over the river is Estonian.
    assert resolve(places, lat=59.378, lon=28.19, country="RU").country == "RU"
    assert resolve(places, lat=59.378, lon=28.19, country="EE").country == "EE"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"lat": 91.0, "lon": 30.0}, "destination.lat"),
        ({"lat": -90.5, "lon": 30.0}, "destination.lat"),
        ({"lat": 55.0, "lon": 180.5}, "destination.lon"),
        ({"lat": math.nan, "lon": 30.0}, "destination.lat"),
        ({"lat": 55.0}, "destination.lon"),
        ({"lon": 37.0}, "destination.lat"),
        ({"lat": "55", "lon": 37.0}, "destination.lat"),
        ({"lat": None, "lon": None, "city": 42}, "destination.city"),
        ({"lat": None, "lon": None, "postal_code": 630090}, "destination.postal_code"),
    ],
)
def test_bad_values_name_the_bad_field(places: Places, fields: dict[str, object], path: str) -> None:
    assert not_found(places, **{"city": "Moscow", **fields})[0] == path


def test_coordinates_win_over_postal_code_and_a_city_they_lie_in(places: Places) -> None:
    place = resolve(
        places,
        lat=55.03,
        lon=82.92,
        postal_code="101000",
        city="Новосибирск",
        address="Красный проспект, 1",
    )

    assert place.timezone == "Asia/Novosibirsk"
    assert place.postal_code == "101000"
    assert place.address == "Красный проспект, 1"


@pytest.mark.parametrize(
    ("postal_code", "city"),
    [
        ("630090", "Новосибирск"),
        ("101000", "Москва"),
        ("125009", "Москва"),
        ("190000", "Санкт-Петербург"),
    ],
)
def test_postal_codes_of_major_cities_resolve(places: Places, postal_code: str, city: str) -> None:
    place = resolve(places, postal_code=postal_code)
    by_name = resolve(places, city=city)

    assert (place.lat, place.lon, place.timezone) == (by_name.lat, by_name.lon, by_name.timezone)
    assert place.postal_code == postal_code


def test_postal_code_wins_over_city_and_is_kept_as_given(places: Places) -> None:
    place = resolve(places, postal_code="630 090", city="Moscow")

    assert place.timezone == "Asia/Novosibirsk"
    assert place.postal_code == "630 090"


def test_postal_code_outside_the_table_falls_back_to_the_city(places: Places) -> None:
    place = resolve(places, postal_code="999999", city="Казань")

    assert place == resolve(places, city="Казань", postal_code="999999")
    assert place.postal_code == "999999"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"postal_code": "999999"}, "major cities"),
        ({"postal_code": "12345"}, "6 digits"),
        ({"postal_code": "63009O", "city": "Moscow"}, "6 digits"),
        ({"postal_code": "10001", "country": "US"}, "RU only"),
    ],
)
def test_unresolvable_postal_code_names_the_postal_code(places: Places, fields: dict[str, object], reason: str) -> None:
    path, message = not_found(places, **fields)

    assert path == "destination.postal_code"
    assert reason in message


def test_every_bundled_postal_prefix_points_at_a_russian_city(places: Places) -> None:
    text = POSTAL_PREFIXES.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line[:1].isdigit()]
    assert len(lines) >= 50

    for line in lines:
        prefix = line.split(",")[0]
        assert resolve(places, postal_code=prefix + "000").country == "RU"


@pytest.mark.parametrize(
    ("rows", "path"),
    [
        ("630,1496747,Novosibirsk\n63,524901,Moscow\n", "row 2.prefix"),
        ("630,1496747,Novosibirsk\n630,524901,Moscow\n", "row 2.prefix"),
        ("630,Novosibirsk,1496747\n", "row 1.geonameid"),
    ],
)
def test_malformed_postal_table_refuses_to_load(tmp_path: Path, rows: str, path: str) -> None:
    table = tmp_path / "prefixes.csv"
    table.write_text("# a comment\nprefix,geonameid,city\n" + rows, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        Places(postal_prefixes=table)

    assert caught.value.path == path
    assert caught.value.source == str(table)


def test_postal_table_pointing_at_an_unknown_city_refuses_to_load(tmp_path: Path) -> None:
    table = tmp_path / "prefixes.csv"
    table.write_text("prefix,geonameid,city\n630,999999999,Nowhere\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        Places(postal_prefixes=table)

    assert caught.value.path == "row 1.geonameid"


def names_of(suggestions: list) -> list[str]:  # type: ignore[type-arg]
    return [s.name for s in suggestions]


@pytest.mark.parametrize("prefix", ["Нов", "Nov", "нОв"])
def test_autocomplete_offers_novosibirsk_early(places: Places, prefix: str) -> None:
    assert "Novosibirsk" in names_of(places.search(prefix, limit=5))


def test_autocomplete_puts_the_most_populous_first(places: Places) -> None:
    suggestions = places.search("Sa", limit=10)

    assert len(suggestions) == 10
    populations = [s.population for s in suggestions]
    assert populations == sorted(populations, reverse=True)


def test_autocomplete_matches_every_spelling_of_a_city_once(places: Places) -> None:
    by_latin = places.search("Sankt-Pet", limit=3)
    by_russian = places.search("Санкт-Пет", limit=3)

    assert by_latin[0] == by_russian[0]
    assert names_of(places.search("Saint Petersburg", limit=20)).count(by_latin[0].name) == 1


def test_autocomplete_gives_the_russian_name(places: Places) -> None:
    [moscow] = places.search("Moscow", limit=1, country="RU")
    [novosibirsk] = places.search("Novosibirsk", limit=1)
    [kazan] = places.search("Kazan", limit=1, country="RU")
    [rostov] = places.search("Rostov-on-Don", limit=1)

    assert moscow.name_ru == "Москва"
    assert novosibirsk.name_ru == "Новосибирск"
    assert kazan.name_ru == "Казань"
    assert rostov.name_ru == "Ростов-на-Дону"


def test_autocomplete_can_be_limited_to_a_country(places: Places) -> None:
    suggestions = places.search("Mos", limit=10, country="us")

    assert suggestions
    assert {s.country for s in suggestions} == {"US"}
    assert places.search("Mos", country="ZZ") == []


@pytest.mark.parametrize("query", ["", "   ", "-", "г. "])
def test_autocomplete_of_nothing_is_empty(places: Places, query: str) -> None:
    assert places.search(query) == []


def test_autocomplete_respects_the_limit(places: Places) -> None:
    assert len(places.search("a", limit=3)) == 3
    assert places.search("a", limit=0) == []


def test_resolving_by_name_is_a_lookup_not_a_scan(places: Places) -> None:
    started = time.perf_counter()
    for _ in range(1000):
        resolve(places, city="Новосибирск")
        resolve(places, postal_code="630090")
    per_call = (time.perf_counter() - started) / 2000

    # Scanning the 30,000 cities costs milliseconds; a lookup costs microseconds.
    assert per_call < 200e-6
