"""The words the service says to people, in Russian and English, from one catalog.

A rejection carries a machine `code` a client can localise itself, and the reason in both
languages, rendered here from the same figures; the carrier's own words (`carrier_refused`) are
kept as the carrier gave them, in every language. The API answers one language, chosen by the
`lang` query parameter, else by `Accept-Language`, else `DEFAULT_LANG` (`chosen_lang`).
"""

from __future__ import annotations

import enum
from typing import Literal

from router.core.models import PriceLineKind, Rejection

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")
# English: what `carrier_name` and `reason` meant before answers chose a language.
DEFAULT_LANG: Lang = "en"


class RejectionCode(enum.StrEnum):
    NO_OFFERS = "no_offers"
    NO_PARCELS = "no_parcels"
    SUSPENDED = "suspended"
    TOO_HEAVY = "too_heavy"
    TOO_LARGE = "too_large"
    BEYOND_TARIFF = "beyond_tariff"
    ORIGIN_NOT_SERVED = "origin_not_served"
    DESTINATION_NOT_SERVED = "destination_not_served"
    ZONE_NOT_SERVED = "zone_not_served"
    COD_NOT_OFFERED = "cod_not_offered"
    CARRIER_REFUSED = "carrier_refused"
    UNREADABLE_ANSWER = "unreadable_answer"


# code -> (English, Russian), each a str.format template over the figures given to `said`.
# The English ones are the reasons as they read before they had codes.
_REASONS: dict[RejectionCode, tuple[str, str]] = {
    RejectionCode.NO_OFFERS: (
        "answered with no offers for this shipment, and gave no reason",
        "не предложила ни одного тарифа для этой посылки и не объяснила почему",
    ),
    RejectionCode.NO_PARCELS: ("no parcels to carry", "нет посылок для перевозки"),
    RejectionCode.SUSPENDED: (
        "suspended {where_en} since {since}: {failures} serious failures within {days} days ({kinds_en}), "
        "{first} to {last}",
        "приостановлена {where_ru} с {since}: серьёзных сбоев — {failures} за {days} дн. ({kinds_ru}), "
        "с {first} по {last}",
    ),
    RejectionCode.TOO_HEAVY: (
        "parcels[{i}] weighs {weight_g} g, over the {limit_g} g weight limit",
        "посылка {n}: {weight_g} г, больше предельного веса {limit_g} г",
    ),
    RejectionCode.TOO_LARGE: (
        "parcels[{i}] {side_en} {size_cm:g} cm is over the {limit_cm:g} cm {limit_en}",
        "посылка {n}: {side_ru} {size_cm:g} см, больше предела {limit_cm:g} см",
    ),
    RejectionCode.BEYOND_TARIFF: (
        "parcels[{i}] chargeable weight {weight_g} g is beyond the tariff",
        "посылка {n}: расчётный вес {weight_g} г вне тарифной сетки",
    ),
    RejectionCode.ORIGIN_NOT_SERVED: ("origin outside service area", "место отправки вне зоны обслуживания"),
    RejectionCode.DESTINATION_NOT_SERVED: ("destination outside service area", "адрес доставки вне зоны обслуживания"),
    # The zone's code and a city courier's city names are the rate card's own, in English: the
    # Russian says what they mean instead.
    RejectionCode.ZONE_NOT_SERVED: ("service not offered in zone {zone}", "в эту зону тарифа услуга не оказывается"),
    RejectionCode.COD_NOT_OFFERED: ("cash on delivery not offered", "наложенный платёж не принимается"),
    RejectionCode.CARRIER_REFUSED: ("{words}", "{words}"),
    RejectionCode.UNREADABLE_ANSWER: (
        "unreadable tariff in the answer: {why}",
        "в ответе службы тариф, который не удалось прочитать",
    ),
}

# Details a reason may end with: ": " and one of these.
_DETAILS: dict[str, tuple[str, str]] = {
    "beyond_km": (
        "{km:.0f} km from origin, served up to {max_km:g} km",
        "{km:.0f} км от места отправки, обслуживается до {max_km:g} км",
    ),
    "within": (
        "origin and destination must both be within {names}",
        "отправка и доставка должны быть в пределах одного города, где работает служба",
    ),
    "origin_country": ("origin country {country} not served", "страна {country} не обслуживается"),
    "destination_country": ("destination country {country} not served", "страна {country} не обслуживается"),
}

_SIDES = {
    "side": ("longest side", "side limit", "длинная сторона"),
    "sum": ("sum of sides", "sum-of-sides limit", "сумма сторон"),
}

_FAILURES = {
    "lost": "утеряно",
    "damaged": "повреждено",
    "complaint": "жалоб",
    "complaints": "жалоб",
    "returned": "возвращено",
}

_ERRORS: dict[str, str] = {
    "timeout": "не ответила вовремя",
    "error": "ответила ошибкой",
    "invalid_response": "ответила тем, что не удалось прочитать",
    "unavailable": "сейчас недоступна",
}

_LINES: dict[PriceLineKind, tuple[str, str]] = {
    PriceLineKind.BASE: ("Base rate", "Тариф"),
    PriceLineKind.WEIGHT: ("Weight", "За вес"),
    PriceLineKind.FUEL: ("Fuel surcharge", "Топливный сбор"),
    PriceLineKind.INSURANCE: ("Insurance", "Страховка"),
    PriceLineKind.COD: ("Cash on delivery", "Наложенный платёж"),
    PriceLineKind.REMOTE_AREA: ("Remote area", "Удалённый район"),
    PriceLineKind.DISTANCE: ("Distance", "За расстояние"),
    PriceLineKind.OVERSIZE: ("Oversize", "Негабарит"),
    PriceLineKind.DISCOUNT: ("Discount", "Скидка"),
    PriceLineKind.OTHER: ("Other", "Прочее"),
}


def said(code: RejectionCode, detail: str = "", /, **figures: object) -> tuple[str, str]:
    """The reason for `code` in English and Russian, from the same figures; `detail` names a
    detail (`_DETAILS`) appended after a colon."""
    if code is RejectionCode.TOO_LARGE:
        side_en, limit_en, side_ru = _SIDES[str(figures.pop("measure"))]
        figures.update(side_en=side_en, limit_en=limit_en, side_ru=side_ru)
    if "i" in figures:
        figures["n"] = int(str(figures["i"])) + 1
    en, ru = (template.format(**figures) for template in _REASONS[code])
    if detail:
        more_en, more_ru = (template.format(**figures) for template in _DETAILS[detail])
        en, ru = f"{en}: {more_en}", f"{ru}: {more_ru}"
    return en, ru


def rejection(carrier: str, service: str, code: RejectionCode, detail: str = "", /, **figures: object) -> Rejection:
    """A rejection with its reason in both languages (`said`)."""
    en, ru = said(code, detail, **figures)
    return Rejection(carrier, service, en, code.value, ru)


def refused_in_own_words(carrier: str, service: str, words: str) -> Rejection:
    """A carrier's refusal as it said it: kept as given in every language."""
    return Rejection(carrier, service, words, RejectionCode.CARRIER_REFUSED.value, "")


def failures_ru(kinds: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{_FAILURES.get(kind, kind)}: {n}" for kind, n in kinds)


def error_message_ru(kind: str) -> str:
    """A carrier error in Russian, by its kind (the English message keeps the detail)."""
    return _ERRORS.get(kind, _ERRORS["error"])


def line_label(kind: PriceLineKind | str, lang: Lang) -> str:
    """A price line's name by its kind, for answers in a language the carrier's label is not in."""
    en, ru = _LINES[PriceLineKind(kind)]
    return ru if lang == "ru" else en


def chosen_lang(query: str | None, accept_language: str | None) -> Lang:
    """`query` (ru|en, already checked) wins; else the best of ru and en in `accept_language`
    (q-values honoured, a language range such as `ru-RU` or `*` matching); else `DEFAULT_LANG`."""
    if query in LANGS:
        return query
    if not accept_language:
        return DEFAULT_LANG
    best: tuple[float, int] = (0.0, 0)
    chosen: Lang = DEFAULT_LANG
    for order, item in enumerate(accept_language.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        primary = tag.split("-", 1)[0]
        lang: Lang | None = "ru" if primary == "ru" else "en" if primary == "en" else None
        if tag == "*":
            lang = DEFAULT_LANG
        # Higher q wins; at equal q, the one listed first.
        if lang is not None and q > 0 and (q, -order) > (best[0], best[1]):
            best, chosen = (q, -order), lang
    return chosen
