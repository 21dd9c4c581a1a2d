"""The answer's language as asked for, and reasons said alike in both languages."""

from __future__ import annotations

import pytest

from router.core.models import PriceLineKind
from router.core.wording import RejectionCode, chosen_lang, line_label, rejection, said


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
