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
from router.allocation.costing import cost
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
    solution: Solution | None = None
    if method is Method.CP_SAT:
        solution = solve_cp_sat(candidates, terms, options, hint=baseline)
    else:
        flow = solve_flow(candidates, terms)
        if flow is not None and not needs_tiers:
            solution = flow
        elif flow is not None:
            # The flow without discounts proves how few orders must go unserved and gives CP-SAT
            # a start better than greedy's; CP-SAT is left to weigh the discounts.
            priced = cost(candidates, flow.choice, terms)
            better = (len(priced.unserved), priced.objective) < (len(greedy.unserved), greedy.objective)
            fewest = sum(1 for c, k in zip(candidates, flow.choice) if c.options and k is None)
            solution = solve_cp_sat(
                candidates, terms, options, hint=flow.choice if better else baseline, fewest_unserved=fewest
            )
        else:
            # The flow would split a multi-parcel order across carriers.
            solution = solve_cp_sat(candidates, terms, options, hint=baseline)

    baseline_rank = (len(greedy.unserved), greedy.objective)
    if solution is None:
        return _plan(greedy, greedy, SolveStatus.GREEDY, "cp-sat", greedy.objective, started)
    chosen = cost(candidates, solution.choice, terms, _full_pickups(candidates, solution.choice, terms))
    if (len(chosen.unserved), chosen.objective) > baseline_rank:
        # Only possible when the time limit stopped the search early: greedy is then the better plan.
        return _plan(greedy, greedy, SolveStatus.GREEDY, solution.method, greedy.objective, started)
    penalties = solution.penalty_kop * sum(1 for c, k in zip(candidates, solution.choice) if c.options and k is None)
    bound = min(chosen.objective, (Decimal(solution.bound_kop - penalties) / 100).quantize(KOPECK))
    return _plan(chosen, greedy, solution.status, solution.method, bound, started)


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
