"""Simulated delivery outcomes whose transit-time distribution is known exactly."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta

from router.core.calendar import add_working_days, is_working_day
from router.history.outcomes import Outcome, OutcomeStatus

HEADER = "shipment_id,carrier,service,origin,destination,handed_over_at,promised_date,delivered_at,status,complaint"


def working_days(start: date, count: int, rnd: random.Random) -> list[date]:
    """`count` random working days within 200 days of `start`."""
    days = [start + timedelta(days=i) for i in range(200)]
    pool = [d for d in days if is_working_day(d)]
    return [rnd.choice(pool) for _ in range(count)]


def simulate(
    carrier: str,
    service: str,
    lane: str,
    count: int,
    transit: Mapping[int, float],  # business days -> probability
    promised_days: int | None,
    rnd: random.Random,
    start: date = date(2026, 3, 2),
    prefix: str = "",
) -> tuple[list[Outcome], list[int]]:
    """Delivered outcomes (and their true transit days), handed over on working days."""
    origin, destination = lane.split(">")
    values, weights = zip(*sorted(transit.items()), strict=False)
    outcomes, truth = [], []
    for i, ship in enumerate(working_days(start, count, rnd)):
        days = rnd.choices(values, weights)[0]
        outcomes.append(
            Outcome(
                shipment_id=f"{prefix}{carrier}-{service}-{lane}-{i}",
                carrier=carrier,
                service=service,
                origin=origin,
                destination=destination,
                handed_over_on=ship,
                status=OutcomeStatus.DELIVERED,
                delivered_on=add_working_days(ship, days),
                promised_on=add_working_days(ship, promised_days) if promised_days is not None else None,
            )
        )
        truth.append(days)
    return outcomes, truth


def quantile(distribution: Mapping[int, float], q: float) -> int:
    """The smallest day count whose cumulative probability reaches q."""
    total = sum(distribution.values())
    running = 0.0
    for days in sorted(distribution):
        running += distribution[days] / total
        if running >= q - 1e-12:
            return days
    return max(distribution)
