"""The baseline a plan is measured against: each order in turn takes its cheapest option.

"Cheapest" is the same score the solver minimises (price plus the day value of the transit);
capacity goes first come, first served, so a later order finds a full pickup and moves to its
next option, or goes unserved.
"""

from __future__ import annotations

from collections.abc import Sequence

from router.allocation.costing import kopecks
from router.allocation.model import Candidates, Terms


def greedy_choice(candidates: Sequence[Candidates], terms: Terms) -> tuple[list[int | None], dict[int, str]]:
    """An option index per order (None when unserved) and, for orders left out, which pickups were full."""
    day_kop = kopecks(terms.day_value)
    left: dict[tuple[str, str], int] = {
        (c.carrier, c.warehouse): c.max_parcels for c in terms.capacities
    }
    choice: list[int | None] = []
    full: dict[int, str] = {}
    for i, c in enumerate(candidates):
        ranked = sorted(
            range(len(c.options)),
            key=lambda k: (
                c.options[k].price_kop + day_kop * c.options[k].days,
                c.options[k].eta_max_date,
                c.options[k].warehouse,
                c.options[k].carrier,
                c.options[k].service,
            ),
        )
        picked = None
        for k in ranked:
            key = (c.options[k].carrier, c.options[k].warehouse)
            room = left.get(key)
            if room is None or room >= c.parcels:
                picked = k
                if room is not None:
                    left[key] = room - c.parcels
                break
        choice.append(picked)
        if picked is None and c.options:
            pickups = sorted({f"{o.carrier} at {o.warehouse}" for o in c.options})
            full[i] = "capacity taken by earlier orders: " + ", ".join(pickups)
    return choice, full
