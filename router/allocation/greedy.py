"""The baseline a plan is measured against: each order in turn takes its cheapest option.

"Cheapest" is the same score the solver minimises (price plus the day value of the transit);
capacity goes first come, first served, so a later order finds a full pickup and moves to its
next option, or goes unserved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from router.allocation.costing import kopecks
from router.allocation.flat import Flat, flatten
from router.allocation.model import Candidates, Terms


def greedy_choice(
    candidates: Sequence[Candidates], terms: Terms, flat: Flat | None = None
) -> tuple[list[int | None], dict[int, str]]:
    """An option index per order (None when unserved) and, for orders left out, which pickups were full."""
    flat = flat or flatten(candidates, terms)
    score = flat.price + kopecks(terms.day_value) * flat.days
    # Each order's options cheapest first, then earliest date, then by warehouse, carrier, service.
    ranked = _rank(flat.order, score, flat.eta - flat.eta.min(initial=0), flat.label)
    group = flat.group[ranked].tolist()
    local = flat.local[ranked].tolist()
    first = flat.first.tolist()
    unlimited = int(flat.parcels.sum()) + 1
    room = [unlimited if cap is None else cap for cap in flat.capacity]
    choice: list[int | None] = [None] * len(candidates)
    full: dict[int, str] = {}
    for m, (i, p) in enumerate(zip(flat.orders.tolist(), flat.parcels.tolist(), strict=False)):
        for j in range(first[m], first[m + 1]):
            g = group[j]
            if room[g] >= p:
                room[g] -= p
                choice[i] = local[j]
                break
        else:
            pickups = sorted({f"{o.carrier} at {o.warehouse}" for o in candidates[i].options})
            full[i] = "capacity taken by earlier orders: " + ", ".join(pickups)
    return choice, full


def _rank(*keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Indices sorting by the keys, first key first. The keys (all non-negative) are packed into
    one integer when they fit: a single sort of a million options is many times a lexsort's speed."""
    widths = [int(k.max(initial=0)).bit_length() for k in keys]
    if sum(widths) > 62 or any(int(k.min(initial=0)) < 0 for k in keys):
        return np.lexsort(keys[::-1])
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for key, width in zip(keys, widths, strict=False):
        packed = (packed << width) | key
    return np.argsort(packed, kind="stable")
