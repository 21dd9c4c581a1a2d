from __future__ import annotations

from datetime import date
from decimal import Decimal

from router.core.models import Policy, PolicyKind
from router.quoting.selection import select
from tests.router.fakes import make_insight, make_offer

OFFERS = [
    make_offer("slowpost", "parcel", "200.00", 9),
    make_offer("national", "courier", "450.00", 3),
    make_offer("express", "sameday", "900.00", 1),
]


def test_cheapest_and_fastest_are_tagged_whatever_the_policy() -> None:
    chosen = select(OFFERS, Policy(PolicyKind.BALANCED))
    assert chosen.cheapest == "slowpost:parcel"
    assert chosen.fastest == "express:sameday"


def test_balanced_weighs_each_day_at_the_day_value() -> None:
    # 200 + 9×50 = 650, 450 + 3×50 = 600, 900 + 1×50 = 950
    chosen = select(OFFERS, Policy(PolicyKind.BALANCED, day_value=Decimal("50")))
    assert chosen.recommended == "national:courier"
    assert chosen.scores["national:courier"].total == Decimal("600.00")
    assert "600.00" in chosen.reason


def test_balanced_with_a_low_day_value_prefers_the_cheap_slow_offer() -> None:
    # 200 + 9×10 = 290 beats 450 + 30 = 480
    chosen = select(OFFERS, Policy(PolicyKind.BALANCED, day_value=Decimal("10")))
    assert chosen.recommended == "slowpost:parcel"


def test_balanced_with_a_high_day_value_prefers_the_fast_offer() -> None:
    chosen = select(OFFERS, Policy(PolicyKind.BALANCED, day_value=Decimal("400")))
    assert chosen.recommended == "express:sameday"


def test_deadline_recommends_the_cheapest_offer_that_arrives_in_time() -> None:
    # national arrives 27 Nov, express 25 Nov, slowpost 3 Dec
    chosen = select(OFFERS, Policy(PolicyKind.DEADLINE, deadline=date(2026, 11, 28)))
    assert chosen.recommended == "national:courier"
    assert "2026-11-28" in chosen.reason


def test_deadline_that_nobody_meets_recommends_nothing_and_says_so() -> None:
    chosen = select(OFFERS, Policy(PolicyKind.DEADLINE, deadline=date(2026, 11, 24)))
    assert chosen.recommended is None
    assert "no offer arrives by 2026-11-24" in chosen.reason


def test_only_and_exclude_narrow_the_choice() -> None:
    assert select(OFFERS, Policy(PolicyKind.CHEAPEST, exclude=frozenset({"slowpost"}))).recommended == (
        "national:courier"
    )
    assert select(OFFERS, Policy(PolicyKind.CHEAPEST, only=frozenset({"express"}))).recommended == "express:sameday"


def test_equal_offers_break_ties_the_same_way_every_time() -> None:
    twins = [make_offer("b", "s", "300.00", 3), make_offer("a", "s", "300.00", 3)]
    for order in (twins, list(reversed(twins))):
        assert select(order, Policy(PolicyKind.CHEAPEST)).recommended == "a:s"


def test_no_offers_gives_no_recommendation() -> None:
    chosen = select([], Policy())
    assert (chosen.recommended, chosen.cheapest, chosen.fastest) == (None, None, None)


def test_the_picks_are_the_lowest_by_their_own_orders_ties_broken_by_date_then_id() -> None:
    import random

    rng = random.Random(5)
    for _ in range(300):
        # Few distinct prices and days, so ties on score and on price come up often.
        offers = [
            make_offer(f"c{i}", rng.choice(["a", "b"]), rng.choice(["100.00", "150.00", "200.00"]), rng.randint(1, 4),
                       start=date(2026, 11, rng.randint(23, 25)))
            for i in range(rng.randint(1, 12))
        ]  # fmt: skip
        rng.shuffle(offers)
        day_value = Decimal(rng.choice(["0", "25", "50"]))
        chosen = select(offers, Policy(PolicyKind.BALANCED, day_value=day_value))
        by_score = sorted(
            offers, key=lambda o: (o.price.total + day_value * o.eta.max_days, o.price.total, o.eta.max_date, o.id)
        )
        by_price = sorted(offers, key=lambda o: (o.price.total, o.eta.max_date, o.id))
        assert (chosen.recommended, chosen.cheapest) == (by_score[0].id, by_price[0].id)
        assert {k: s.total for k, s in chosen.scores.items()} == {
            o.id: o.price.total + day_value * o.eta.max_days for o in offers
        }


def test_every_reason_is_said_in_russian_from_the_figures_the_english_gives() -> None:
    insights = {
        o.id: make_insight(0.5 if o.carrier == "slowpost" else 0.96, 0.93 if o.carrier == "national" else 0.2)
        for o in OFFERS
    }
    said = {
        Policy(): (
            "best price plus 50.00 RUB per day: 450.00 RUB + 3 days × 50.00 RUB = 600.00 RUB",
            "лучшая сумма цены и 50,00 ₽ за день: 450,00 ₽ + 3 дн. × 50,00 ₽ = 600,00 ₽",
        ),
        Policy(PolicyKind.CHEAPEST): ("lowest price: 200.00 RUB", "самая низкая цена: 200,00 ₽"),
        Policy(PolicyKind.FASTEST): (
            "earliest latest-delivery date: 2026-11-25",
            "самая ранняя крайняя дата доставки: 25.11.2026",
        ),
        Policy(PolicyKind.DEADLINE, deadline=date(2026, 11, 28)): (
            "cheapest of 2 offers arriving by 2026-11-28: 450.00 RUB, by 2026-11-27",
            "самый дешёвый из тарифов с доставкой к 28.11.2026 (всего 2): 450,00 ₽, доставка к 27.11.2026",
        ),
        Policy(PolicyKind.DEADLINE, deadline=date(2026, 11, 28), probability=0.9): (
            "cheapest of 1 offers arriving by 2026-11-28 with probability ≥ 90%: 450.00 RUB, 93% likely by then",
            "самый дешёвый из тарифов с доставкой к 28.11.2026 с вероятностью не ниже 90% (всего 1): 450,00 ₽, "
            "вероятность доставки к этому сроку 93%",
        ),
        Policy(PolicyKind.DEADLINE, deadline=date(2026, 11, 24)): (
            "no offer arrives by 2026-11-24; the fastest arrives by 2026-11-25",
            "ни один тариф не доставит к 24.11.2026; самый быстрый доставит к 25.11.2026",
        ),
        Policy(PolicyKind.CHEAPEST, min_on_time_rate=0.95): (
            "lowest price: 450.00 RUB; only offers on time at least 95% of the time (2 of 3)",
            "самая низкая цена: 450,00 ₽; только тарифы, доставляющие в срок не реже чем в 95% случаев (2 из 3)",
        ),
        Policy(min_on_time_rate=0.99): (
            "no offer's delivery history shows it on time at least 99% of the time",
            "ни у одного тарифа история доставок не показывает доставку в срок хотя бы в 99% случаев",
        ),
    }
    for policy, (en, ru) in said.items():
        chosen = select(OFFERS, policy, insights)
        assert (chosen.reason, chosen.reason_ru) == (en, ru), policy
    nobody = select([], Policy())
    assert (nobody.reason, nobody.reason_ru) == (
        "no carrier could deliver this shipment",
        "ни одна служба не может доставить эту посылку",
    )
