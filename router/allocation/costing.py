"""What a choice of one option (or none) per order costs, volume discounts included.

The solver and the greedy baseline are both priced here, so their totals compare like for like.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from router.allocation.flat import Flat, Ints
from router.allocation.model import (
    Assignment,
    Candidates,
    CarrierDiscount,
    Costing,
    DiscountTier,
    Terms,
    Unserved,
    UnservedReason,
)
from router.core.models import KOPECK

ZERO = Decimal("0.00")


def kopecks(amount: Decimal) -> int:
    return int(amount.quantize(KOPECK) * 100)


def basis_points(percent: Decimal) -> int:
    return int(percent * 100)


def discount_kopecks(spend_kop: int, tier: DiscountTier) -> int:
    # Rounded down: the solver's linear model can only express floor(spend × bp / 10000).
    return spend_kop * basis_points(tier.percent) // 10_000


def best_tier(tiers: Sequence[DiscountTier], month_parcels: int, spend_kop: int) -> DiscountTier | None:
    reached = [t for t in tiers if month_parcels >= t.min_parcels]
    return max(reached, key=lambda t: (discount_kopecks(spend_kop, t), t.min_parcels), default=None)


def cost(
    candidates: Sequence[Candidates],
    choice: Sequence[int | None],
    terms: Terms,
    capacity_reason: dict[int, str] | None = None,
    flat: Flat | None = None,
) -> Costing:
    """Price `choice` (an option index per order, None for unserved).

    An order with options but no choice is unserved for capacity; `capacity_reason` may give
    the detail by order position. With the day's `flat` arrays the sums are array work, not a
    walk over the chosen options.
    """
    assignments: list[Assignment] = []
    unserved: list[Unserved] = []
    if flat is None:
        spend: dict[str, int] = defaultdict(int)
        parcels: dict[str, int] = defaultdict(int)
        days = 0
        for i, (c, k) in enumerate(zip(candidates, choice, strict=True)):
            if k is None:
                unserved.append(_unserved(i, c, capacity_reason))
                continue
            option = c.options[k]
            assignments.append(Assignment(c.order_id, option))
            spend[option.carrier] += option.price_kop
            parcels[option.carrier] += c.parcels
            days += option.days
    else:
        if len(choice) != len(candidates):
            raise ValueError("one choice per candidate")
        assignments = [
            Assignment(c.order_id, c.options[k]) for c, k in zip(candidates, choice, strict=False) if k is not None
        ]
        unserved = [
            _unserved(i, c, capacity_reason)
            for i, (c, k) in enumerate(zip(candidates, choice, strict=False))
            if k is None
        ]
        local = np.asarray([_NONE if k is None else k for k in choice], dtype=np.int64)
        if len(local) and int(local.min()) < 0:
            raise IndexError("an option index must not be negative")
        spend, parcels, days = _sums(flat, local)

    tiers_of: dict[str, list[DiscountTier]] = defaultdict(list)
    for tier in terms.tiers:
        tiers_of[tier.carrier].append(tier)
    discounts: list[CarrierDiscount] = []
    for carrier in sorted(spend):
        month = terms.month_to_date.get(carrier, 0) + parcels[carrier]
        reached = best_tier(tiers_of.get(carrier, ()), month, spend[carrier])
        if reached is not None:
            amount = discount_kopecks(spend[carrier], reached)
            discounts.append(CarrierDiscount(carrier, parcels[carrier], month, reached.percent, _rub(amount)))

    total_spend = _rub(sum(spend.values()))
    total = total_spend - sum((d.amount for d in discounts), ZERO)
    objective = total + terms.day_value * days
    return Costing(tuple(assignments), tuple(unserved), tuple(discounts), total_spend, total, objective)


_NONE = np.iinfo(np.int64).max  # no option chosen


def _unserved(i: int, c: Candidates, capacity_reason: dict[int, str] | None) -> Unserved:
    if c.unservable is not None:
        return c.unservable
    detail = (capacity_reason or {}).get(i, "every pickup it could use is full")
    return Unserved(c.order_id, UnservedReason.CAPACITY, detail)


def _sums(flat: Flat, choice: Ints) -> tuple[dict[str, int], dict[str, int], int]:
    """Spend (kopecks) and parcels per carrier with any chosen option, and the chosen transit days.

    `choice` is the option index per candidate, `_NONE` for none; every index is within its options.
    """
    local = choice[flat.orders]
    served = local != _NONE
    chosen = flat.first[:-1][served] + local[served]
    group = flat.group[chosen]
    n_pickups = len(flat.pickups)
    # Integer sums per pickup (np.add.at keeps int64; bincount would go through floats).
    spend_at = np.zeros(n_pickups, dtype=np.int64)
    np.add.at(spend_at, group, flat.price[chosen])
    parcels_at = np.zeros(n_pickups, dtype=np.int64)
    np.add.at(parcels_at, group, flat.parcels[served])
    used_at = np.bincount(group, minlength=n_pickups)
    spend: dict[str, int] = defaultdict(int)
    parcels: dict[str, int] = defaultdict(int)
    for (carrier, _), s, p, used in zip(
        flat.pickups, spend_at.tolist(), parcels_at.tolist(), used_at.tolist(), strict=False
    ):
        if used:
            spend[carrier] += s
            parcels[carrier] += p
    return spend, parcels, int(flat.days[chosen].sum())


def _rub(kop: int) -> Decimal:
    return (Decimal(kop) / 100).quantize(KOPECK)
