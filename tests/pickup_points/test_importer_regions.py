"""Regions as the importers keep them: ISO 3166-2, whichever way a file or CDEK writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from pickup_points.importers import import_cdek, import_csv, import_geojson
from pickup_points.render import point_answer
from tests.pickup_points.test_importers import cdek_point, zone_for

HEADER = "code,address,city,region,country,lat,lon,hours"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def one_row(region: str, country: str = "RU", lat: float = 55.75, lon: float = 37.62) -> str:
    return f"{HEADER}\nA1,ул. Ленина 1,Город,{region},{country},{lat},{lon},24/7\n"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("RU-NVS", "RU-NVS"),
        ("ru-spe", "RU-SPE"),
        ("77", "RU-TVE"),  # a GeoNames admin1 code, as the bundled demo networks carried them
        ("48", "RU-MOW"),  # Moscow in GeoNames' numbering, not Lipetsk as in Russia's
        ("RU-53", "RU-NVS"),  # the form delivery history used before
        ("Новосибирская обл.", "RU-NVS"),
        ("Москва", "RU-MOW"),
        ("Татарстан респ.", "RU-TA"),
        ("Moscow Oblast", "RU-MOS"),
        ("", None),
    ],
)
def test_a_region_written_as_an_iso_code_an_old_code_or_a_name_is_kept_in_iso_3166_2(
    written: str, kept: str | None
) -> None:
    result = import_csv(one_row(written), network="net", zone_for=zone_for)

    assert [p.region for p in result.points] == [kept]
    assert point_answer(result.points[0], NOW).region == kept


def test_a_russian_code_that_is_no_region_is_the_rows_error_naming_the_field() -> None:
    result = import_csv(one_row("RU-99") + "A2,ул. Мира 2,Город,99,RU,55.7,37.6,24/7\n", "net", zone_for=zone_for)

    assert result.points == ()
    assert [(e.line, e.field) for e in result.errors] == [(2, "region"), (3, "region")]
    assert "RU-99" in result.errors[0].reason


def test_a_name_no_table_knows_is_placed_by_the_points_coordinates() -> None:
    asked: list[tuple[str, float, float]] = []

    def region_at(country: str, lat: float, lon: float) -> str | None:
        asked.append((country, lat, lon))
        return "RU-NVS"

    placed = import_csv(one_row("Сибирь-матушка", lat=55.03, lon=82.92), "net", zone_for=zone_for, region_at=region_at)
    unplaced = import_csv(one_row("Сибирь-матушка"), "net", zone_for=zone_for)

    assert [p.region for p in placed.points] == ["RU-NVS"]
    assert asked == [("RU", 55.03, 82.92)]
    assert [p.region for p in unplaced.points] == [None]


def test_another_countrys_code_is_kept_as_written() -> None:
    result = import_csv(one_row("KZ-ALA", country="KZ", lat=43.25, lon=76.9), "net", zone_for=zone_for)

    assert [p.region for p in result.points] == ["KZ-ALA"]


def test_geojson_features_read_regions_as_csv_rows_do() -> None:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [37.62, 55.75]},
            "properties": {"code": code, "address": "ул. Ленина 1", "hours": "24/7", "region": region},
        }
        for code, region in (("a", "RU-48"), ("b", "RU-MOW"), ("c", "Москва"))
    ]
    document = orjson.dumps({"type": "FeatureCollection", "features": features})

    result = import_geojson(document, "net", zone_for=zone_for)

    assert [p.region for p in result.points] == ["RU-MOW", "RU-MOW", "RU-MOW"]


def test_a_cdek_point_takes_its_region_from_the_name_never_from_cdeks_own_region_code() -> None:
    def location(**changes: object) -> dict[str, object]:
        return {
            "country_code": "RU",
            "latitude": 55.03,
            "longitude": 82.92,
            "address": "ул. Ленина, 1",
            "city": "Новосибирск",
            **changes,
        }

    points = [
        cdek_point("NSK1", location=location(region="Новосибирская обл.", region_code=23)),
        cdek_point("NSK2", location=location(region="Ханты-Мансийский авт. округ", region_code=53)),
        cdek_point("NSK3", location=location(region_code=48)),
    ]

    result = import_cdek(orjson.dumps(points), zone_for=zone_for, region_at=lambda country, lat, lon: "RU-NVS")

    assert [p.region for p in result.points] == ["RU-NVS", "RU-KHM", "RU-NVS"]
