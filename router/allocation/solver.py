"""Choose one option per order, or none, at the lowest total cost, with OR-Tools.

Two models of one problem, both in integer kopecks and integer days:

- `solve_flow`: a min-cost flow. Each order sends its parcels to one carrier×warehouse pickup
  node (an arc per option, costed at the option's price), each pickup node drains into the sink
  through an arc as wide as its daily capacity, and a direct order→sink arc costed at the
  unserved penalty keeps the network balanced. Network simplex solves it exactly and fast,
  but it cannot express a discount that depends on the total parcel count.
- `solve_cp_sat`: the same choice as booleans in CP-SAT, plus the volume-discount tiers.

Leaving an order unserved costs more than serving every order at its dearest option, so the
solver serves as many orders as capacity allows before it looks at price.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
from ortools.graph.python import min_cost_flow

from router.allocation.costing import basis_points, best_tier, discount_kopecks, kopecks
from router.allocation.flat import Flat, Ints, choice_of, flatten
from router.allocation.model import Candidates, DiscountTier, SolveStatus, Terms

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

# Flow arcs carry parcels; a multi-parcel order's per-parcel cost is scaled by the least common
# multiple of the parcel counts to stay integral. Past this the costs risk int64 overflow.
MAX_FLOW_SCALE = 10_000
MAX_SPLIT_ROUNDS = 4


class AllocationError(Exception):
    """The solver reported something a well-formed model cannot produce."""


@dataclass(frozen=True, slots=True)
class SolverOptions:
    time_limit_s: float = 10.0
    # CP-SAT's portfolio: eight workers share the cores even on a small machine, because the
    # strategies that prove discount models (LP with cuts, objective shaving) only join from
    # about that many; with one per core on two cores the proofs stalled.
    num_workers: int = 8
    relative_gap: float = 0.0  # stop once proved within this fraction of the best possible


@dataclass(frozen=True, slots=True)
class Solution:
    choice: tuple[int | None, ...]  # option index per order; None for unserved
    status: SolveStatus
    method: str
    objective_kop: int  # cost + day value − discounts + penalties
    bound_kop: int  # proven lower bound on objective_kop
    penalty_kop: int  # what one unserved order adds to the objective
    wall_time_s: float
    fewest_unserved: int | None = None  # proved: no plan leaves fewer orders with options out


@dataclass(frozen=True, slots=True)
class _Data:
    """The instance as flat integer arrays (`Flat`), with the costs the solver minimises."""

    flat: Flat
    cost: Ints  # price (less any assumed discount) + day value, kopecks
    penalty: int  # more than serving every order at its dearest option


def _data(
    candidates: Sequence[Candidates], terms: Terms, off_bp: Mapping[str, int] | None = None, flat: Flat | None = None
) -> _Data:
    """`off_bp` prices each listed carrier that many basis points lower, rounded down."""
    flat = flat or flatten(candidates, terms)
    price = flat.price
    cost = price.copy()
    if off_bp:
        cut = np.asarray([off_bp.get(carrier, 0) for carrier in flat.carrier_of_pickup], dtype=np.int64)[flat.group]
        cost = np.where(cut > 0, price * (10_000 - cut) // 10_000, price)
    cost = cost + kopecks(terms.day_value) * flat.days
    dearest = np.maximum.reduceat(cost, flat.first[:-1]) if len(cost) else cost
    return _Data(flat, cost, 1 + int(dearest.sum()))


@dataclass(frozen=True, slots=True)
class _Listed:
    """`_Data` as Python lists, for building a CP-SAT model one variable at a time."""

    orders: list[int]
    parcels: list[int]
    first: list[int]
    local: list[int]
    order: list[int]
    cost: list[int]
    price: list[int]
    group: list[int]
    pickups: list[tuple[str, str]]
    capacity: list[int | None]
    penalty: int


def _listed(data: _Data) -> _Listed:
    f = data.flat
    return _Listed(
        f.orders.tolist(), f.parcels.tolist(), f.first.tolist(), f.local.tolist(), f.order.tolist(),
        data.cost.tolist(), f.price.tolist(), f.group.tolist(), f.pickups, f.capacity, data.penalty,
    )  # fmt: skip


def _choice(n: int, data: _Listed, picked: dict[int, int]) -> tuple[int | None, ...]:
    """Option index per candidate from the chosen flat option per modelled order."""
    out: list[int | None] = [None] * n
    for m, j in picked.items():
        out[data.orders[m]] = data.local[j]
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Min-cost flow


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
    data = _data(candidates, terms, off_bp, flat)
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


# ---------------------------------------------------------------------------------------------
# CP-SAT


def solve_cp_sat(
    candidates: Sequence[Candidates],
    terms: Terms,
    options: SolverOptions,
    hint: Sequence[int | None] | None = None,
    fewest_unserved: int | None = None,
    flat: Flat | None = None,
) -> Solution | None:
    """The optimum with discount tiers (or the best found in the time limit); None if nothing was found.

    `fewest_unserved`, when known (a min-cost flow that split no order proves it), replaces the
    unserved penalty by a constraint: without the penalty's huge coefficients the search and its
    bound are much stronger.
    """
    # Imported here: CP-SAT (and the pandas it loads) takes a third of a second to import, and
    # re-rating without day plans, or a day the flow settles, never needs it.
    from ortools.sat.python import cp_model

    started = time.perf_counter()

    # --- data
    data = _listed(_data(candidates, terms, flat=flat))
    n_orders, n_options = len(data.orders), len(data.local)
    tiers_of: dict[str, list[DiscountTier]] = defaultdict(list)
    for tier in terms.tiers:
        tiers_of[tier.carrier].append(tier)

    # --- model
    model = cp_model.CpModel()

    # --- variables
    x = [model.new_bool_var("") for _ in range(n_options)]
    unserved = [model.new_bool_var("") for _ in range(n_orders)]

    # --- constraints: one option per order, or none
    for m in range(n_orders):
        model.add_exactly_one([*x[data.first[m] : data.first[m + 1]], unserved[m]])

    penalty = data.penalty
    if fewest_unserved is not None:
        model.add(cp_model.LinearExpr.sum(unserved) <= fewest_unserved)
        penalty = 0

    # --- constraints: parcels per pickup within its daily capacity
    members: dict[int, list[int]] = defaultdict(list)
    for j, g in enumerate(data.group):
        members[g].append(j)
    for g, cap in enumerate(data.capacity):
        weights = [data.parcels[data.order[j]] for j in members[g]]
        if cap is not None and sum(weights) > cap:
            model.add(cp_model.LinearExpr.weighted_sum([x[j] for j in members[g]], weights) <= cap)

    # --- constraints: volume discounts
    # A tier's boolean may be on only when the month's parcels reach its threshold; its discount
    # variable is at most the percentage of the carrier's spend and zero unless the boolean is on
    # (big-M: the percentage of the most the carrier could be paid today).
    discounts: list[cp_model.IntVar] = []
    tier_vars: list[tuple[str, DiscountTier, cp_model.IntVar, cp_model.IntVar]] = []
    by_carrier: dict[str, list[int]] = defaultdict(list)
    for j, g in enumerate(data.group):
        by_carrier[data.pickups[g][0]].append(j)
    for carrier, tiers in tiers_of.items():
        jobs = by_carrier.get(carrier, [])
        if not jobs:
            continue
        parcels = cp_model.LinearExpr.weighted_sum([x[j] for j in jobs], [data.parcels[data.order[j]] for j in jobs])
        spend = cp_model.LinearExpr.weighted_sum([x[j] for j in jobs], [data.price[j] for j in jobs])
        dearest: dict[int, int] = {}
        reachable = 0
        for j in jobs:
            m = data.order[j]
            if m not in dearest:
                reachable += data.parcels[m]
            dearest[m] = max(dearest.get(m, 0), data.price[j])
        most_spend = sum(dearest.values())
        already = terms.month_to_date.get(carrier, 0)
        chosen: list[cp_model.IntVar] = []
        for tier in tiers:
            need = tier.min_parcels - already
            if need > reachable:
                continue
            on = model.new_bool_var("")
            if need > 0:
                model.add(parcels >= need).only_enforce_if(on)
            bp = basis_points(tier.percent)
            big_m = most_spend * bp // 10_000
            amount = model.new_int_var(0, big_m, "")
            model.add(10_000 * amount <= bp * spend)
            model.add(amount <= big_m * on)
            chosen.append(on)
            discounts.append(amount)
            tier_vars.append((carrier, tier, on, amount))
        if chosen:
            model.add_at_most_one(chosen)

    # --- objective
    model.minimize(
        cp_model.LinearExpr.weighted_sum(x, data.cost)
        + penalty * cp_model.LinearExpr.sum(unserved)
        - cp_model.LinearExpr.sum(discounts)
    )

    # --- hint: start from the baseline so a short time limit still returns at least as good a plan
    if hint is not None:
        _hint(model, data, hint, x, unserved, tier_vars, terms)

    # --- solve
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = options.time_limit_s
    solver.parameters.num_workers = options.num_workers
    solver.parameters.relative_gap_limit = options.relative_gap
    # The LP relaxation with cuts is what proves a bound on the discount model; level 1 rarely does.
    solver.parameters.linearization_level = 2
    status = solver.solve(model)

    # --- read the solution
    if status == cp_model.OPTIMAL:
        verdict = SolveStatus.OPTIMAL
    elif status == cp_model.FEASIBLE:
        verdict = SolveStatus.FEASIBLE
    elif status == cp_model.UNKNOWN:
        return None  # the time limit ran out before any solution
    elif status == cp_model.INFEASIBLE:
        raise AllocationError("CP-SAT found the model infeasible, yet leaving every order unserved is a solution")
    else:
        raise AllocationError(f"CP-SAT rejected the model: {solver.status_name(status)}")
    picked: dict[int, int] = {}
    for m in range(n_orders):
        for j in range(data.first[m], data.first[m + 1]):
            if solver.boolean_value(x[j]):
                picked[m] = j
                break
    objective = round(solver.objective_value)
    bound = objective if verdict is SolveStatus.OPTIMAL else math.ceil(solver.best_objective_bound)
    return Solution(
        _choice(len(candidates), data, picked),
        verdict,
        "cp-sat",
        objective,
        bound,
        penalty,
        time.perf_counter() - started,
    )


def _hint(
    model: cp_model.CpModel,
    data: _Listed,
    hint: Sequence[int | None],
    x: list[cp_model.IntVar],
    unserved: list[cp_model.IntVar],
    tier_vars: list[tuple[str, DiscountTier, cp_model.IntVar, cp_model.IntVar]],
    terms: Terms,
) -> None:
    spend: dict[str, int] = defaultdict(int)
    parcels: dict[str, int] = defaultdict(int)
    for m, i in enumerate(data.orders):
        k = hint[i]
        for j in range(data.first[m], data.first[m + 1]):
            picked = k is not None and data.local[j] == k
            model.add_hint(x[j], picked)
            if picked:
                carrier = data.pickups[data.group[j]][0]
                spend[carrier] += data.price[j]
                parcels[carrier] += data.parcels[m]
        model.add_hint(unserved[m], k is None)
    modelled: dict[str, list[DiscountTier]] = defaultdict(list)
    for carrier, tier, _, _ in tier_vars:
        modelled[carrier].append(tier)
    for carrier, tier, on, amount in tier_vars:
        month = terms.month_to_date.get(carrier, 0) + parcels[carrier]
        best = best_tier(modelled[carrier], month, spend[carrier])
        model.add_hint(on, best is tier)
        model.add_hint(amount, discount_kopecks(spend[carrier], tier) if best is tier else 0)
