"""The allocation as a min-cost flow: exact and fast, without volume-discount tiers.

Each order sends its parcels to one carrier×warehouse pickup node (an arc per option, costed at
the option's price), each pickup node drains into the sink through an arc as wide as its daily
capacity, and a direct order→sink arc costed at the unserved penalty keeps the network balanced.
A multi-parcel order may come out split across options; `solve_flow_whole` settles those.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
from ortools.graph.python import min_cost_flow

from router.allocation.flat import Flat, choice_of
from router.allocation.model import Candidates, SolveStatus, Terms
from router.allocation.solver import AllocationError, Solution, solver_data

# Flow arcs carry parcels; a multi-parcel order's per-parcel cost is scaled by the least common
# multiple of the parcel counts to stay integral. Past this the costs risk int64 overflow.
MAX_FLOW_SCALE = 10_000
MAX_SPLIT_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class _Flow:
    choice: tuple[int | None, ...]  # orders the flow split are None here
    split: dict[int, int]  # order position → the option that carried most of its parcels
    objective_kop: int  # rounded down when orders were split: still a lower bound
    penalty_kop: int
    unserved_share: Fraction  # orders left out, a split order counting by its parcels left out


def solve_flow(
    candidates: Sequence[Candidates],
    terms: Terms,
    off_bp: Mapping[str, int] | None = None,
    flat: Flat | None = None,
) -> Solution | None:
    """The exact optimum without discount tiers; None when a multi-parcel order would be split.

    `off_bp` prices carriers that many basis points below their quotes, tiers reached or not:
    at every tiered carrier's deepest discount no plan costs less than this optimum, a lower
    bound for the problem with tiers.
    """
    started = time.perf_counter()
    found = _flow(candidates, terms, off_bp, flat)
    if found is None or found.split:
        return None
    return Solution(
        found.choice, SolveStatus.OPTIMAL, "min-cost-flow", found.objective_kop, found.objective_kop,
        found.penalty_kop, time.perf_counter() - started, int(found.unserved_share),
    )  # fmt: skip


def solve_flow_whole(
    candidates: Sequence[Candidates],
    terms: Terms,
    off_bp: Mapping[str, int] | None = None,
    flat: Flat | None = None,
) -> Solution | None:
    """A flow plan that keeps every order whole, proved optimal only when nothing had to be split.

    An order the flow splits is held to the option that carried most of its parcels, and left
    out if the flow splits it again; a few rounds settle. The first flow, split orders and all,
    is the lower bound (`bound_kop`) of a FEASIBLE answer.
    """
    started = time.perf_counter()
    first = _flow(candidates, terms, off_bp, flat)
    if first is None:
        return None
    allowed: dict[int, tuple[int, ...]] = {}
    found = first
    for _ in range(MAX_SPLIT_ROUNDS):
        if not found.split:
            break
        for i, k in found.split.items():
            allowed[i] = () if i in allowed else (k,)
        narrowed = [
            replace(c, options=tuple(c.options[k] for k in allowed[i])) if i in allowed else c
            for i, c in enumerate(candidates)
        ]
        again = _flow(narrowed, terms, off_bp)
        if again is None:
            return None
        found = _Flow(
            tuple(k if k is None or i not in allowed else allowed[i][k] for i, k in enumerate(again.choice)),
            {i: allowed[i][k] if i in allowed else k for i, k in again.split.items()},
            again.objective_kop,
            again.penalty_kop,
            again.unserved_share,
        )
    if found.split:
        return None
    status = SolveStatus.OPTIMAL if not first.split else SolveStatus.FEASIBLE
    # The split flow serves the most orders there can be, counting parts of orders; a whole plan
    # leaving out no more than that rounded up leaves out the fewest possible.
    fewest = math.ceil(first.unserved_share)
    left_out = sum(1 for c, k in zip(candidates, found.choice, strict=False) if c.options and k is None)
    return Solution(
        found.choice, status, "min-cost-flow", found.objective_kop, first.objective_kop, first.penalty_kop,
        time.perf_counter() - started, fewest if left_out == fewest else None,
    )  # fmt: skip


def _flow(
    candidates: Sequence[Candidates], terms: Terms, off_bp: Mapping[str, int] | None = None, flat: Flat | None = None
) -> _Flow | None:

    # --- data
    data = solver_data(candidates, terms, off_bp, flat)
    f = data.flat
    n_orders, n_pickups, n_options = len(f.orders), len(f.pickups), len(f.local)
    scale = math.lcm(*np.unique(f.parcels).tolist()) if n_orders else 1
    if scale > MAX_FLOW_SCALE:
        return None
    parcels = f.parcels
    option_order = f.order
    per_parcel = scale // parcels  # integral: scale is a multiple of every order's parcel count
    # Serving one more order moves parcels along a path that passes each pickup at most once, so
    # its cost changes by less than (pickups + 1) dearest options; a penalty above that still
    # serves as many orders as possible, and a small one keeps cost scaling to few rounds.
    dearest = int(data.cost.max(initial=0)) * int(parcels.max(initial=1))
    penalty = min(data.penalty, (n_pickups + 1) * dearest + 1)

    # --- model: nodes are orders, then pickups, then the sink
    sink = n_orders + n_pickups
    flow = min_cost_flow.SimpleMinCostFlow()

    # --- variables: an arc per option, an unserved arc per order, a capacity arc per pickup
    demand = np.bincount(f.group, weights=parcels[option_order], minlength=n_pickups).astype(np.int64)
    capacity = np.array(
        [demand[g] if cap is None else min(cap, demand[g]) for g, cap in enumerate(f.capacity)], dtype=np.int64
    )
    tails = np.concatenate([option_order, np.arange(n_orders), n_orders + np.arange(n_pickups)])
    heads = np.concatenate([n_orders + f.group, np.full(n_orders, sink), np.full(n_pickups, sink)])
    widths = np.concatenate([parcels[option_order], parcels, capacity])
    unit_costs = np.concatenate(
        [data.cost * per_parcel[option_order], penalty * per_parcel, np.zeros(n_pickups, dtype=np.int64)]
    )
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, widths, unit_costs)

    # --- constraints: every order's parcels leave it, all of them reach the sink
    supplies = np.concatenate([parcels, np.zeros(n_pickups, dtype=np.int64), [-int(parcels.sum())]])
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)

    # --- objective: the arcs' unit costs

    # --- solve
    status = flow.solve()
    if status != flow.OPTIMAL:
        # Every order has its unserved arc, so the network is always feasible and balanced.
        raise AllocationError(f"min-cost flow ended with status {status!r}")

    # --- read the solution: an option carrying all of its order's parcels is that order's choice
    sent = flow.flows(np.arange(n_options))
    used = np.nonzero(sent)[0]
    whole = sent[used] == parcels[option_order[used]]
    picked = np.full(n_orders, -1, dtype=np.int64)
    picked[option_order[used[whole]]] = used[whole]
    split: dict[int, int] = {}
    for m in np.unique(option_order[used[~whole]]).tolist():
        lo, hi = int(f.first[m]), int(f.first[m + 1])
        split[int(f.orders[m])] = int(f.local[lo + int(np.argmax(sent[lo:hi]))])
    left = flow.flows(np.arange(n_options, n_options + n_orders))
    partly = np.nonzero(left)[0]
    share = sum((Fraction(int(left[m]), int(parcels[m])) for m in partly.tolist()), Fraction(0))
    return _Flow(choice_of(f, picked), split, int(flow.optimal_cost()) // scale, penalty, share)
