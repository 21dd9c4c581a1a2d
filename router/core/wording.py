"""The words the service says to people, in Russian and English, from one catalog.

A rejection carries a machine `code` a client can localise itself, and the reason in both
languages, rendered here from the same figures; the carrier's own words (`carrier_refused`) are
kept as the carrier gave them, in every language. The API answers one language, chosen by the
`lang` query parameter, else by `Accept-Language`, else `DEFAULT_LANG` (`chosen_lang`).
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
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
    "origin_country": ("origin country {country} not served", "{country_ru} не обслуживается"),
    "destination_country": ("destination country {country} not served", "{country_ru} не обслуживается"),
}

# ISO 3166-1 codes in Russian, for the countries a parcel from Russia most often goes to; any
# other is "this country" in Russian rather than a Latin code.
_COUNTRIES = {
    "RU": "Россия",
    "BY": "Беларусь",
    "KZ": "Казахстан",
    "KG": "Киргизия",
    "AM": "Армения",
    "UZ": "Узбекистан",
    "TJ": "Таджикистан",
    "TM": "Туркмения",
    "AZ": "Азербайджан",
    "GE": "Грузия",
    "MD": "Молдавия",
    "UA": "Украина",
    "AB": "Абхазия",
    "MN": "Монголия",
    "CN": "Китай",
    "TR": "Турция",
    "AE": "ОАЭ",
    "IN": "Индия",
    "FI": "Финляндия",
    "EE": "Эстония",
    "LV": "Латвия",
    "LT": "Литва",
    "PL": "Польша",
    "DE": "Германия",
    "US": "США",
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


# Why an offer is recommended, or none is (router/quoting/selection.py), and what a badge rests
# on (router/history/reliability.py): (English, Russian) str.format templates over the figures
# given to `explained`. The English ones are the reasons as they read before they had Russian.
_CHOICES: dict[str, tuple[str, str]] = {
    "nobody": ("no carrier could deliver this shipment", "ни одна служба не может доставить эту посылку"),
    "none_reliable": (
        "no offer's delivery history shows it on time at least {rate:.0%} of the time",
        "ни у одного тарифа история доставок не показывает доставку в срок хотя бы в {rate:.0%} случаев",
    ),
    "cheapest": ("lowest price: {price}", "самая низкая цена: {price}"),
    "fastest": ("earliest latest-delivery date: {date}", "самая ранняя крайняя дата доставки: {date}"),
    "likely": (" with probability ≥ {probability:.0%}", " с вероятностью не ниже {probability:.0%}"),
    "none_on_time": (
        "no offer arrives by {deadline}{likely}; the fastest arrives by {date}",
        "ни один тариф не доставит к {deadline}{likely}; самый быстрый доставит к {date}",
    ),
    "deadline": (
        "cheapest of {n} offers arriving by {deadline}{likely}: {price}, ",
        "самый дешёвый из тарифов с доставкой к {deadline}{likely} (всего {n}): {price}, ",
    ),
    "deadline_chance": ("{chance:.0%} likely by then", "вероятность доставки к этому сроку {chance:.0%}"),
    "deadline_date": ("by {date}", "доставка к {date}"),
    "balanced": (
        "best price plus {day_value} per day: {price} + {days} days × {day_value} = {total}",
        "лучшая сумма цены и {day_value} за день: {price} + {days} дн. × {day_value} = {total}",
    ),
    "reliable_only": (
        "; only offers on time at least {rate:.0%} of the time ({n} of {of})",
        "; только тарифы, доставляющие в срок не реже чем в {rate:.0%} случаев ({n} из {of})",
    ),
    "on_time": ("{rate:.1%} on time", "в срок {rate:.1%}"),
    "no_promises": ("no promised dates", "сроки не обещались"),
    "record": (
        "{on_time}, {failure:.1%} lost or damaged, {n} outcomes",
        "{on_time}, утеряно или повреждено {failure:.1%}, доставок в истории: {n}",
    ),
    "badge_rule": (
        "{badge}: ≥ {on_time:.0%} on time, ≤ {failure:.1%} lost or damaged, ≥ {n} outcomes",
        "{badge}: в срок не менее {on_time:.0%}, утеряно или повреждено не более {failure:.1%}, доставок не менее {n}",
    ),
    "badge_met": ("{record}; {rule}", "{record}; {rule}"),
    "badge_none": ("{record}; below every badge ({rules})", "{record}; ниже любого знака ({rules})"),
}

_BADGES = {"gold": "золотой знак", "silver": "серебряный знак", "none": "без знака"}

_MONTHS = ("января февраля марта апреля мая июня июля августа сентября октября ноября декабря").split()

Said = tuple[str, str]


def _in(lang: int, value: object) -> object:
    """A figure as it reads in the language at `lang` (0 English, 1 Russian)."""
    if isinstance(value, tuple):  # a figure already said in both
        return value[lang]
    if isinstance(value, Decimal):
        return f"{value:.2f} RUB" if lang == 0 else f"{value:.2f}".replace(".", ",") + " ₽"
    if isinstance(value, date):
        return value.isoformat() if lang == 0 else f"{value:%d.%m.%Y}"
    if isinstance(value, enum.Enum) and lang == 1:
        return _BADGES.get(str(value.value), str(value.value))
    if isinstance(value, enum.Enum):
        return value.value
    return value


def explained(name: str, /, **figures: object) -> Said:
    """The `_CHOICES` text `name` in English and Russian, from the same figures: a sum of money
    (Decimal) reads "340.00 RUB" and "340,00 ₽", a date "2026-11-28" and "28.11.2026", a figure
    already said in both (a pair) in its own language."""
    en, ru = (
        template.format(**{k: _in(lang, v) for k, v in figures.items()}) for lang, template in enumerate(_CHOICES[name])
    )
    return en, ru


def joined(*parts: Said, sep: str = "") -> Said:
    return sep.join(p[0] for p in parts), sep.join(p[1] for p in parts)


def learned_summary_ru(p95_date: date) -> str:
    """The Russian of `learned.summary` ("95 % delivered by 28 Nov"), from the same date."""
    return f"95 % посылок доставлено к {p95_date.day} {_MONTHS[p95_date.month - 1]}"


def said(code: RejectionCode, detail: str = "", /, **figures: object) -> tuple[str, str]:
    """The reason for `code` in English and Russian, from the same figures; `detail` names a
    detail (`_DETAILS`) appended after a colon."""
    if code is RejectionCode.TOO_LARGE:
        side_en, limit_en, side_ru = _SIDES[str(figures.pop("measure"))]
        figures.update(side_en=side_en, limit_en=limit_en, side_ru=side_ru)
    if "i" in figures:
        figures["n"] = int(str(figures["i"])) + 1
    if "country" in figures:
        name = _COUNTRIES.get(str(figures["country"]).upper())
        figures["country_ru"] = f"страна {name}" if name else "эта страна"
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
