"""Every carrier and service is named in Russian and in English, whatever kind of carrier it is."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time
from pathlib import Path

import orjson
import pytest

from carriers.cdek.carrier import CdekCarrier, parse_tarifflist
from carriers.config import SANDBOX_COURIER_TOKEN, SANDBOX_COURIER_URL, CourierEntry, parse_config
from carriers.courier import CourierCarrier
from carriers.courier.carrier import parse_calculate
from carriers.ratecard import load_ratecards
from router.core.bundled import data_dir
from router.core.codec import carrier_answer, offer_answer
from router.core.errors import ConfigError
from tests.carriers.sandbox_fixtures import MOSCOW, MOSCOW_EAST, fixture, rate_request
from tests.router.fakes import make_offer

LATIN = re.compile(r"[A-Za-z]")
TARIFF_136 = {"tariff_code": 136, "tariff_name": "Parcel warehouse-warehouse", "delivery_mode": 4,
              "delivery_sum": 880.0, "period_min": 2, "period_max": 3}  # fmt: skip


def test_every_bundled_carrier_and_service_has_a_russian_name_without_latin_letters() -> None:
    infos = [carrier.info() for carrier in load_ratecards(data_dir() / "carriers")]
    assert len(infos) >= 6
    for info in infos:
        names_ru = [info.name_ru, *(s.name_ru for s in info.services)]
        assert all(name and not LATIN.search(name) for name in names_ru), names_ru
        assert all(s.name and s.name != s.name_ru for s in info.services)


def test_a_rate_card_offer_carries_both_names() -> None:
    (carrier,) = [c for c in load_ratecards(data_dir() / "carriers") if c.code == "domovoy"]
    info = carrier.info()
    assert (info.name, info.name_ru) == ("Domovoy Stores Pickup", "Домовой Самовывоз из магазинов")
    assert [(s.name, s.name_ru) for s in info.services] == [("Pickup in store", "Самовывоз из магазина")]


def test_cdek_asked_in_russian_keeps_the_calculators_own_name() -> None:
    russian = {**TARIFF_136, "tariff_name": "Посылка склад-склад (живое имя)"}
    (offer,) = parse_tarifflist(
        orjson.dumps({"tariff_codes": [russian]}), rate_request(), carrier="cdek", carrier_name="CDEK",
        cutoff=time(18), carrier_name_ru="СДЭК", lang="rus",
    ).offers  # fmt: skip
    assert (offer.carrier_name_ru, offer.service_name_ru) == ("СДЭК", "Посылка склад-склад (живое имя)")


def test_cdek_asked_in_english_names_a_known_tariff_in_russian_from_its_codes() -> None:
    unknown = {**TARIFF_136, "tariff_code": 999, "tariff_name": "Something new"}
    known, other = parse_tarifflist(
        orjson.dumps({"tariff_codes": [TARIFF_136, unknown]}), rate_request(), carrier="cdek",
        carrier_name="CDEK", cutoff=time(18), carrier_name_ru="СДЭК", lang="eng",
    ).offers  # fmt: skip
    assert (known.service_name, known.service_name_ru) == ("Parcel warehouse-warehouse", "Посылка склад-склад")
    assert other.service_name_ru == "Something new"  # no Russian name is known: the live one stands


def test_cdek_lists_its_tariffs_in_both_languages() -> None:
    info = CdekCarrier(None, tariffs=frozenset({136, 368})).info()  # type: ignore[arg-type]
    assert info.name_ru == "СДЭК"
    assert [(s.name, s.name_ru) for s in info.services] == [
        ("Parcel office-office", "Посылка склад-склад"),
        ("Parcel office-locker", "Посылка склад-постамат"),
    ]


def test_the_courier_names_itself_in_both_languages_by_default_and_as_configured(tmp_path: Path) -> None:
    info = CourierCarrier(None).info()  # type: ignore[arg-type]
    assert (info.name_ru, info.services[0].name_ru) == ("Городской курьер", "Курьер в тот же день")
    (offer,) = parse_calculate(
        orjson.dumps(fixture("courier/calculate_ok.json")), rate_request(MOSCOW, MOSCOW_EAST), carrier="courier",
        carrier_name="Swift", service="same_day", service_name="Same day", cutoff=time(20),
        carrier_name_ru="Стриж", service_name_ru="Сегодня",
    ).offers  # fmt: skip
    assert (offer.carrier_name_ru, offer.service_name_ru) == ("Стриж", "Сегодня")
    document = {"carriers": [{"kind": "courier", "sandbox": True, "name_ru": "Стриж", "service_name_ru": "Сегодня"}]}
    sandbox = {SANDBOX_COURIER_URL: "http://127.0.0.1:1", SANDBOX_COURIER_TOKEN: "t"}
    (entry,) = parse_config(document, tmp_path / "carriers.toml", {}, sandbox).entries
    assert isinstance(entry, CourierEntry) and (entry.name_ru, entry.service_name_ru) == ("Стриж", "Сегодня")


@pytest.mark.parametrize("field", ["name_ru", "service_name_ru"])
def test_a_blank_russian_name_in_the_carriers_config_is_refused_naming_it(tmp_path: Path, field: str) -> None:
    document = {"carriers": [{"kind": "courier", "base_url": "http://127.0.0.1:1", field: " "}]}
    with pytest.raises(ConfigError) as raised:
        parse_config(document, tmp_path / "carriers.toml", {})
    assert raised.value.path == f"carriers[0].{field}"


def test_answers_carry_both_names_and_fall_back_to_english_where_a_carrier_has_one() -> None:
    offer = make_offer("acme", "std", "100.00", 2)
    answer = offer_answer(offer, [])
    assert (answer.carrier_name, answer.carrier_name_ru) == ("Acme", "Перевозчик acme")
    assert (answer.service_name, answer.service_name_ru) == ("Std", "Услуга std")
    english_only = offer_answer(replace(offer, carrier_name_ru="", service_name_ru=""), [])
    assert (english_only.carrier_name_ru, english_only.service_name_ru) == ("Acme", "Std")
    carrier = carrier_answer(CourierCarrier(None).info(), None)  # type: ignore[arg-type]
    assert (carrier.name_ru, carrier.services[0].name_ru) == ("Городской курьер", "Курьер в тот же день")
