"""Write demo delivery outcomes for the demo network to data/demo/outcomes.csv.

Made-up history, clearly demo data: each carrier of data/carriers/ gets its own habits, so the
learned ETAs and badges differ from the tariffs and from each other the way a real market does:

    magistral   national network: mostly within its window, now and then a day or two late
    vestnik     post: keeps to the end of its window at best, often days late, a long tail
    kpoyas      regional courier: early or on time, almost never late
    sibgonets   regional courier: door on time; its next-day express slips a day one time in five
    shustry     city courier: same-day runs into the next day now and then
    domovoy     store pickup: on time near home, often late in far regions

The tariff window of each lane comes from quoting the real rate cards. Accidental clusters of
serious failures are thinned so that nothing starts suspended, except one planted story: Vestnik's
parcel service from Moscow to Novosibirsk has two serious failures in the last week, so the next
one suspends it on that lane.

    python scripts/make_demo_outcomes.py             # rewrite data/demo/outcomes.csv
    python scripts/make_demo_outcomes.py --rows 1000000 --out /tmp/big.csv   # for bench/outcomes.py
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carriers.ratecard import load_ratecards
from router.core.calendar import add_working_days, is_working_day
from router.core.models import Location, Parcel, Place, RateRequest, Shipment
from router.history.outcomes import COLUMNS
from router.history.suspension import SuspensionRule, worst_window
from router.quoting.places import Places

OUT = ROOT / "data" / "demo" / "outcomes.csv"
FIRST_DAY, LAST_DAY = date(2026, 5, 18), date(2026, 11, 6)  # hand-over days of the ordinary history
STORY = ("vestnik", "parcel", "Moscow", "Novosibirsk")
STORY_FAILURES = ((date(2026, 11, 16), "lost"), (date(2026, 11, 18), "damaged"))

ORIGINS = {"Москва": 0.45, "Санкт-Петербург": 0.2, "Новосибирск": 0.13, "Екатеринбург": 0.13, "Казань": 0.09}
DESTINATIONS = [
    "Москва",
    "Санкт-Петербург",
    "Новосибирск",
    "Екатеринбург",
    "Казань",
    "Нижний Новгород",
    "Челябинск",
    "Самара",
    "Омск",
    "Ростов-на-Дону",
    "Уфа",
    "Красноярск",
    "Пермь",
    "Воронеж",
    "Волгоград",
    "Краснодар",
    "Тюмень",
    "Томск",
    "Барнаул",
    "Иркутск",
    "Кемерово",
    "Новокузнецк",
    "Сургут",
    "Тверь",
    "Ярославль",
    "Курган",
    "Нижний Тагил",
    "Магнитогорск",
    "Бийск",
    "Абакан",
]
# Lanes the README's example quotes; they get more history so their figures are firm.
SHOWCASE = {("Москва", "Новосибирск"): 3.0, ("Москва", "Санкт-Петербург"): 2.0, ("Москва", "Москва"): 2.0}
SHARE = {"magistral": 0.35, "vestnik": 0.3, "kpoyas": 0.25, "sibgonets": 0.25, "domovoy": 0.12, "shustry": 0.4}


@dataclass(frozen=True)
class Habit:
    spread: str  # where in the tariff window deliveries fall: early | even | late
    late: dict[int, float]  # business days beyond the window's end
    lost: float = 0.0008
    damaged: float = 0.001
    complaint: float = 0.0015
    returned: float = 0.02


HABITS = {
    ("magistral", None): Habit("even", {0: 0.92, 1: 0.06, 2: 0.015, 3: 0.005}),
    ("vestnik", None): Habit("late", {0: 0.55, 1: 0.17, 2: 0.12, 3: 0.08, 5: 0.05, 8: 0.03}, 0.002, 0.002, 0.003, 0.05),
    ("kpoyas", None): Habit("early", {0: 0.985, 1: 0.015}, 0.0003, 0.0005, 0.0008, 0.01),
    ("sibgonets", None): Habit("even", {0: 0.965, 1: 0.035}, 0.0005, 0.0005, 0.001, 0.015),
    ("sibgonets", "express"): Habit("even", {0: 0.8, 1: 0.2}, 0.0005, 0.0005, 0.002, 0.01),
    ("shustry", "sameday"): Habit("even", {0: 0.86, 1: 0.14}, 0.0005, 0.001, 0.003, 0.005),
    ("shustry", None): Habit("even", {0: 0.97, 1: 0.03}, 0.0005, 0.001, 0.002, 0.005),
    ("domovoy", None): Habit("even", {0: 0.97, 1: 0.03}, 0.0005, 0.0008, 0.002, 0.06),
    ("domovoy", "far"): Habit("late", {0: 0.7, 1: 0.1, 2: 0.1, 3: 0.1}, 0.0008, 0.001, 0.002, 0.06),
}


def habit(carrier: str, service: str, max_days: int) -> Habit:
    if carrier == "domovoy" and max_days >= 4:
        return HABITS[("domovoy", "far")]
    return HABITS.get((carrier, service)) or HABITS[(carrier, None)]


@dataclass(frozen=True)
class Lane:
    carrier: str
    service: str
    origin: Place
    destination: Place
    min_days: int
    max_days: int
    cutoff: time
    weight: float


def region(place: Place) -> str:
    return place.region or f"{place.country}-?"


async def lanes(places: Places) -> list[Lane]:
    carriers = load_ratecards(ROOT / "data" / "carriers")
    cities = {name: places.resolve(Location(city=name), "city") for name in {*ORIGINS, *DESTINATIONS}}
    population = {name: places.search(name, 1)[0].population if places.search(name, 1) else 100_000 for name in cities}
    total = sum(population[d] for d in DESTINATIONS)
    found = []
    ship_at = datetime(2026, 6, 2, 9, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    parcel = Parcel(1200, 30, 20, 10)
    for o, o_share in ORIGINS.items():
        for d in DESTINATIONS:
            weight = o_share * population[d] / total * SHOWCASE.get((o, d), 1.0)
            shipment = Shipment(Location(city=o), Location(city=d), (parcel,))
            request = RateRequest(shipment, cities[o], cities[d], ship_at)
            for carrier in carriers:
                answer = await carrier.quote(request)
                for offer in answer.offers:
                    cutoff = carrier.card.cutoff
                    found.append(
                        Lane(
                            carrier.code,
                            offer.service,
                            cities[o],
                            cities[d],
                            offer.eta.min_days,
                            offer.eta.max_days,
                            cutoff,
                            weight * SHARE[carrier.code] / len(answer.offers),
                        )
                    )
    return found


def transit(h: Habit, lane: Lane, rnd: random.Random) -> int:
    extra = rnd.choices(list(h.late), list(h.late.values()))[0]
    if extra:
        return lane.max_days + extra
    span = range(lane.min_days, lane.max_days + 1)
    weights = {"early": [2.0**-i for i in range(len(span))], "late": [2.0**i for i in range(len(span))]}
    return rnd.choices(list(span), weights.get(h.spread, [1.0] * len(span)))[0]


def working_days(first: date, last: date) -> list[date]:
    days, d = [], first
    while d <= last:
        if is_working_day(d):
            days.append(d)
        d += timedelta(days=1)
    return days


@dataclass
class Row:
    lane: Lane
    handed_over: datetime
    promised: date
    delivered: datetime | None
    status: str
    complaint: bool
    as_point: bool

    @property
    def serious(self) -> bool:
        return self.complaint or self.status in ("lost", "damaged")

    @property
    def failure_day(self) -> date:
        return (self.delivered or self.handed_over).date()

    @property
    def kind(self) -> str:
        return self.status if self.status in ("lost", "damaged") else "complaint"


def simulate(all_lanes: list[Lane], rows: int, rnd: random.Random) -> list[Row]:
    days = working_days(FIRST_DAY, LAST_DAY)
    weights = [lane.weight for lane in all_lanes]
    out = []
    for lane in rnd.choices(all_lanes, weights, k=rows):
        h = habit(lane.carrier, lane.service, lane.max_days)
        day = rnd.choice(days)
        tz_o, tz_d = ZoneInfo(lane.origin.timezone), ZoneInfo(lane.destination.timezone)
        latest = max(9 * 60 + 1, lane.cutoff.hour * 60 + lane.cutoff.minute)
        minute = rnd.randrange(9 * 60, latest)  # taken before the cut-off, so it leaves that day
        handed = datetime.combine(day, time(minute // 60, minute % 60), tz_o)
        promised = add_working_days(day, lane.max_days)
        roll = rnd.random()
        status, delivered = "delivered", None
        if roll < h.lost:
            status = "lost"
        elif roll < h.lost + h.returned:
            status = "returned"
        else:
            if roll < h.lost + h.returned + h.damaged:
                status = "damaged"
            arrival = add_working_days(day, transit(h, lane, rnd))
            if arrival == day:  # same-day delivery: later than the hand-over
                at = min(handed + timedelta(minutes=rnd.randrange(120, 360)), datetime.combine(day, time(22), tz_o))
                delivered = at.astimezone(tz_d)
            else:
                delivered = datetime.combine(arrival, time(rnd.randrange(10, 21), rnd.randrange(60)), tz_d)
        complaint = status != "lost" and rnd.random() < h.complaint
        out.append(Row(lane, handed, promised, delivered, status, complaint, rnd.random() < 0.05))
    return out


def _calm(rows: list[Row], key, limit: int, rule: SuspensionRule) -> None:  # type: ignore[no-untyped-def]
    """Turn serious failures into plain deliveries until no scope's worst window reaches `limit`."""
    by_scope: dict[object, list[Row]] = defaultdict(list)
    for row in rows:
        if row.serious:
            by_scope[key(row)].append(row)
    for scoped in by_scope.values():
        while True:
            log = Counter((r.failure_day, r.kind) for r in scoped if r.serious)
            window = worst_window(log, rule.window_days)
            if window is None or window.failures < limit:
                break
            victim = next(r for r in scoped if r.serious and window.first_day <= r.failure_day <= window.last_day)
            victim.status, victim.complaint = "delivered", False
            if victim.delivered is None:
                victim.delivered = datetime.combine(
                    victim.promised, time(15), ZoneInfo(victim.lane.destination.timezone)
                )


def plant_story(rows: list[Row], all_lanes: list[Lane]) -> None:
    carrier, service, o, d = STORY
    lane = next(
        lane
        for lane in all_lanes
        if (lane.carrier, lane.service, lane.origin.city, lane.destination.city) == (carrier, service, o, d)
    )
    scope = (carrier, region(lane.origin), region(lane.destination))
    for row in rows:  # nothing else serious near the story on its lane, so the count is exactly two
        r = row.lane
        if (
            (r.carrier, region(r.origin), region(r.destination)) == scope
            and row.serious
            and row.failure_day >= STORY_FAILURES[0][0] - timedelta(days=14)
        ):
            row.status, row.complaint = "delivered", False
            row.delivered = row.delivered or datetime.combine(
                row.promised, time(15), ZoneInfo(lane.destination.timezone)
            )
    tz_o, tz_d = ZoneInfo(lane.origin.timezone), ZoneInfo(lane.destination.timezone)
    for day, kind in STORY_FAILURES:
        handed = datetime.combine(add_working_days(day, -5), time(11), tz_o)
        delivered = None if kind == "lost" else datetime.combine(day, time(14), tz_d)
        if kind == "lost":
            handed = datetime.combine(day, time(11), tz_o)
        rows.append(Row(lane, handed, add_working_days(handed.date(), lane.max_days), delivered, kind, False, False))


def csv_lines(rows: list[Row]) -> Iterator[list[str]]:
    yield list(COLUMNS)
    for i, row in enumerate(rows):
        lane = row.lane

        def end(place: Place, as_point: bool = row.as_point) -> str:
            return f"{place.lat:.5f},{place.lon:.5f}" if as_point else region(place)

        yield [
            f"demo-{i:07d}",
            lane.carrier,
            lane.service,
            end(lane.origin),
            end(lane.destination),
            row.handed_over.isoformat(),
            row.promised.isoformat(),
            row.delivered.isoformat() if row.delivered else "",
            row.status,
            "yes" if row.complaint else "no",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=36_000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    rnd = random.Random(args.seed)
    all_lanes = asyncio.run(lanes(Places()))
    rows = simulate(all_lanes, args.rows, rnd)
    rule = SuspensionRule()
    _calm(rows, lambda r: (r.lane.carrier, region(r.lane.origin), region(r.lane.destination)), rule.lane_failures, rule)
    # A margin below the carrier-wide bar, so the story's third failure suspends the lane only.
    _calm(rows, lambda r: r.lane.carrier, rule.carrier_failures - 2, rule)
    plant_story(rows, all_lanes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(csv_lines(rows))
    print(
        f"{args.out}: {len(rows)} outcomes over {len({(ln_.carrier, ln_.service, region(ln_.origin), region(ln_.destination)) for ln_ in all_lanes})} lanes"
    )


if __name__ == "__main__":
    main()
