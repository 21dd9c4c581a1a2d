"""The answer's language as asked for, and reasons said alike in both languages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from router.core.models import Badge, PriceLineKind
from router.core.wording import (
    _CHOICES,
    RejectionCode,
    chosen_lang,
    explained,
    learned_summary_ru,
    line_label,
    rejection,
    said,
)

LATIN = re.compile("[A-Za-z]")


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [
        ("ru", "en", "ru"),  # the parameter wins over the header
        ("en", "ru-RU,ru;q=0.9", "en"),
        (None, "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        (None, "en-GB, ru;q=0.5", "en"),
        (None, "ru;q=0.4, en;q=0.6", "en"),  # q-values, not order
        (None, "de-DE, ru;q=0.3", "ru"),  # the best of the two the service speaks
        (None, "de, fr;q=0.9", "en"),  # neither: the default
        (None, "ru;q=0, en;q=0.1", "en"),  # q=0 means "not this one"
        (None, "ru;q=0", "en"),
        (None, "*", "en"),
        (None, "ru;q=abc, en;q=0.2", "en"),  # an unreadable q counts as 0
        (None, ";;,,=q;", "en"),
        (None, "", "en"),
        (None, None, "en"),
    ],
)
def test_the_answer_language_is_the_parameter_else_the_best_accepted_else_english(
    query: str | None, header: str | None, lang: str
) -> None:
    assert chosen_lang(query, header) == lang


def test_a_reason_is_said_in_both_languages_from_the_same_figures() -> None:
    refused = rejection("vestnik", "parcel", RejectionCode.TOO_HEAVY, i=1, weight_g=31000, limit_g=30000)

    assert refused.code == "too_heavy"
    assert refused.reason == "parcels[1] weighs 31000 g, over the 30000 g weight limit"
    assert refused.reason_ru == "посылка 2: 31000 г, больше предельного веса 30000 г"


def test_a_size_limit_names_the_measure_broken() -> None:
    en, ru = said(RejectionCode.TOO_LARGE, measure="sum", i=0, size_cm=190.5, limit_cm=150)

    assert en == "parcels[0] sum of sides 190.5 cm is over the 150 cm sum-of-sides limit"
    assert ru == "посылка 1: сумма сторон 190.5 см, больше предела 150 см"


def test_every_code_and_line_kind_has_words_in_both_languages() -> None:
    figures = {
        "where_en": "",
        "where_ru": "",
        "since": "",
        "failures": 1,
        "days": 1,
        "kinds_en": "",
        "kinds_ru": "",
        "first": "",
        "last": "",
        "i": 0,
        "weight_g": 1,
        "limit_g": 1,
        "size_cm": 1.0,
        "limit_cm": 1.0,
        "zone": "A",
        "words": "x",
        "why": "x",
    }
    for code in RejectionCode:
        extra = {"measure": "side"} if code is RejectionCode.TOO_LARGE else {}
        en, ru = said(code, **figures, **extra)
        assert en and ru
    assert {line_label(kind, "ru") for kind in PriceLineKind}.isdisjoint({line_label(k, "en") for k in PriceLineKind})


def test_a_country_not_served_is_named_in_russian_or_not_at_all() -> None:
    en, ru = said(RejectionCode.DESTINATION_NOT_SERVED, "destination_country", country="KZ")
    assert en == "destination outside service area: destination country KZ not served"
    assert ru == "адрес доставки вне зоны обслуживания: страна Казахстан не обслуживается"
    _, unknown = said(RejectionCode.ORIGIN_NOT_SERVED, "origin_country", country="ZZ")
    assert unknown == "место отправки вне зоны обслуживания: эта страна не обслуживается"


def test_a_choice_is_explained_with_money_and_dates_as_each_language_writes_them() -> None:
    en, ru = explained("balanced", day_value=Decimal("50"), price=Decimal("340.5"), days=3, total=Decimal("490.50"))
    assert en == "best price plus 50.00 RUB per day: 340.50 RUB + 3 days × 50.00 RUB = 490.50 RUB"
    assert ru == "лучшая сумма цены и 50,00 ₽ за день: 340,50 ₽ + 3 дн. × 50,00 ₽ = 490,50 ₽"
    likely = explained("likely", probability=0.9)
    assert explained("none_on_time", deadline=date(2026, 11, 24), likely=likely, date=date(2026, 11, 27)) == (
        "no offer arrives by 2026-11-24 with probability ≥ 90%; the fastest arrives by 2026-11-27",
        "ни один тариф не доставит к 24.11.2026 с вероятностью не ниже 90%; самый быстрый доставит к 27.11.2026",
    )
    assert explained("badge_rule", badge=Badge.SILVER, on_time=0.85, failure=0.02, n=30) == (
        "silver: ≥ 85% on time, ≤ 2.0% lost or damaged, ≥ 30 outcomes",
        "серебряный знак: в срок не менее 85%, утеряно или повреждено не более 2.0%, доставок не менее 30",
    )


def test_every_choice_reads_in_russian_without_a_latin_letter() -> None:
    figures = {
        "rate": 0.95,
        "price": Decimal("1"),
        "total": Decimal("1"),
        "day_value": Decimal("1"),
        "date": date(2026, 11, 24),
        "deadline": date(2026, 11, 24),
        "probability": 0.9,
        "chance": 0.9,
        "likely": ("", ""),
        "n": 1,
        "of": 2,
        "days": 1,
        "on_time": 0.9,
        "failure": 0.01,
        "badge": Badge.GOLD,
        "record": ("x", "х"),
        "rule": ("x", "х"),
        "rules": ("x", "х"),
    }
    for name in _CHOICES:
        en, ru = explained(name, **figures)
        assert en and ru and not LATIN.search(ru), (name, ru)
    assert learned_summary_ru(date(2026, 11, 28)) == "95 % посылок доставлено к 28 ноября"
