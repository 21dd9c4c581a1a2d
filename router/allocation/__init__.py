"""Route a day's orders across warehouses and carriers at the lowest total cost.

Per-order cheapest is not what a shop pays: carriers collect a limited number of parcels a day
from each warehouse, volume-discount tiers reward sending one carrier more, orders have
delivery deadlines and carriers they must not use. Each order is quoted once per candidate
warehouse by the quote engine (`candidates`), one option per order is chosen with OR-Tools
(`flow`: min-cost flow without tiers, `cp_sat`: CP-SAT with them; `solver`: what the two share),
and the plan is priced beside the greedy cheapest-per-order baseline (`greedy`, `costing`) so it
reports its saving.
"""

from router.allocation.candidates import check_warehouses, gather_candidates
from router.allocation.model import (
    Assignment,
    Candidates,
    CarrierCapacity,
    CarrierDiscount,
    Costing,
    DiscountTier,
    Option,
    Order,
    Plan,
    SolveStatus,
    Terms,
    Unserved,
    UnservedReason,
    Warehouse,
)
from router.allocation.planner import Method, allocate, plan
from router.allocation.solver import AllocationError, SolverOptions

__all__ = [
    "AllocationError",
    "Assignment",
    "Candidates",
    "CarrierCapacity",
    "CarrierDiscount",
    "Costing",
    "DiscountTier",
    "Method",
    "Option",
    "Order",
    "Plan",
    "SolveStatus",
    "SolverOptions",
    "Terms",
    "Unserved",
    "UnservedReason",
    "Warehouse",
    "allocate",
    "check_warehouses",
    "gather_candidates",
    "plan",
]
