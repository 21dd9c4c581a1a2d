"""The allocation in CP-SAT: one boolean per option, capacities, and the volume-discount tiers.

Read in the OR-Tools samples' order: data, model, variables, constraints, objective, solve,
read the solution. Slower than the flow (`router.allocation.flow`), but it can price a discount
that depends on how many parcels a carrier gets in the month.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from router.allocation.costing import basis_points, best_tier, discount_kopecks
from router.allocation.flat import Flat
from router.allocation.model import Candidates, DiscountTier, SolveStatus, Terms
from router.allocation.solver import AllocationError, Solution, SolverData, SolverOptions, solver_data

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


@dataclass(frozen=True, slots=True)
class _Listed:
    """`SolverData` as Python lists, for building a CP-SAT model one variable at a time."""

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


def _listed(data: SolverData) -> _Listed:
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
    data = _listed(solver_data(candidates, terms, flat=flat))
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
