"""Which offer to recommend, and why, under the request's policy.

Every offer gets a score: its price plus a money value for each day it takes
(`day_value` RUB per business day, on the longest promised transit). `balanced`
recommends the lowest score; `cheapest` and `fastest` are that score with the day
value at zero or dominating; `deadline` is the cheapest offer whose latest date is
on or before the deadline. Ties break on the later date, then the offer id, so the
same offers always give the same answer.

Delivery history (router/reliability.py) can narrow the choice: `min_on_time_rate` leaves
only offers whose learned on-time rate reaches it, and `deadline` with a `probability` wants
the learned chance of arriving by the deadline, not the tariff's promise. An offer with no
history meets neither: a policy that asks for evidence is not satisfied by its absence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from router.core.models import Offer, OfferInsight, Policy, PolicyKind, Score
from router.core.wording import Said, explained, joined


@dataclass(frozen=True, slots=True)
class Selection:
    cheapest: str | None
    fastest: str | None
    recommended: str | None
    reason: str
    scores: dict[str, Score]
    reason_ru: str = ""


_ZERO = Decimal("0")


def _by_price(o: Offer) -> tuple[Decimal, object, str]:
    return (o.price.total, o.eta.max_date, o.id)


def _by_speed(o: Offer) -> tuple[object, object, Decimal, str]:
    return (o.eta.max_date, o.eta.min_date, o.price.total, o.id)


def allowed(carrier: str, policy: Policy) -> bool:
    if policy.only and carrier not in policy.only:
        return False
    return carrier not in policy.exclude


def _reliable(o: Offer, policy: Policy, insights: Mapping[str, OfferInsight]) -> bool:
    if policy.min_on_time_rate is None:
        return True
    learned = insights.get(o.id)
    return learned is not None and learned.on_time_rate is not None and learned.on_time_rate >= policy.min_on_time_rate


def _arrives(o: Offer, policy: Policy, insights: Mapping[str, OfferInsight]) -> bool:
    assert policy.deadline is not None
    if policy.probability is None:
        return o.eta.max_date <= policy.deadline
    learned = insights.get(o.id)
    chance = learned.arrival_probability if learned is not None else None
    return chance is not None and chance >= policy.probability


def select(offers: Sequence[Offer], policy: Policy, insights: Mapping[str, OfferInsight] | None = None) -> Selection:
    if policy.only or policy.exclude:
        offers = [o for o in offers if allowed(o.carrier, policy)]
    if not offers:
        return _chosen(None, None, None, explained("nobody"), {})
    insights = insights or {}

    day_value = policy.day_value if policy.kind is PolicyKind.BALANCED else _ZERO
    scores = {}
    # A quote's offers take a few distinct numbers of days: each day count is priced once.
    days_cost: dict[int, Decimal] = {}
    # The cheapest offer and the best score found in the same pass, keys as `_by_price` and the
    # balanced pick below order them.
    cheapest_key: tuple[Decimal, object, str] | None = None
    best_key: tuple[Decimal, Decimal, object, str] | None = None
    cheapest = best = offers[0]
    for o in offers:
        price, days = o.price.total, o.eta.max_days
        cost = days_cost.get(days)
        if cost is None:
            cost = days_cost[days] = day_value * days
        total = price + cost
        scores[o.id] = Score(price, days, day_value, total)
        by_price = (price, o.eta.max_date, o.id)
        if cheapest_key is None or by_price < cheapest_key:
            cheapest_key, cheapest = by_price, o
        if best_key is None or (total, *by_price) < best_key:
            best_key, best = (total, *by_price), o
    fastest = min(offers, key=_by_speed)
    # Without a floor on the on-time rate every offer is a candidate: no need to ask each.
    candidates = (
        list(offers) if policy.min_on_time_rate is None else [o for o in offers if _reliable(o, policy, insights)]
    )
    if not candidates:
        return _chosen(cheapest.id, fastest.id, None, explained("none_reliable", rate=policy.min_on_time_rate), scores)

    if policy.kind is PolicyKind.CHEAPEST:
        pick = min(candidates, key=_by_price)
        reason = explained("cheapest", price=pick.price.total)
    elif policy.kind is PolicyKind.FASTEST:
        pick = min(candidates, key=_by_speed)
        reason = explained("fastest", date=pick.eta.max_date)
    elif policy.kind is PolicyKind.DEADLINE:
        assert policy.deadline is not None  # the request parser requires it for this policy
        on_time = [o for o in candidates if _arrives(o, policy, insights)]
        likely = explained("likely", probability=policy.probability) if policy.probability is not None else ("", "")
        if not on_time:
            said = explained("none_on_time", deadline=policy.deadline, likely=likely, date=fastest.eta.max_date)
            return _chosen(cheapest.id, fastest.id, None, said, scores)
        pick = min(on_time, key=_by_price)
        chance = insights[pick.id].arrival_probability if policy.probability is not None else None
        reason = joined(
            explained("deadline", n=len(on_time), deadline=policy.deadline, likely=likely, price=pick.price.total),
            explained("deadline_chance", chance=chance)
            if chance is not None
            else explained("deadline_date", date=pick.eta.max_date),
        )
    else:
        if policy.min_on_time_rate is None:
            pick = best  # every offer is a candidate
        else:
            pick = min(candidates, key=lambda o: (scores[o.id].total, *_by_price(o)))
        s = scores[pick.id]
        reason = explained("balanced", day_value=day_value, price=s.price, days=s.days, total=s.total)
    if policy.min_on_time_rate is not None:
        only = explained("reliable_only", rate=policy.min_on_time_rate, n=len(candidates), of=len(offers))
        reason = joined(reason, only)
    return _chosen(cheapest.id, fastest.id, pick.id, reason, scores)


def _chosen(
    cheapest: str | None, fastest: str | None, recommended: str | None, reason: Said, scores: dict[str, Score]
) -> Selection:
    return Selection(cheapest, fastest, recommended, reason[0], scores, reason[1])
