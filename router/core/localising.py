"""Answers in another language than the English they are stored in: a quote is kept once, in
English with every Russian name and reason beside it (router/core/codec.py `quote_body`), and
answered in the language asked for, so that one quote, cached or read back, serves both."""

from __future__ import annotations

import msgspec

from router.core import answers
from router.core.wording import Lang, error_message_ru, learned_summary_ru, line_label


def localised(quote: answers.Quote, lang: Lang) -> answers.Quote:
    """An English quote answer in `lang`: names, reasons, errors, price-line labels and what delivery
    history says."""
    if lang == "en":
        return quote
    replace = msgspec.structs.replace
    # Quotes kept before the Russian reasons were have none: theirs stay English.
    reason = quote.reason_ru or quote.reason
    return replace(
        quote,
        lang=lang,
        offers=[
            replace(
                o,
                carrier_name=o.carrier_name_ru,
                service_name=o.service_name_ru,
                price=price_ru(o.price),
                learned=None if o.learned is None else learned_ru(o.learned),
            )
            for o in quote.offers
        ],
        recommended=None if quote.recommended is None else replace(quote.recommended, reason=reason),
        reason=reason,
        rejections=[
            replace(r, carrier_name=r.carrier_name_ru or r.carrier, reason=r.reason_ru or r.reason)
            for r in quote.rejections
        ],
        errors=[error_ru(e) for e in quote.errors],
    )


def learned_ru(learned: answers.OfferLearned) -> answers.OfferLearned:
    return msgspec.structs.replace(
        learned,
        summary=learned_summary_ru(learned.p95_date),
        badge_reason=learned.badge_reason_ru or learned.badge_reason,
    )


def error_ru(error: answers.CarrierError) -> answers.CarrierError:
    return msgspec.structs.replace(
        error, carrier_name=error.carrier_name_ru or error.carrier, message=error_message_ru(error.kind)
    )


def price_ru(price: answers.Price) -> answers.Price:
    return answers.Price(
        total=price.total,
        currency=price.currency,
        breakdown=[
            answers.PriceLine(kind=ln.kind, label=line_label(ln.kind, "ru"), amount=ln.amount) for ln in price.breakdown
        ],
    )
