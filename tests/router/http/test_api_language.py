"""Answers speak one language: the `lang` parameter, else Accept-Language, else English; names,
reasons, carrier errors and price-line labels alike, and Content-Language says which."""

from __future__ import annotations

import re
from typing import Any

from router.core.settings import Settings
from router.http import appkeys as keys
from router.quoting.engine import QuoteEngine
from tests.router.fakes import FakeCarrier
from tests.router.http.test_api_outcomes import MOSCOW_NOVOSIBIRSK, demo_api
from tests.router.http.test_openapi import conforms

CYRILLIC = re.compile("[А-Яа-яЁё]")
LATIN = re.compile("[A-Za-z]")
# Too heavy for Vestnik's services: a rate card refuses it by weight; Kamenny Poyas does
# not carry from Moscow, Shustry not to Novosibirsk.
HEAVY: dict[str, Any] = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск"},
    "parcels": [{"weight_g": 31_000, "length_cm": 40, "width_cm": 30, "height_cm": 30}],
}


async def failing_carrier(app) -> None:  # type: ignore[no-untyped-def]
    real = app[keys.ENGINE]
    broken = FakeCarrier("broken", behaviour="raise")
    app[keys.ENGINE] = QuoteEngine([*real.carriers, broken], app[keys.PLACES], app[keys.SETTINGS])


async def test_a_russian_quote_names_carriers_services_reasons_errors_and_lines_in_russian(make_api) -> None:
    api = await make_api(Settings(), on_startup=failing_carrier)
    resp = await api.post("/v1/quotes?lang=ru", json=HEAVY)
    assert resp.status == 201
    assert resp.headers["Content-Language"] == "ru" and "Accept-Language" in resp.headers.getall("Vary")
    quote = await resp.json()
    conforms(quote, "Quote")

    assert quote["lang"] == "ru" and quote["offers"]
    for offer in quote["offers"]:
        assert (offer["carrier_name"], offer["service_name"]) == (offer["carrier_name_ru"], offer["service_name_ru"])
        assert not LATIN.search(offer["carrier_name"] + offer["service_name"]), offer["id"]
        assert all(not LATIN.search(line["label"]) for line in offer["price"]["breakdown"]), offer["price"]
    codes = {(r["carrier"], r["code"]) for r in quote["rejections"]}
    assert {("vestnik", "too_heavy"), ("kpoyas", "origin_not_served"), ("shustry", "destination_not_served")} <= codes
    for rejection in quote["rejections"]:
        assert rejection["carrier_name"] == rejection["carrier_name_ru"]
        assert rejection["reason"] == rejection["reason_ru"] and not LATIN.search(rejection["reason"]), rejection
    heavy = next(r for r in quote["rejections"] if (r["carrier"], r["code"]) == ("vestnik", "too_heavy"))
    assert re.fullmatch(r"посылка 1: 31000 г, больше предельного веса \d+ г", heavy["reason"]), heavy
    (error,) = quote["errors"]
    assert (error["carrier"], error["kind"], error["message"]) == ("broken", "error", "ответила ошибкой")


async def test_the_same_quote_reads_in_either_language_whoever_asked_first(make_api) -> None:
    api = await make_api()
    made = await api.post("/v1/quotes", json=HEAVY, headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    cached = await api.post("/v1/quotes?lang=en", json=HEAVY, headers={"Accept-Language": "ru"})
    russian, english = await made.json(), await cached.json()
    assert (made.status, cached.status) == (201, 200)  # one quote, from the cache the second time
    assert russian["quote_id"] == english["quote_id"]
    assert (made.headers["Content-Language"], cached.headers["Content-Language"]) == ("ru", "en")
    assert (russian["lang"], english["lang"]) == ("ru", "en")
    conforms(english, "Quote")

    assert [o["price"] for o in english["offers"]] != [o["price"] for o in russian["offers"]]  # the labels
    assert [o["price"]["total"] for o in english["offers"]] == [o["price"]["total"] for o in russian["offers"]]
    for en, ru in zip(english["offers"], russian["offers"], strict=True):
        assert en["carrier_name_ru"] == ru["carrier_name"] and not CYRILLIC.search(en["carrier_name"])
    heavy = next(r for r in english["rejections"] if (r["carrier"], r["code"]) == ("vestnik", "too_heavy"))
    assert re.fullmatch(r"parcels\[0\] weighs 31000 g, over the \d+ g weight limit", heavy["reason"]), heavy
    assert CYRILLIC.search(heavy["reason_ru"])

    read = await api.get(f"/v1/quotes/{russian['quote_id']}", headers={"Accept-Language": "en;q=0.3, ru;q=0.7"})
    assert read.status == 200 and read.headers["Content-Language"] == "ru"
    assert await read.json() == russian
    plain = await api.get(f"/v1/quotes/{russian['quote_id']}")
    assert plain.headers["Content-Language"] == "en" and await plain.json() == english


async def test_carriers_are_listed_in_the_language_asked_for(make_api) -> None:
    api = await make_api()
    russian = await api.get("/v1/carriers?lang=ru")
    english = await api.get("/v1/carriers", headers={"Accept-Language": "de, en;q=0.5"})
    assert (russian.headers["Content-Language"], english.headers["Content-Language"]) == ("ru", "en")
    ru, en = (await russian.json()), (await english.json())
    assert (ru["lang"], en["lang"]) == ("ru", "en")
    by_code = {c["code"]: c for c in en["carriers"]}
    for carrier in ru["carriers"]:
        assert carrier["name"] == carrier["name_ru"] == by_code[carrier["code"]]["name_ru"]
        assert all(s["name"] == s["name_ru"] for s in carrier["services"])
    assert all(not CYRILLIC.search(c["name"]) for c in en["carriers"])


async def test_priced_pickup_points_name_their_offers_in_the_language_asked_for(make_api) -> None:
    api = await make_api()
    query = "lat=55.03&lon=82.92&limit=3&origin=Москва&weight_g=1200"
    ru = await api.get(f"/v1/pickup-points?{query}&lang=ru")
    assert ru.status == 200 and ru.headers["Content-Language"] == "ru"
    body = await ru.json()
    offers = [p["offer"] for p in body["points"] if p.get("offer")]
    assert body["lang"] == "ru" and offers
    assert all(o["carrier_name"] == o["carrier_name_ru"] and not LATIN.search(o["service_name"]) for o in offers)


async def test_a_language_the_service_does_not_speak_is_a_422_naming_lang(make_api) -> None:
    api = await make_api()
    for path in ("/v1/carriers?lang=de", "/v1/quotes/q_x?lang=RU", "/v1/pickup-points?lat=55&lon=37&lang=fr"):
        resp = await api.get(path)
        assert resp.status == 422 and resp.content_type == "application/problem+json", path
        assert [e["path"] for e in (await resp.json())["errors"]] == ["lang"], path
    resp = await api.post("/v1/quotes?lang=ru&lang=en", json=HEAVY)
    assert resp.status == 422 and [e["path"] for e in (await resp.json())["errors"]] == ["lang"]


async def test_a_russian_quote_says_why_it_recommends_and_what_history_says_in_russian(make_api) -> None:
    api = await demo_api(make_api)
    english = await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).json()
    russian = await (await api.post("/v1/quotes?lang=ru", json=MOSCOW_NOVOSIBIRSK)).json()
    conforms(russian, "Quote")
    assert russian["quote_id"] == english["quote_id"]  # the same quote, from the cache

    # The English as it always read, from the recommended offer's score.
    score = english["recommended"]["score"]
    assert (
        english["recommended"]["reason"]
        == english["reason"]
        == (
            f"best price plus {score['day_value']} RUB per day: {score['price']} RUB + "
            f"{score['days']} days × {score['day_value']} RUB = {score['total']} RUB"
        )
    )
    # The Russian from the same figures, without a Latin letter.
    rub = {k: score[k].replace(".", ",") + " ₽" for k in ("day_value", "price", "total")}
    assert (
        russian["recommended"]["reason"]
        == russian["reason"]
        == english["reason_ru"]
        == (
            f"лучшая сумма цены и {rub['day_value']} за день: {rub['price']} + {score['days']} дн. × "
            f"{rub['day_value']} = {rub['total']}"
        )
    )
    assert not LATIN.search(russian["reason"]) and russian["recommended"]["score"] == score

    badges = set()
    for en, ru in zip(english["offers"], russian["offers"], strict=True):
        learned_en, learned_ru = en["learned"], ru["learned"]
        badges.add(learned_en["badge"])
        assert re.fullmatch(
            r"(\d+\.\d% on time|no promised dates), \d+\.\d% lost or damaged, \d+ outcomes; .+",
            learned_en["badge_reason"],
        )
        assert learned_en["summary"].startswith("95 % delivered by ") and not CYRILLIC.search(
            learned_en["badge_reason"]
        )
        assert learned_ru["badge_reason"] == learned_en["badge_reason_ru"]
        for text in (learned_ru["badge_reason"], learned_ru["summary"]):
            assert CYRILLIC.search(text) and not LATIN.search(text), text
        # The same figures: every number in the English is in the Russian, in the same order.
        assert re.findall(r"\d+(?:\.\d+)?", learned_ru["badge_reason"]) == re.findall(
            r"\d+(?:\.\d+)?", learned_en["badge_reason"]
        )
        assert {k: v for k, v in learned_ru.items() if k not in ("badge_reason", "summary")} == {
            k: v for k, v in learned_en.items() if k not in ("badge_reason", "summary")
        }
    assert badges == {"gold", "silver", "none"}  # a badge met, and one below every badge
