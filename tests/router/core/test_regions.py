from __future__ import annotations

from pathlib import Path

import pytest

from router.core.errors import ConfigError
from router.core.regions import read_region_table, regions


@pytest.mark.parametrize(
    ("admin1", "iso"),
    [
        ("48", "RU-MOW"),  # Moscow the city, not Lipetsk as Russian numbering would have 48
        ("47", "RU-MOS"),
        ("66", "RU-SPE"),
        ("53", "RU-NVS"),
        ("23", "RU-KGD"),
        ("15", "RU-CHU"),
        ("43", "RU-LIP"),
    ],
)
def test_a_russian_geonames_admin1_code_is_its_iso_3166_2_code(admin1: str, iso: str) -> None:
    assert regions().code("RU", admin1) == iso


def test_the_table_holds_every_federal_subject_once() -> None:
    table = regions()

    assert len(table) == 83
    assert table.iso_code("RU-48") == "RU-MOW"


def test_a_country_without_iso_codes_in_the_table_keeps_its_admin1_code() -> None:
    assert regions().code("ua", "12") == "UA-12"
    assert regions().iso_code("ua-12") == "UA-12"
    assert regions().code("RU", None) is None


def test_old_and_new_russian_codes_read_alike_and_unknown_ones_do_not() -> None:
    table = regions()

    assert table.iso_code("ru-mow") == "RU-MOW"
    assert table.iso_code(" RU-53 ") == "RU-NVS"
    assert table.iso_code("RU-XYZ") is None
    assert table.iso_code("RU-99") is None
    assert table.admin1_code("RU-NVS") == "RU-53"
    assert table.admin1_code("UA-12") is None


def test_a_region_is_named_in_the_language_asked_for() -> None:
    table = regions()

    assert table.name("RU-MOW", "ru") == "Москва"
    assert table.name("RU-NVS", "en") == "Novosibirsk Oblast"
    assert table.name("UA-12", "ru") is None
    assert table.name(None, "ru") is None


def test_a_broken_table_names_its_row_and_field(tmp_path: Path) -> None:
    source = tmp_path / "regions.csv"
    source.write_text(
        "admin1,iso,name_en,name_ru\n48,RU-MOW,Moscow,Москва\n43,RU-MOW,Lipetsk,Липецк\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError) as caught:
        read_region_table(source)

    assert caught.value.path == "row 2.iso"


@pytest.mark.parametrize(
    ("name", "iso"),
    [
        ("Москва", "RU-MOW"),
        ("г. Москва", "RU-MOW"),
        ("Московская обл.", "RU-MOS"),
        ("Moscow", "RU-MOW"),
        ("Moscow Oblast", "RU-MOS"),
        ("Новосибирская обл.", "RU-NVS"),
        ("Респ. Татарстан", "RU-TA"),
        ("Татарстан респ.", "RU-TA"),
        ("Кемеровская область - Кузбасс", "RU-KEM"),
        ("Ханты-Мансийский авт. округ", "RU-KHM"),
        ("Ненецкий АО", "RU-NEN"),
        ("Ямало-Ненецкий автономный округ", "RU-YAN"),
        ("Саха /Якутия/ респ.", "RU-SA"),
        ("Алтай респ.", "RU-AL"),
        ("Алтайский край", "RU-ALT"),
        ("Орёл обл.", None),  # a city's name, not its region's
        ("Москва и Московская обл.", None),  # two subjects: no one code
        ("", None),
    ],
)
def test_a_region_named_as_cdek_or_the_table_names_it_is_found(name: str, iso: str | None) -> None:
    assert regions().of_name("RU", name) == iso


def test_only_the_tables_country_is_found_by_name() -> None:
    assert regions().of_name("KZ", "Алматинская обл.") is None
    assert regions().of_name(None, "Москва") is None
