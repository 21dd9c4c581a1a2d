"""Choose one option per order, or none, at the lowest total cost, with OR-Tools.

Two models of one problem, both in integer kopecks and integer days:

- `flow.solve_flow`: a min-cost flow. Each order sends its parcels to one carrier×warehouse pickup
  node (an arc per option, costed at the option's price), each pickup node drains into the sink
  through an arc as wide as its daily capacity, and a direct order→sink arc costed at the
  unserved penalty keeps the network balanced. Network simplex solves it exactly and fast,
  but it cannot express a discount that depends on the total parcel count.
- `cp_sat.solve_cp_sat`: the same choice as booleans in CP-SAT, plus the volume-discount tiers.

Leaving an order unserved costs more than serving every order at its dearest option, so the
solver serves as many orders as capacity allows before it looks at price.

This module holds what both share: the options, the answer, and the instance as integer arrays
with its costs; `flow` builds and solves the min-cost flow, `cp_sat` the CP-SAT model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from router.allocation.costing import kopecks
from router.allocation.flat import Flat, Ints, flatten
from router.allocation.model import Candidates, SolveStatus, Terms


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
class SolverData:
    """The instance as flat integer arrays (`Flat`), with the costs the solver minimises."""

    flat: Flat
    cost: Ints  # price (less any assumed discount) + day value, kopecks
    penalty: int  # more than serving every order at its dearest option


def solver_data(
    candidates: Sequence[Candidates], terms: Terms, off_bp: Mapping[str, int] | None = None, flat: Flat | None = None
) -> SolverData:
    """`off_bp` prices each listed carrier that many basis points lower, rounded down."""
    flat = flat or flatten(candidates, terms)
    price = flat.price
    cost = price.copy()
    if off_bp:
        cut = np.asarray([off_bp.get(carrier, 0) for carrier in flat.carrier_of_pickup], dtype=np.int64)[flat.group]
        cost = np.where(cut > 0, price * (10_000 - cut) // 10_000, price)
    cost = cost + kopecks(terms.day_value) * flat.days
    dearest = np.maximum.reduceat(cost, flat.first[:-1]) if len(cost) else cost
    return SolverData(flat, cost, 1 + int(dearest.sum()))
