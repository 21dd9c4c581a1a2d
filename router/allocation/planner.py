"""The day's plan: the solver's choice beside the greedy baseline, priced and explained."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import gc
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from router.allocation.candidates import DEFAULT_CONCURRENCY, gather_candidates
from router.allocation.costing import basis_points, cost
from router.allocation.cp_sat import solve_cp_sat
from router.allocation.flat import Flat, flatten
from router.allocation.flow import solve_flow_whole
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
from router.allocation.solver import Solution, SolverOptions
from router.core.models import KOPECK

if TYPE_CHECKING:
    from router.quoting.engine import QuoteEngine  # the engine's module loads every carrier's client

DEFAULT_OPTIONS = SolverOptions()
# Past this many options (a boolean each) building the CP-SAT model alone takes longer than a
# sensible time limit; the flows' plans and lower bound then stand alone.
MAX_CP_SAT_OPTIONS = 400_000
REPRICE_ROUNDS = 4


class Method(enum.StrEnum):
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
    with _collector_held():
        return _plan_day(candidates, terms, options, method)


@contextlib.contextmanager
def _collector_held() -> Iterator[None]:
    """Hold off Python's cyclic collector while planning, and let it run afterwards as it would.

    A day's candidates are millions of long-lived objects (1.65 million options at 100,000
    orders), and the tens of thousands of assignments a plan creates make the collector walk
    all of them now and then: a full collection took 0.6-0.7 s, in two plans of three. Planning
    makes no reference cycles for it to find, so it is held off for the plan's duration. When
    it was already off (or another plan holds it), it is left as it is.
    """
    global _holders
    with _hold_lock:
        if _holders == 0 and not gc.isenabled():
            held = False
        else:
            held = True
            _holders += 1
            gc.disable()
    try:
        yield
    finally:
        if held:
            with _hold_lock:
                _holders -= 1
                if _holders == 0:
                    gc.enable()


_holders = 0  # plans running with the collector held off (plans run in threads from the API)
_hold_lock = threading.Lock()


def _plan_day(candidates: Sequence[Candidates], terms: Terms, options: SolverOptions, method: Method) -> Plan:
    started = time.perf_counter()
    flat = flatten(candidates, terms)
    baseline, full = greedy_choice(candidates, terms, flat)
    greedy = cost(candidates, baseline, terms, full, flat)

    carriers = {carrier for carrier, _ in flat.pickups}
    needs_tiers = any(t.carrier in carriers for t in terms.tiers)
    if method is Method.FLOW and needs_tiers:
        raise ValueError("min-cost flow cannot express discount tiers; use cp-sat")
    flow = solve_flow_whole(candidates, terms, flat=flat)
    if flow is None:
        # Orders of very different parcel counts: the flow's scaled costs would overflow.
        solved = solve_cp_sat(candidates, terms, options, hint=baseline, flat=flat)
        return _settle(candidates, terms, greedy, started, solved, flat=flat)
    if needs_tiers:
        return _with_tiers(candidates, terms, options, greedy, baseline, flow, started, flat)
    if method is Method.CP_SAT or not _settled(candidates, terms, flow, options):
        # A proved flow settles how many orders can be served, and CP-SAT chooses which (from
        # greedy's start when asked for by name, so that it is measured on its own); when the
        # flow had to split an order, CP-SAT starts from its repaired plan instead.
        repaired_better = _rank(cost(candidates, flow.choice, terms, flat=flat)) < _rank(greedy)
        hint = flow.choice if method is not Method.CP_SAT and repaired_better else baseline
        solved = solve_cp_sat(candidates, terms, options, hint=hint, fewest_unserved=flow.fewest_unserved, flat=flat)
        # On a tie CP-SAT's answer is taken: it may carry the proof the split flow lacks.
        as_good = solved is not None and _rank(cost(candidates, solved.choice, terms, flat=flat)) <= _rank(
            cost(candidates, flow.choice, terms, flat=flat)
        )
        if method is Method.CP_SAT or as_good:
            return _settle(candidates, terms, greedy, started, solved, also=flow, flat=flat)
    return _settle(candidates, terms, greedy, started, flow, flat=flat)


def _settled(candidates: Sequence[Candidates], terms: Terms, flow: Solution, options: SolverOptions) -> bool:
    """Whether the flow's plan is proved, or within the allowed gap of its own lower bound."""
    if flow.status is SolveStatus.OPTIMAL:
        return True
    objective = cost(candidates, flow.choice, terms).objective
    bound = _rub(flow.bound_kop - flow.penalty_kop * _unserved(candidates, flow.choice))
    return objective - bound <= bound * Decimal(options.relative_gap)


def _with_tiers(
    candidates: Sequence[Candidates],
    terms: Terms,
    options: SolverOptions,
    greedy: Costing,
    baseline: Sequence[int | None],
    flow: Solution,
    started: float,
    flat: Flat,
) -> Plan:
    """Tiers: flows give good starts and a lower bound, CP-SAT weighs the discounts exactly.

    A proved flow at list prices settles how few orders must go unserved (tiers change no
    capacity), so CP-SAT gets that as a constraint instead of a penalty with huge coefficients.
    The flow at every tiered carrier's deepest reachable discount bounds the cost from below.
    The plan is the best of greedy, the flows priced truly, and CP-SAT's answer in the time limit.
    """
    optimistic = solve_flow_whole(candidates, terms, _deepest_reachable(candidates, terms), flat)
    starts = [(greedy, baseline), (cost(candidates, flow.choice, terms, flat=flat), flow.choice)]
    if optimistic is not None:
        starts.append((cost(candidates, optimistic.choice, terms, flat=flat), optimistic.choice))
    starts += _repriced(candidates, terms, [choice for _, choice in starts[1:]], flat)
    start_cost, start = min(starts, key=lambda s: _rank(s[0]))

    def lower_for(unserved: int) -> Decimal | None:
        if optimistic is None:
            return None
        return _rub(optimistic.bound_kop - optimistic.penalty_kop * unserved)

    best, status, method = start, SolveStatus.FEASIBLE, "min-cost-flow"
    solution_bound: Decimal | None = None
    lower = lower_for(_unserved(candidates, start))
    close_enough = lower is not None and start_cost.objective - lower <= lower * Decimal(options.relative_gap)
    if not close_enough and sum(len(c.options) for c in candidates) <= MAX_CP_SAT_OPTIONS:
        fewest = flow.fewest_unserved
        solution = solve_cp_sat(candidates, terms, options, hint=start, fewest_unserved=fewest, flat=flat)
        if solution is not None:
            if _rank(cost(candidates, solution.choice, terms, flat=flat)) <= _rank(start_cost):
                best, status, method = solution.choice, solution.status, "cp-sat"
            if fewest is not None:  # penalty-free: its bound is in money already
                solution_bound = _rub(solution.bound_kop)
    chosen = cost(candidates, best, terms, _full_pickups(candidates, best, terms), flat)
    lower = lower_for(_unserved(candidates, best))
    if solution_bound is not None:
        lower = solution_bound if lower is None else max(lower, solution_bound)
    if _rank(greedy) < _rank(chosen):
        return _plan(greedy, greedy, SolveStatus.GREEDY, method, lower or Decimal(0), started)
    if lower is not None and chosen.objective <= lower:
        status = SolveStatus.OPTIMAL
    return _plan(chosen, greedy, status, method, max(lower or Decimal(0), Decimal(0)), started)


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
    candidates: Sequence[Candidates], terms: Terms, seeds: list[Sequence[int | None]], flat: Flat
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
            reached = {d.carrier: basis_points(d.percent) for d in cost(candidates, choice, terms, flat=flat).discounts}
            key = frozenset(reached.items())
            if key in tried:
                break
            tried.add(key)
            flow = solve_flow_whole(candidates, terms, reached, flat)
            if flow is None:
                break
            choice = flow.choice
            found.append((cost(candidates, choice, terms, flat=flat), choice))
    return found


def _settle(
    candidates: Sequence[Candidates],
    terms: Terms,
    greedy: Costing,
    started: float,
    solution: Solution | None,
    also: Solution | None = None,
    flat: Flat | None = None,
) -> Plan:
    """The solver's choice priced, or greedy's when the time limit left the solver nothing better.

    `also` is another solution whose bound holds too (a split flow's, under CP-SAT's answer).
    """
    if solution is None:
        return _plan(greedy, greedy, SolveStatus.GREEDY, "cp-sat", Decimal(0), started)
    chosen = cost(candidates, solution.choice, terms, _full_pickups(candidates, solution.choice, terms), flat)
    if _rank(chosen) > _rank(greedy):
        return _plan(greedy, greedy, SolveStatus.GREEDY, solution.method, Decimal(0), started)
    unserved = _unserved(candidates, solution.choice)
    bounds = [_rub(s.bound_kop - s.penalty_kop * unserved) for s in (solution, also) if s is not None]
    bound = min(chosen.objective, max(Decimal(0), *bounds))
    status = SolveStatus.OPTIMAL if bound == chosen.objective else solution.status
    return _plan(chosen, greedy, status, solution.method, bound, started)


def _rank(costing: Costing) -> tuple[int, Decimal]:
    return (len(costing.unserved), costing.objective)


def _unserved(candidates: Sequence[Candidates], choice: Sequence[int | None]) -> int:
    """Orders that had options and got none."""
    return sum(1 for c, k in zip(candidates, choice, strict=False) if c.options and k is None)


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
    left_out: list[int] = []
    for i, (c, k) in enumerate(zip(candidates, choice, strict=False)):
        if k is not None:
            o = c.options[k]
            load[(o.carrier, o.warehouse)] += c.parcels
        elif c.options:
            left_out.append(i)
    capacity = terms.capacity_by_pickup()
    shown: dict[tuple[str, str], str] = {}  # a pickup's text, the same for every order left out
    reasons: dict[int, str] = {}
    for i in left_out:
        parts = []
        for pickup in sorted({(o.carrier, o.warehouse) for o in candidates[i].options}):
            text = shown.get(pickup)
            if text is None:
                carrier, warehouse = pickup
                text = shown[pickup] = f"{carrier} at {warehouse} ({load[pickup]} of {capacity.get(pickup)} parcels)"
            parts.append(text)
        reasons[i] = "every pickup it could use is full: " + ", ".join(parts)
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
