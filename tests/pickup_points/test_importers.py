from __future__ import annotations

from datetime import date, datetime

import orjson
import pytest

from pickup_points.hours import is_open
from pickup_points.importers import ImportFormatError, ImportRowError, import_cdek, import_csv, import_geojson
from pickup_points.model import Cell, Feature, PointType

HEADER = "code,type,name,address,city,lat,lon,timezone,hours,features,max_weight_g,max_sides_cm,cells,status"


def zone_for(lat: float, lon: float) -> str:
    return "Asia/Anadyr" if lon > 170 or lon < -170 else "Europe/Moscow"


def test_csv_bad_rows_are_reported_by_line_and_field_and_the_rest_imported() -> None:
    text = "\n".join(
        [
            HEADER,
            'A1,pvz,One,"ул. Ленина, 1",Москва,55.75,37.62,,Mo-Fr 10:00-20:00,card|cod,5000,60x40x40,,',
            "A2,pvz,Two,ул. Мира 2,Москва,north,37.6,,24/7,,,,,",
            "A3,kiosk,Three,ул. Мира 3,Москва,55.7,37.6,,24/7,,,,,",
            "A4,pvz,Four,ул. Мира 4,Москва,55.7,37.6,,Mo 25:00-26:00,,,,,",
            "A5,locker,Five,ул. Мира 5,Анадырь,64.73,177.51,,24/7,,15000,,9x36x64|19x36x64,",
            "A6,pvz,Six,,Москва,55.7,37.6,,24/7,,,,,",
            "A1,pvz,Dup,ул. Мира 7,Москва,55.7,37.6,,24/7,,,,,",
            "A8,pvz,Eight,ул. Мира 8,Москва,55.7,37.6,Mars/Olympus,24/7,,,,,",
            "A9,pvz,Nine,ул. Мира 9,Москва,55.7,37.6,,24/7,teleport,,,,",
            "A10,pvz,Ten,ул. Мира 10,Москва,55.7,37.6,,24/7,,-5,,,",
            "A11,pvz,Eleven,ул. Мира 11,Москва,55.7,37.6,,24/7,,,,,,surplus",
        ]
    )
    result = import_csv(text, network="net", zone_for=zone_for)
    assert [p.code for p in result.points] == ["A1", "A5"]
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "lat"),
        (4, "type"),
        (5, "hours"),
        (7, "address"),
        (8, "code"),
        (9, "timezone"),
        (10, "features"),
        (11, "max_weight_g"),
        (12, ""),
    ]
    assert all(e.reason for e in result.errors)
    assert len(result.points) + len(result.errors) == 11  # every data row accounted for


def test_csv_fields_become_the_model() -> None:
    text = "\n".join(
        [
            HEADER,
            'A1,pvz,One,"ул. Ленина, 1",Москва,55.75,37.62,,Mo-Fr 10:00-20:00,card|cod,5000,40x60x40,,',
            "A5,postamat,Five,ул. Мира 5,Анадырь,64.73,177.51,,24/7,,15000,,9x36x64|36x19x64,temporarily_closed",
        ]
    )
    one, five = import_csv(text, network="net", carrier="magistral", zone_for=zone_for).points
    assert one.id == "net:A1" and one.carrier == "magistral" and one.timezone == "Europe/Moscow"
    assert one.features == {Feature.CARD, Feature.COD}
    assert one.limits.max_weight_g == 5000 and one.limits.max_sides_cm == (60.0, 40.0, 40.0)
    assert five.type is PointType.LOCKER and five.timezone == "Asia/Anadyr"
    assert five.limits.cells == (Cell((64.0, 36.0, 9.0)), Cell((64.0, 36.0, 19.0)))
    assert five.status.value == "temporarily_closed"


def test_csv_without_required_columns_is_refused_whole() -> None:
    with pytest.raises(ImportFormatError, match="hours"):
        import_csv("code,address,lat,lon\nA,x,1,2\n", network="n")


def test_csv_line_numbers_count_quoted_multiline_fields() -> None:
    text = (
        HEADER
        + '\nA1,pvz,One,"ул. Ленина,\n1",Москва,55.75,37.62,,24/7,,,,,\nA2,pvz,Two,x,Москва,bad,37.6,,24/7,,,,,\n'
    )
    result = import_csv(text, network="n", zone_for=zone_for)
    assert result.errors == (ImportRowError(4, "lat", result.errors[0].reason),)


def test_geojson_features_import_and_bad_ones_are_numbered() -> None:
    def feature(lon: float, lat: float, **properties: object) -> dict:
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}

    document = {
        "type": "FeatureCollection",
        "features": [
            feature(
                37.62,
                55.75,
                code="g1",
                address="ул. Мира 1",
                hours="24/7",
                features=["fitting_room"],
                max_sides_cm=[30, 50, 40],
            ),
            feature(37.62, 95.0, code="g2", address="ул. Мира 2", hours="24/7"),
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}},
            feature(-179.5, 65.0, code="g4", address="ул. Мира 4", hours="24/7", type="locker"),
        ],
    }
    result = import_geojson(orjson.dumps(document), network="geo", zone_for=zone_for)
    assert [p.code for p in result.points] == ["g1", "g4"]
    assert [(e.line, e.field) for e in result.errors] == [(2, "lat"), (3, "geometry")]
    g1, g4 = result.points
    assert g1.features == {Feature.FITTING_ROOM} and g1.limits.max_sides_cm == (50.0, 40.0, 30.0)
    assert (g4.lat, g4.lon, g4.timezone) == (65.0, -179.5, "Asia/Anadyr")


def cdek_point(code: str, **changes: object) -> dict:
    base: dict = {
        "code": code,
        "name": f"Office {code}",
        "type": "PVZ",
        "owner_code": "cdek",
        "work_time": "Пн-Пт 10:00-20:00, Сб 10:00-16:00",
        "work_time_list": [{"day": d, "time": "10:00/20:00"} for d in range(1, 6)]
        + [{"day": 6, "time": "10:00/16:00"}],
        "is_dressing_room": True,
        "have_cashless": True,
        "have_cash": True,
        "allowed_cod": False,
        "is_reception": True,
        "is_handout": True,
        "take_only": False,
        "weight_min": 0,
        "weight_max": 30,
        "location": {
            "country_code": "RU",
            "region": "Москва",
            "city": "Москва",
            "postal_code": "101000",
            "latitude": 55.75,
            "longitude": 37.62,
            "address": "ул. Мясницкая, 1",
            "address_full": "101000, Россия, Москва, ул. Мясницкая, 1",
        },
    }
    base.update(changes)
    return base


def test_cdek_shape_maps_units_flags_and_hours() -> None:
    locker = cdek_point(
        "MSK2",
        type="POSTAMAT",
        weight_max=15.5,
        dimensions=[{"width": 36, "height": 9, "depth": 64}, {"width": 36, "height": 19, "depth": 64}],
        work_time_list=[{"day": "7", "time": "00:00/00:00"}],
        work_time_exceptions=[
            {"date": "2026-01-01", "is_working": False},
            {"date": "2026-01-02", "time": "12:00/15:00", "is_working": True},
        ],
    )
    result = import_cdek(orjson.dumps([cdek_point("MSK1"), locker]), zone_for=zone_for)
    assert result.errors == ()
    office, postamat = result.points
    assert office.id == "cdek:MSK1" and office.network == "cdek" and office.type is PointType.PVZ
    assert office.features == {Feature.FITTING_ROOM, Feature.CARD, Feature.RETURNS}
    assert office.limits.max_weight_g == 30_000  # kg in the feed
    assert office.address == "ул. Мясницкая, 1" and office.postal_code == "101000"
    assert is_open(office.hours, office.timezone, datetime(2026, 3, 7, 15, 0))  # Saturday
    assert not is_open(office.hours, office.timezone, datetime(2026, 3, 8, 12, 0))  # Sunday
    assert postamat.type is PointType.LOCKER and postamat.limits.max_weight_g == 15_500
    assert postamat.limits.cells == (Cell((64.0, 36.0, 9.0)), Cell((64.0, 36.0, 19.0)))
    assert postamat.hours.day(date(2026, 3, 8)) != ()  # Sunday round the clock
    assert postamat.hours.day(date(2026, 1, 1)) == ()
    assert is_open(postamat.hours, postamat.timezone, datetime(2026, 1, 2, 13, 0))


def test_cdek_owner_code_with_a_cyrillic_letter_is_accepted() -> None:
    item = cdek_point("X1")
    del item["owner_code"]
    item["owner_\u0441ode"] = "cdek"  # Cyrillic "с"
    (point,) = import_cdek(orjson.dumps([item]), zone_for=zone_for).points
    assert point.network == "cdek"


def test_cdek_bad_records_are_reported_and_the_rest_imported() -> None:
    items = [
        cdek_point("OK1"),
        cdek_point("BAD1", type="TERMINAL"),
        cdek_point("BAD2", work_time_list=[{"day": 8, "time": "10:00/20:00"}]),
        cdek_point("BAD3", location={"latitude": 55.0}),
        cdek_point("BAD4", take_only=True),
        cdek_point("BAD5", weight_max="heavy"),
        "not an object",
        cdek_point("OK2", network="ignored"),
    ]
    result = import_cdek(orjson.dumps(items), network="partner", zone_for=zone_for)
    assert [p.id for p in result.points] == ["partner:OK1", "partner:OK2"]
    assert [(e.line, e.field) for e in result.errors] == [
        (2, "type"),
        (3, "work_time_list[0].day"),
        (4, "location.longitude"),
        (5, "is_handout"),
        (6, "weight_max"),
        (7, ""),
    ]


def test_not_json_is_refused_whole() -> None:
    with pytest.raises(ImportFormatError):
        import_cdek(b"<html>", zone_for=zone_for)
    with pytest.raises(ImportFormatError):
        import_geojson(b'{"type": "Feature"}', network="n", zone_for=zone_for)


def _row(code: str, lat: str = "55.7", address: str = "ул. Мира 1") -> str:
    return f"{code},pvz,Name {code},{address},Москва,{lat},37.6,,24/7,,,,,"


def test_an_unclosed_quote_is_reported_at_its_line_and_the_rows_around_it_are_kept() -> None:
    text = "\n".join(
        [
            HEADER,
            _row("A1"),
            _row("A2", address='"ул. Мира 2'),
            _row("A3"),
            _row("A4", address='"ул. Мира, 4"'),
            _row("A5"),
        ]
    )
    result = import_csv(text, network="n", zone_for=zone_for)
    assert [p.code for p in result.points] == ["A1", "A3", "A4", "A5"]
    assert [p.address for p in result.points if p.code == "A4"] == ["ул. Мира, 4"]
    assert [(e.line, e.field) for e in result.errors] == [(3, "address")]
    assert "never closed" in result.errors[0].reason


def test_a_csv_saved_with_a_bom_or_in_windows_1251_is_read() -> None:
    text = "\r\n".join([HEADER, _row("A1"), _row("A2")]) + "\r\n"
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("cp1251")):
        result = import_csv(data, network="n", zone_for=zone_for)
        assert [(p.code, p.address) for p in result.points] == [("A1", "ул. Мира 1"), ("A2", "ул. Мира 1")]
        assert result.errors == ()


def test_a_row_that_is_not_utf8_is_reported_alone() -> None:
    good = [_row(f"A{i}").encode() for i in range(10)]
    data = b"\n".join([HEADER.encode(), *good[:5], _row("B1").encode("cp1251"), *good[5:]])
    result = import_csv(data, network="n", zone_for=zone_for)
    assert len(result.points) == 10
    assert [(e.line, e.field) for e in result.errors] == [(7, "")]
    assert "UTF-8" in result.errors[0].reason


def test_an_oversize_field_and_a_repeated_code_are_reported_with_their_lines() -> None:
    text = "\n".join([HEADER, _row("A1"), _row("A2", address="x" * 131_073), _row("A1"), _row("A3")])
    result = import_csv(text, network="n", zone_for=zone_for)
    assert [p.code for p in result.points] == ["A1", "A3"]
    assert [(e.line, e.field) for e in result.errors] == [(3, "address"), (4, "code")]
    assert "line 2" in result.errors[1].reason


def test_only_the_first_thousand_bad_rows_are_listed_and_the_rest_counted() -> None:
    text = "\n".join([HEADER, *(_row(f"A{i}", lat="north") for i in range(1500)), _row("B")])
    result = import_csv(text, network="n", zone_for=zone_for)
    assert [p.code for p in result.points] == ["B"]
    assert (len(result.errors), result.rejected, result.unlisted) == (1000, 1500, 500)
