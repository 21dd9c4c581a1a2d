"""A plan as its answer (router/allocation/answers.py): what `POST /v1/allocations` answers and
`carrier-router allocate --json` prints."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from router.allocation import answers
from router.allocation.model import Costing, Plan
from router.core.answers import FieldProblem

KOPECK = Decimal("0.01")


def _money(amount: Decimal) -> str:
    # Kopecks always written: a plan with nothing served has a bare Decimal(0) for a bound.
    return str(amount.quantize(KOPECK))


def plan_answer(plan: Plan, rejected: Iterable[answers.RejectedLine] = ()) -> answers.Plan:
    return answers.Plan(
        status=plan.status.value,  # type: ignore[arg-type]
        method=plan.method,  # type: ignore[arg-type]
        total_cost=_money(plan.total_cost),
        objective=_money(plan.objective),
        bound=_money(plan.bound),
        gap=round(plan.gap, 6),
        wall_time_ms=round(plan.wall_time_s * 1000, 1),
        served=len(plan.assignments),
        assignments=[
            answers.Assignment(
                order_id=a.order_id,
                warehouse=a.option.warehouse,
                carrier=a.option.carrier,
                service=a.option.service,
                offer_id=f"{a.option.carrier}:{a.option.service}",
                price=str(a.option.price),
                days=a.option.days,
                eta_max_date=a.option.eta_max_date,
            )
            for a in plan.assignments
        ],
        unserved=[
            answers.Unserved(order_id=u.order_id, reason=u.reason.value, detail=u.detail)  # type: ignore[arg-type]
            for u in plan.unserved
        ],
        discounts=[
            answers.Discount(
                carrier=d.carrier,
                parcels=d.parcels,
                month_parcels=d.month_parcels,
                percent=str(d.percent),
                amount=str(d.amount),
            )
            for d in plan.discounts
        ],
        greedy=costing_summary(plan.greedy),
        saving=str(plan.saving),
        rejected=list(rejected),
    )


def costing_summary(costing: Costing) -> answers.AllocationCost:
    return answers.AllocationCost(
        total_cost=str(costing.total_cost),
        objective=str(costing.objective),
        served=len(costing.assignments),
        unserved=len(costing.unserved),
    )


def rejected_line(line: int, errors: Iterable[tuple[str, str]]) -> answers.RejectedLine:
    return answers.RejectedLine(line=line, errors=[FieldProblem(path=p, message=m) for p, m in errors])
