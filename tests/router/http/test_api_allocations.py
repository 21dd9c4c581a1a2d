"""`POST /v1/allocations` on the demo network: JSON and NDJSON in, a plan out, bad input named."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson

from tests.router.http.test_openapi import conforms

PARCEL = {"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}
WAREHOUSES = [{"code": "MSK", "location": "Москва"}, {"code": "EKB", "location": {"city": "Екатеринбург"}}]


def order(order_id: str, city: str, **extra: Any) -> dict[str, Any]:
    return {"id": order_id, "destination": city, "parcels": [PARCEL], **extra}


async def test_a_json_batch_is_planned_and_matches_its_schema(make_api) -> None:
    api = await make_api()
    body = {
        "warehouses": WAREHOUSES,
        "orders": [order("A1", "Новосибирск"), order("A2", "Казань"), order("A3", "Челябинск", warehouses=["EKB"])],
        "time_limit_s": 5,
    }
    resp = await api.post("/v1/allocations", json=body)
    assert resp.status == 200, await resp.text()
    plan = await resp.json()
    conforms(plan, "Plan")
    assert {a["order_id"] for a in plan["assignments"]} == {"A1", "A2", "A3"}
    assert next(a for a in plan["assignments"] if a["order_id"] == "A3")["warehouse"] == "EKB"
    prices = sum(Decimal(a["price"]) for a in plan["assignments"])
    assert Decimal(plan["total_cost"]) == prices
    assert plan["status"] == "OPTIMAL" and Decimal(plan["saving"]) >= 0


async def test_the_planned_price_is_the_price_a_quote_gives(make_api) -> None:
    api = await make_api()
    body = {"warehouses": WAREHOUSES[:1], "orders": [order("A1", "Новосибирск")]}
    plan = await (await api.post("/v1/allocations", json=body)).json()
    quote = await (
        await api.post("/v1/quotes", json={"origin": "Москва", "destination": "Новосибирск", "parcels": [PARCEL]})
    ).json()
    chosen = plan["assignments"][0]
    offer = next(o for o in quote["offers"] if o["id"] == chosen["offer_id"])
    assert offer["price"]["total"] == chosen["price"]
    assert Decimal(chosen["price"]) == min(Decimal(o["price"]["total"]) for o in quote["offers"])


async def test_a_pickup_with_no_capacity_left_is_not_used(make_api) -> None:
    api = await make_api()
    base = {"warehouses": WAREHOUSES[:1], "orders": [order(f"A{i}", "Новосибирск") for i in range(3)]}
    free = await (await api.post("/v1/allocations", json=base)).json()
    cheapest = free["assignments"][0]["carrier"]
    capped = {**base, "capacities": [{"carrier": cheapest, "warehouse": "MSK", "max_parcels": 1}]}
    plan = await (await api.post("/v1/allocations", json=capped)).json()
    assert sum(a["carrier"] == cheapest for a in plan["assignments"]) == 1
    assert len(plan["assignments"]) == 3
    assert Decimal(plan["total_cost"]) > Decimal(free["total_cost"])


async def test_ndjson_plans_the_good_lines_and_names_the_bad_ones_by_line(make_api) -> None:
    api = await make_api()
    lines = [
        orjson.dumps({"warehouses": WAREHOUSES}),
        orjson.dumps(order("A1", "Новосибирск")),
        orjson.dumps(order("A2", "Казань", parcels=[{**PARCEL, "weight_g": -1}])),
        b"{not json",
        b"",
        orjson.dumps(order("A3", "Омск", warehouses=["SPB"])),
        orjson.dumps(order("A4", "Омск")),
    ]
    resp = await api.post("/v1/allocations", data=b"\n".join(lines), headers={"Content-Type": "application/x-ndjson"})
    assert resp.status == 200, await resp.text()
    plan = await resp.json()
    conforms(plan, "Plan")
    assert {a["order_id"] for a in plan["assignments"]} == {"A1", "A4"}
    rejected = {r["line"]: [e["path"] for e in r["errors"]] for r in plan["rejected"]}
    assert rejected == {3: ["parcels[0].weight_g"], 4: [""], 6: ["warehouses"]}


async def test_unservable_orders_come_back_with_their_reason(make_api) -> None:
    api = await make_api()
    body = {
        "warehouses": WAREHOUSES[:1],
        "orders": [
            order("soon", "Новосибирск", deadline=(date.today() - timedelta(days=1)).isoformat()),
            order("nowhere", "Qwzxyville"),
        ],
    }
    plan = await (await api.post("/v1/allocations", json=body)).json()
    assert {u["order_id"]: u["reason"] for u in plan["unserved"]} == {"soon": "deadline", "nowhere": "place"}


async def test_bad_batches_are_problems_naming_each_field(make_api) -> None:
    api = await make_api()
    body = {
        "warehouses": [{"code": "MSK", "location": "Москва"}, {"code": "MSK", "location": "Казань"}],
        "orders": [order("A1", "Омск", warehouses=["EKB"]), {"id": "A2", "destination": "Омск"}],
        "tiers": [{"carrier": "magistral", "min_parcels": 10, "percent": "150"}],
        "time_limit_s": 0,
        "colour": "blue",
    }
    resp = await api.post("/v1/allocations", json=body)
    assert resp.status == 422
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    conforms(problem, "Problem")
    assert {e["path"] for e in problem["errors"]} == {
        "colour",
        "warehouses[1].code",
        "tiers[0].percent",
        "time_limit_s",
        "orders[0].warehouses",
        "orders[1].parcels",
    }


async def test_an_unknown_warehouse_place_is_named(make_api) -> None:
    api = await make_api()
    body = {"warehouses": [{"code": "X", "location": "Qwzxyville"}], "orders": [order("A1", "Омск")]}
    resp = await api.post("/v1/allocations", json=body)
    assert resp.status == 422
    assert [e["path"] for e in (await resp.json())["errors"]] == ["warehouses[0].location"]


async def test_a_batch_beyond_the_quote_body_limit_is_accepted(make_api) -> None:
    api = await make_api()
    orders = [order(f"A{i}", "Новосибирск", declared_value=f"{1000 + i}.00") for i in range(600)]
    body = orjson.dumps({"warehouses": WAREHOUSES[:1], "orders": orders, "method": "flow"})
    assert len(body) > 64 * 1024
    resp = await api.post("/v1/allocations", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 200
    assert (await resp.json())["served"] == 600
