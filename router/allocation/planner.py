"""The day's plan: the solver's choice beside the greedy baseline, priced and explained."""

from __future__ import annotations

import asyncio
import enum
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from router.allocation.candidates import DEFAULT_CONCURRENCY, gather_candidates
from router.allocation.costing import basis_points, cost
from router.allocation.greedy import greedy_choice
from router.allocation.model import (
    Candidates,
    Costing,
    Order,
    Plan,
    SolveStatus,
    Terms,
    Warehouse,
)
from router.allocation.solver import Solution, SolverOptions, solve_cp_sat, solve_flow
from router.models import KOPECK
from router.quoting import QuoteEngine

DEFAULT_OPTIONS = SolverOptions()
# Past this many options (a boolean each) building the CP-SAT model alone takes longer than a
# sensible time limit; the flows' plans and lower bound then stand alone.
MAX_CP_SAT_OPTIONS = 400_000
REPRICE_ROUNDS = 4


class Method(str, enum.Enum):
    AUTO = "auto"  # min-cost flow unless discount tiers need CP-SAT
    FLOW = "flow"
    CP_SAT = "cp-sat"


def plan(
    candidates: Sequence[Candidates],
    terms: Terms,
    options: SolverOptions = DEFAULT_OPTIONS,
    method: Method = Method.AUTO,
) -> Plan:
    """Choose one option per order (or none, with the reason) at the lowest total cost.

    Blocking: the solver can run for `options.time_limit_s`; call it from a thread in async code.
    """
    started = time.perf_counter()
    baseline, full = greedy_choice(candidates, terms)
    greedy = cost(candidates, baseline, terms, full)

    carriers = {o.carrier for c in candidates for o in c.options}
    needs_tiers = any(t.carrier in carriers for t in terms.tiers)
    if method is Method.FLOW and needs_tiers:
        raise ValueError("min-cost flow cannot express discount tiers; use cp-sat")
    flow = solve_flow(candidates, terms)
    if flow is None:
        # The flow would split a multi-parcel order across carriers: CP-SAT keeps orders whole.
        return _settle(candidates, terms, greedy, started, solve_cp_sat(candidates, terms, options, hint=baseline))
    if needs_tiers:
        return _with_tiers(candidates, terms, options, greedy, baseline, flow, started)
    if method is Method.CP_SAT:
        # The flow only settles how many orders can be served; CP-SAT chooses which, and how.
        fewest = _unserved(candidates, flow.choice)
        flow = solve_cp_sat(candidates, terms, options, hint=baseline, fewest_unserved=fewest)
    return _settle(candidates, terms, greedy, started, flow)


def _with_tiers(
    candidates: Sequence[Candidates],
    terms: Terms,
    options: SolverOptions,
    greedy: Costing,
    baseline: Sequence[int | None],
    flow: Solution,
    started: float,
) -> Plan:
    """Tiers: flows give good starts and a lower bound, CP-SAT weighs the discounts exactly.

    The flow at list prices proves how few orders must go unserved (tiers change no capacity),
    so CP-SAT gets that as a constraint instead of a penalty with huge coefficients. The flow
    at every tiered carrier's deepest discount bounds the cost from below. The plan is the best
    of greedy, both flows priced truly, and CP-SAT's answer within the time limit.
    """
    fewest = _unserved(candidates, flow.choice)
    optimistic = solve_flow(candidates, terms, _deepest_reachable(candidates, terms))
    starts = [(greedy, baseline), (cost(candidates, flow.choice, terms), flow.choice)]
    lower: Decimal | None = None
    if optimistic is not None and _unserved(candidates, optimistic.choice) == fewest:
        starts.append((cost(candidates, optimistic.choice, terms), optimistic.choice))
        lower = _rub(optimistic.objective_kop - optimistic.penalty_kop * fewest)
    starts += _repriced(candidates, terms, [choice for _, choice in starts[1:]], fewest)
    start_cost, start = min(starts, key=lambda s: _rank(s[0]))

    best, status, method = start, SolveStatus.FEASIBLE, "min-cost-flow"
    close_enough = lower is not None and start_cost.objective - lower <= lower * Decimal(options.relative_gap)
    if not close_enough and sum(len(c.options) for c in candidates) <= MAX_CP_SAT_OPTIONS:
        solution = solve_cp_sat(candidates, terms, options, hint=start, fewest_unserved=fewest)
        if solution is not None:
            if _rank(cost(candidates, solution.choice, terms)) <= _rank(start_cost):
                best, status, method = solution.choice, solution.status, "cp-sat"
            proved = _rub(solution.bound_kop)
            lower = proved if lower is None else max(lower, proved)
    chosen = cost(candidates, best, terms, _full_pickups(candidates, best, terms))
    if _rank(greedy) < _rank(chosen):
        return _plan(greedy, greedy, SolveStatus.GREEDY, method, lower or Decimal(0), started)
    if lower is not None and chosen.objective <= lower:
        status = SolveStatus.OPTIMAL
    return _plan(chosen, greedy, status, method, lower if lower is not None else Decimal(0), started)


def _deepest_reachable(candidates: Sequence[Candidates], terms: Terms) -> dict[str, int]:
    """Each tiered carrier's deepest discount (basis points) that today's parcels could reach.

    A carrier can take at most the parcels of the orders it quoted, and at most its pickups'
    capacities; a tier beyond that cannot apply, and leaving it out keeps the bound tight.
    """
    quoted: dict[str, int] = defaultdict(int)
    for c in candidates:
        for carrier in {o.carrier for o in c.options}:
            quoted[carrier] += c.parcels
    pickups: dict[str, set[str]] = defaultdict(set)
    for c in candidates:
        for o in c.options:
            pickups[o.carrier].add(o.warehouse)
    deepest: dict[str, int] = {}
    for tier in terms.tiers:
        caps = [terms.capacity(tier.carrier, w) for w in pickups[tier.carrier]]
        most = quoted[tier.carrier]
        if caps and all(cap is not None for cap in caps):
            most = min(most, sum(cap for cap in caps if cap is not None))
        if terms.month_to_date.get(tier.carrier, 0) + most >= tier.min_parcels:
            deepest[tier.carrier] = max(deepest.get(tier.carrier, 0), basis_points(tier.percent))
    return deepest


def _repriced(
    candidates: Sequence[Candidates], terms: Terms, seeds: list[Sequence[int | None]], fewest: int
) -> list[tuple[Costing, Sequence[int | None]]]:
    """Plans from flows that price each carrier at the discount it reached in the plan before.

    A carrier that reached a tier draws more orders at its discounted price; one that fell
    short loses them. A few rounds settle; each is one flow.
    """
    found: list[tuple[Costing, Sequence[int | None]]] = []
    tried: set[frozenset[tuple[str, int]]] = set()
    for seed in seeds:
        choice = seed
        for _ in range(REPRICE_ROUNDS):
            reached = {d.carrier: basis_points(d.percent) for d in cost(candidates, choice, terms).discounts}
            key = frozenset(reached.items())
            if key in tried:
                break
            tried.add(key)
            flow = solve_flow(candidates, terms, reached)
            if flow is None or _unserved(candidates, flow.choice) != fewest:
                break
            choice = flow.choice
            found.append((cost(candidates, choice, terms), choice))
    return found


def _settle(
    candidates: Sequence[Candidates], terms: Terms, greedy: Costing, started: float, solution: Solution | None
) -> Plan:
    """The solver's choice priced, or greedy's when the time limit left the solver nothing better."""
    if solution is None:
        return _plan(greedy, greedy, SolveStatus.GREEDY, "cp-sat", Decimal(0), started)
    chosen = cost(candidates, solution.choice, terms, _full_pickups(candidates, solution.choice, terms))
    if _rank(chosen) > _rank(greedy):
        return _plan(greedy, greedy, SolveStatus.GREEDY, solution.method, Decimal(0), started)
    penalties = solution.penalty_kop * _unserved(candidates, solution.choice)
    bound = min(chosen.objective, _rub(solution.bound_kop - penalties))
    return _plan(chosen, greedy, solution.status, solution.method, bound, started)


def _rank(costing: Costing) -> tuple[int, Decimal]:
    return (len(costing.unserved), costing.objective)


def _unserved(candidates: Sequence[Candidates], choice: Sequence[int | None]) -> int:
    """Orders that had options and got none."""
    return sum(1 for c, k in zip(candidates, choice) if c.options and k is None)


def _rub(kop: int) -> Decimal:
    return (Decimal(kop) / 100).quantize(KOPECK)


def _plan(chosen: Costing, greedy: Costing, status: SolveStatus, method: str, bound: Decimal, started: float) -> Plan:
    return Plan(
        assignments=chosen.assignments,
        unserved=chosen.unserved,
        discounts=chosen.discounts,
        total_cost=chosen.total_cost,
        objective=chosen.objective,
        greedy=greedy,
        status=status,
        method=method,
        bound=chosen.objective if status is SolveStatus.OPTIMAL else bound,
        wall_time_s=time.perf_counter() - started,
    )


def _full_pickups(candidates: Sequence[Candidates], choice: Sequence[int | None], terms: Terms) -> dict[int, str]:
    """For each order the solver left out, its pickups and how full they are."""
    load: dict[tuple[str, str], int] = defaultdict(int)
    for c, k in zip(candidates, choice):
        if k is not None:
            o = c.options[k]
            load[(o.carrier, o.warehouse)] += c.parcels
    reasons: dict[int, str] = {}
    for i, (c, k) in enumerate(zip(candidates, choice)):
        if k is None and c.options:
            pickups = sorted({(o.carrier, o.warehouse) for o in c.options})
            shown = []
            for carrier, warehouse in pickups:
                cap = terms.capacity(carrier, warehouse)
                shown.append(f"{carrier} at {warehouse} ({load[(carrier, warehouse)]} of {cap} parcels)")
            reasons[i] = "every pickup it could use is full: " + ", ".join(shown)
    return reasons


async def allocate(
    engine: QuoteEngine,
    orders: Sequence[Order],
    warehouses: Sequence[Warehouse],
    terms: Terms,
    options: SolverOptions = DEFAULT_OPTIONS,
    method: Method = Method.AUTO,
    ship_at: datetime | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Quote every order from each of its warehouses, then plan; the solve runs off the event loop."""
    candidates = await gather_candidates(engine, orders, warehouses, ship_at, concurrency, progress)
    return await asyncio.to_thread(plan, candidates, terms, options, method)
