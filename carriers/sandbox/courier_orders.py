"""The courier emulator's orders: `create-order`, `cancel-order` and `GET /orders`, kept in memory.

    POST /create-order        the calculate-order body, validated as calculate-order validates it,
                              plus a Russian phone (7XXXXXXXXXX) on every point; an order comes
                              back with its `order_id`, status `new`, and a tracking page per point
    POST /cancel-order        {"order_id": n}: while the order is new, available or delayed; once a
                              courier has it (active, completed) the API's `order_cannot_be_canceled`
    GET  /orders              ?order_id=n (repeatable) for those orders; without it a page of the
                              recent ones, newest first (`status`, `offset`, `count` up to 50)

An order is `new` when made and `available` (offered to couriers) from the first time it is read.
Control routes, for tests and benches (never faulted):

    POST /_sandbox/orders/{order_id}/status   {"status": "active"}   move an order on
    GET  /_sandbox/orders                     {"count": n, "statuses": {"new": n, ...}}
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from carriers.sandbox import courier
from carriers.sandbox.faults import CONTROL_PREFIX, json_response, wants_empty

PHONE = re.compile(r"7\d{10}")
STATUSES = frozenset({"new", "available", "active", "completed", "reactivated", "draft", "canceled", "delayed"})
CANCELLABLE = frozenset({"new", "available", "delayed", "draft"})
MAX_PAGE = 50
DEFAULT_PAGE = 10


@dataclass
class OrderBook:
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1001  # ids the real service would never have handed out in a test

    def add(self, order: dict[str, Any]) -> dict[str, Any]:
        order["order_id"] = self.next_id
        self.orders[self.next_id] = order
        self.next_id += 1
        return order


ORDERS: web.AppKey[OrderBook] = web.AppKey("courier_orders", OrderBook)


def _refused(status: int, errors: list[str], parameter_errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"is_successful": False, "errors": errors}
    if parameter_errors is not None:
        body["parameter_errors"] = parameter_errors
    return json_response(body, status=status)


def _unauthorized(request: web.Request) -> web.Response | None:
    if request.headers.get("X-DV-Auth-Token") != request.app[courier.TOKEN]:
        return web.Response(status=401, body=courier.error_body(401, "bad token"), content_type="application/json")
    return None


async def _json(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise web.HTTPBadRequest(
            body=courier.error_body(400, "body is not JSON"), content_type="application/json"
        ) from None


def phone_problems(points: Any) -> list[dict[str, Any] | None]:
    """Per point: {"contact_person": {"phone": [...]}} for a missing or non-Russian phone, else None."""
    out: list[dict[str, Any] | None] = []
    for point in points if isinstance(points, list) else []:
        contact = point.get("contact_person") if isinstance(point, dict) else None
        phone = contact.get("phone") if isinstance(contact, dict) else None
        if phone is None:
            out.append({"contact_person": {"phone": ["required"]}})
        elif not isinstance(phone, str) or not PHONE.fullmatch(phone):
            out.append({"contact_person": {"phone": ["invalid_phone"]}})
        else:
            out.append(None)
    return out


def _merge_points(first: Any, second: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    merged: list[dict[str, Any] | None] = []
    first = [p if isinstance(p, dict) else None for p in first] if isinstance(first, list) else []
    for i in range(max(len(first), len(second))):
        a = first[i] if i < len(first) else None
        b = second[i] if i < len(second) else None
        merged.append({**(a or {}), **(b or {})} or None)
    return merged


def make_order(body: Any, now: datetime, base_url: str, book: OrderBook) -> tuple[int, dict[str, Any]]:
    status, answer = courier.calculate(body, now)
    if status != 200:
        errors = answer.get("parameter_errors") or {}
        if isinstance(body, dict):
            phones = phone_problems(body.get("points"))
            if any(phones) and errors.get("points") != ["min_points_count"]:
                errors["points"] = _merge_points(errors.get("points"), phones)
        return status, {"is_successful": False, "errors": ["invalid_parameters"], "parameter_errors": errors}
    phones = phone_problems(body.get("points"))
    if any(phones):
        return 400, {
            "is_successful": False,
            "errors": ["invalid_parameters"],
            "parameter_errors": {"points": phones},
        }
    if answer["warnings"]:
        # What calculate-order warns of, create-order refuses.
        return 400, {
            "is_successful": False,
            "errors": answer["warnings"],
            "parameter_errors": answer["parameter_warnings"],
        }
    order = answer["order"]
    order["status"] = "new"
    order["created_datetime"] = now.astimezone(courier.CITY_TZ).isoformat()
    order = book.add(order)
    for i, (point, asked) in enumerate(zip(order["points"], body["points"], strict=True)):
        point["client_order_id"] = asked.get("client_order_id")
        point["note"] = asked.get("note")
        point["tracking_url"] = f"{base_url}/track/{order['order_id']}/{i}"
    return 200, {"is_successful": True, "order": order, "warnings": [], "parameter_warnings": []}


async def create_order(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    body = await _json(request)
    if wants_empty(request):
        return json_response({"is_successful": True, "order": None})
    base_url = f"{request.scheme}://{request.host}"
    status, answer = make_order(body, request.app[courier.CLOCK](), base_url, request.app[ORDERS])
    return json_response(answer, status=status)


async def cancel_order(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    body = await _json(request)
    order_id = body.get("order_id") if isinstance(body, dict) else None
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        return _refused(400, ["invalid_parameters"], {"order_id": ["required"]})
    order = request.app[ORDERS].orders.get(order_id)
    if order is None:
        return _refused(400, ["order_not_found"])
    if order["status"] not in CANCELLABLE | {"canceled"}:
        return _refused(400, ["order_cannot_be_canceled"])
    order["status"] = "canceled"
    return json_response({"is_successful": True, "order": order})


def _whole(value: str | None, default: int, low: int, high: int) -> int | None:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


async def list_orders(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    book = request.app[ORDERS]
    if wants_empty(request):
        return json_response({"is_successful": True, "orders": [], "orders_count": 0})
    asked = request.query.getall("order_id", [])
    if asked:
        try:
            ids = [int(i) for i in asked]
        except ValueError:
            return _refused(400, ["invalid_parameters"], {"order_id": ["invalid_integer"]})
        orders = [book.orders[i] for i in ids if i in book.orders]
        total = len(orders)
    else:
        status = request.query.get("status")
        offset = _whole(request.query.get("offset"), 0, 0, 10**9)
        count = _whole(request.query.get("count"), DEFAULT_PAGE, 1, MAX_PAGE)
        problems: dict[str, list[str]] = {}
        if status is not None and status not in STATUSES:
            problems["status"] = ["invalid_value"]
        if offset is None:
            problems["offset"] = ["invalid_integer"]
        if count is None:
            problems["count"] = ["invalid_integer"]
        if problems or offset is None or count is None:
            return _refused(400, ["invalid_parameters"], problems)
        recent = [o for o in reversed(book.orders.values()) if status is None or o["status"] == status]
        orders = recent[offset : offset + count]
        total = len(recent)
    for order in orders:
        if order["status"] == "new":
            order["status"] = "available"  # the service offers a new order to couriers at once
    return json_response({"is_successful": True, "orders": orders, "orders_count": total})


async def set_status(request: web.Request) -> web.Response:
    try:
        order_id = int(request.match_info["order_id"])
        body = await request.json(loads=orjson.loads)
    except ValueError:
        return json_response({"error": "order id and a JSON body wanted"}, status=400)
    status = body.get("status") if isinstance(body, dict) else None
    if status not in STATUSES:
        return json_response({"error": f"status must be one of {', '.join(sorted(STATUSES))}"}, status=400)
    order = request.app[ORDERS].orders.get(order_id)
    if order is None:
        return json_response({"error": f"no order {order_id}"}, status=404)
    order["status"] = status
    return json_response({"order_id": order_id, "status": status})


async def count_orders(request: web.Request) -> web.Response:
    orders = request.app[ORDERS].orders.values()
    return json_response({"count": len(orders), "statuses": dict(Counter(o["status"] for o in orders))})


def add_order_routes(app: web.Application) -> None:
    app[ORDERS] = OrderBook()
    app.router.add_post("/create-order", create_order)
    app.router.add_post("/cancel-order", cancel_order)
    app.router.add_get("/orders", list_orders)
    app.router.add_post(CONTROL_PREFIX + "/orders/{order_id}/status", set_status)
    app.router.add_get(CONTROL_PREFIX + "/orders", count_orders)
