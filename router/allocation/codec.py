"""A plan as JSON: what `POST /v1/allocations` answers and `carrier-router allocate --json` prints."""

from __future__ import annotations

from typing import Any

from router.allocation.model import Costing, Plan


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "status": plan.status.value,
        "method": plan.method,
        "total_cost": str(plan.total_cost),
        "objective": str(plan.objective),
        "bound": str(plan.bound),
        "gap": round(plan.gap, 6),
        "wall_time_ms": round(plan.wall_time_s * 1000, 1),
        "served": len(plan.assignments),
        "assignments": [
            {
                "order_id": a.order_id,
                "warehouse": a.option.warehouse,
                "carrier": a.option.carrier,
                "service": a.option.service,
                "offer_id": f"{a.option.carrier}:{a.option.service}",
                "price": str(a.option.price),
                "days": a.option.days,
                "eta_max_date": a.option.eta_max_date.isoformat(),
            }
            for a in plan.assignments
        ],
        "unserved": [{"order_id": u.order_id, "reason": u.reason.value, "detail": u.detail} for u in plan.unserved],
        "discounts": [
            {
                "carrier": d.carrier,
                "parcels": d.parcels,
                "month_parcels": d.month_parcels,
                "percent": str(d.percent),
                "amount": str(d.amount),
            }
            for d in plan.discounts
        ],
        "greedy": costing_summary(plan.greedy),
        "saving": str(plan.saving),
    }


def costing_summary(costing: Costing) -> dict[str, Any]:
    return {
        "total_cost": str(costing.total_cost),
        "objective": str(costing.objective),
        "served": len(costing.assignments),
        "unserved": len(costing.unserved),
    }
