"""The CDEK emulator's booking side: orders, as CDEK answers them (their labels and pick-ups:
`carriers.sandbox.cdek_paperwork`).

    POST   /v2/orders                  202, the order ACCEPTED; decided later (below)
    GET    /v2/orders/{uuid}           the order; ?im_number= / ?cdek_number= on /v2/orders
    DELETE /v2/orders/{uuid}           202 while the order is still ours to cancel (CREATED or
                                       earlier); 400 once the carrier has the parcel

An order is decided at the first look at it `decide_after_s` after it was made: SUCCESSFUL with
a ten-digit `cdek_number` and the status CREATED, or INVALID with CDEK's errors, each naming its
field: a recipient phone that is not a number, an office tariff with no office or one the
emulator does not list, a package over 30 kg, a tariff it does not have, or a `number` another
live order already has. What is wrong is found when the order arrives, as CDEK's own checks
would, and told only when it is decided.

The control API moves an order on and shows what was booked, so tests and benches can count
carrier orders per number:

    POST /_sandbox/orders/{uuid}/status   {"code": "RECEIVED_AT_SHIPMENT_WAREHOUSE"}
    GET  /_sandbox/orders                 {"count": n, "orders": [...]}   ?number= for one number

Every path here goes through the emulator's fault middleware like the quoting ones.
"""

from __future__ import annotations

import re
import time
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from carriers.cdek.codes import DeliveryMode
from carriers.cdek.statuses import CDEK_STATUSES
from carriers.sandbox.cdek import POINTS, TARIFFS, authorized
from carriers.sandbox.faults import CONTROL_PREFIX, STATE, json_response
from router.core.models import DeliveryType

if TYPE_CHECKING:
    from carriers.sandbox.cdek_paperwork import SandboxPrint

MAX_PACKAGE_G = 30_000
FIRST_CDEK_NUMBER = 1_400_000_000
PHONE = re.compile(r"\+?\d{10,15}")
# Statuses from which the shop may still delete the order: CDEK does not have the parcel yet.
CANCELLABLE = frozenset({"ACCEPTED", "CREATED", "INVALID", "REMOVED"})
# CDEK's own names, as its order answers give them.
STATUS_NAMES = {code: info.name_ru for code, info in CDEK_STATUSES.items()}


def now_iso() -> str:  # CDEK's own spelling of a time: an offset without a colon
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def new_uuid() -> str:
    return str(uuid_module.uuid4())


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


@dataclass
class SandboxOrder:
    uuid: str
    number: str
    body: dict[str, Any]
    created_at: float  # on the orders' clock
    errors: list[dict[str, str]]  # what CDEK will say when it decides; empty: it takes the order
    requests: list[dict[str, Any]]
    statuses: list[dict[str, Any]]  # newest first
    cdek_number: str | None = None
    decided: bool = False
    # Told of every status pushed (the webhooks, the journeys); set by `SandboxOrders.add`.
    watchers: list[Callable[[SandboxOrder, dict[str, Any]], None]] = field(default_factory=list, repr=False)
    status_time: Callable[[], str] = field(default=now_iso, repr=False)

    @property
    def status(self) -> str:
        return str(self.statuses[0]["code"])

    def push_status(
        self,
        code: str,
        *,
        at: str | None = None,
        city: str | None = None,
        is_return: bool = False,
        reason_code: str | None = None,
    ) -> None:
        """A new newest status; `at` (CDEK's `2024-03-05T10:00:00+0300`) is the orders' clock's now by default."""
        city = city or ((self.body.get("from_location") or {}).get("city")) or "Москва"
        status: dict[str, Any] = {
            "code": code,
            "name": STATUS_NAMES.get(code, code),
            "date_time": at or self.status_time(),
            "city": city,
        }
        if reason_code:
            status["reason_code"] = reason_code
        self.statuses.insert(0, status)
        for watcher in self.watchers:
            watcher(self, {**status, "is_return": is_return})

    def answer(self) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "uuid": self.uuid,
            "type": 1,
            "number": self.number,
            "tariff_code": self.body.get("tariff_code"),
            "statuses": self.statuses,
        }
        for name in ("recipient", "sender", "packages", "delivery_point", "shipment_point", "to_location"):
            if name in self.body:
                entity[name] = self.body[name]
        if self.cdek_number is not None:
            entity["cdek_number"] = self.cdek_number
        return {"entity": entity, "requests": self.requests}

    def summary(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "number": self.number,
            "cdek_number": self.cdek_number,
            "state": self.requests[0]["state"],
            "status": self.status,
        }


class SandboxOrders:
    """What one CDEK emulator was asked to book, print and collect.

    `decide_after_s`: how long an order stays ACCEPTED before a look at it decides it;
    `print_ready_after_s`: how long a label takes to make (half of it PROCESSING).
    """

    def __init__(
        self,
        *,
        decide_after_s: float = 0.2,
        print_ready_after_s: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.decide_after_s = decide_after_s
        self.print_ready_after_s = print_ready_after_s
        self.clock = clock
        self.orders: dict[str, SandboxOrder] = {}
        self.prints: dict[str, SandboxPrint] = {}  # their making: carriers.sandbox.cdek_paperwork
        self.print_watchers: list[Callable[[SandboxPrint], None]] = []  # told when one is made: the webhooks
        self.intakes: dict[str, dict[str, Any]] = {}
        self._issued = 0
        self.watchers: list[Callable[[SandboxOrder, dict[str, Any]], None]] = []
        self.status_time: Callable[[], str] = now_iso  # a journey clock replaces it
        self.before_read: list[Callable[[], None]] = []  # run before an order is read: journeys catch up

    def add(self, body: dict[str, Any], errors: list[dict[str, str]]) -> SandboxOrder:
        number = str(body.get("number") or "")
        if number and any(o.number == number and not o.errors and o.status != "REMOVED" for o in self.orders.values()):
            errors = [*errors, _error("v2_similar_order_exists", f"number: an order {number!r} already exists")]
        order = SandboxOrder(
            uuid=new_uuid(),
            number=number,
            body=body,
            created_at=self.clock(),
            errors=errors,
            requests=[{"request_uuid": new_uuid(), "type": "CREATE", "state": "ACCEPTED", "date_time": now_iso()}],
            statuses=[],
            watchers=self.watchers,
            status_time=lambda: self.status_time(),
        )
        order.push_status("ACCEPTED")
        self.orders[order.uuid] = order
        return order

    def decide(self, order: SandboxOrder) -> SandboxOrder:
        """The order as a look at it now finds it: decided once its time has come."""
        if order.decided or self.clock() - order.created_at < self.decide_after_s:
            return order
        order.decided = True
        create = order.requests[0]
        if order.errors:
            create["state"] = "INVALID"
            create["errors"] = order.errors
            order.push_status("INVALID")
        else:
            create["state"] = "SUCCESSFUL"
            self._issued += 1
            order.cdek_number = str(FIRST_CDEK_NUMBER + self._issued)
            order.push_status("CREATED")
        return order

    def catch_up(self) -> None:
        for hook in self.before_read:
            hook()

    def by_number(self, number: str) -> SandboxOrder | None:
        """The live order with our `number`, else the newest refused one."""
        found = [self.decide(o) for o in self.orders.values() if o.number == number]
        live = [o for o in found if not o.errors]
        chosen = live or found
        return chosen[-1] if chosen else None


ORDERS: web.AppKey[SandboxOrders] = web.AppKey("cdek_orders", SandboxOrders)

# ---------------------------------------------------------------- checks CDEK makes of an order


def _contact_errors(contact: Any, where: str) -> list[dict[str, str]]:
    if not isinstance(contact, dict) or not contact.get("name"):
        return [_error("v2_field_is_empty", f"{where}.name")]
    phones = contact.get("phones")
    if not isinstance(phones, list) or not phones:
        return [_error("v2_field_is_empty", f"{where}.phones")]
    errors = []
    for i, phone in enumerate(phones):
        number = phone.get("number") if isinstance(phone, dict) else None
        if not isinstance(number, str) or not PHONE.fullmatch(number.replace(" ", "")):
            errors.append(_error("v2_invalid_format", f"{where}.phones[{i}].number: {number!r} is not a phone number"))
        elif number.startswith("+7") and len(number) != 12:
            errors.append(_error("v2_invalid_format", f"{where}.phones[{i}].number: a Russian number has 11 digits"))
    return errors


def order_errors(body: dict[str, Any], point_known: Callable[[str], bool]) -> list[dict[str, str]]:
    """What CDEK would refuse in an order it accepted for checking, field by field."""
    errors = _contact_errors(body.get("recipient"), "recipient")
    errors += _contact_errors(body.get("sender"), "sender")
    tariff = next((t for t in TARIFFS if t.code == body.get("tariff_code")), None)
    if tariff is None:
        errors.append(_error("v2_tariff_not_found", f"tariff_code: no tariff {body.get('tariff_code')!r}"))
    point, address = body.get("delivery_point"), body.get("to_location")
    if point and address:
        errors.append(_error("v2_delivery_address_multivalued", "delivery_point and to_location: give one"))
    elif tariff is not None and DeliveryMode(tariff.mode).delivery_type is DeliveryType.PICKUP:
        if not point:
            errors.append(
                _error(
                    "v2_order_location_to_and_delivery_point_empty",
                    f"delivery_point: tariff {tariff.code} delivers to an office or locker",
                )
            )
        elif not point_known(str(point)):
            errors.append(_error("delivery_location_is_not_recognized", f"delivery_point: no office {point!r}"))
    elif tariff is not None and not (isinstance(address, dict) and (address.get("address") or address.get("code"))):
        errors.append(
            _error(
                "v2_order_location_to_and_delivery_point_empty", f"to_location: tariff {tariff.code} delivers to a door"
            )
        )
    shipment = body.get("shipment_point")
    if shipment and body.get("from_location"):
        errors.append(_error("v2_shipment_address_multivalued", "shipment_point and from_location: give one"))
    elif shipment and not point_known(str(shipment)):
        errors.append(_error("shipment_location_is_not_recognized", f"shipment_point: no office {shipment!r}"))
    elif not shipment and not body.get("from_location"):
        errors.append(_error("v2_order_location_from_and_shipment_point_empty", "shipment_point: or from_location"))
    for i, package in enumerate(body["packages"]):
        weight = package.get("weight") if isinstance(package, dict) else None
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            errors.append(_error("v2_invalid_value_type", f"packages[{i}].weight: whole grams above 0"))
        elif weight > MAX_PACKAGE_G:
            errors.append(
                _error("v2_invalid_format", f"packages[{i}].weight: {weight} g is over the {MAX_PACKAGE_G} g limit")
            )
    return errors


# ---------------------------------------------------------------- handlers


def refused(status: int, kind: str, code: str, message: str) -> web.Response:
    body = {"requests": [{"type": kind, "state": "INVALID", "date_time": now_iso(), "errors": [_error(code, message)]}]}
    return json_response(body, status=status)


def not_found(kind: str, what: str) -> web.Response:
    return refused(404, kind, "v2_entity_not_found", f"Entity is not found by {what}")


async def json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def guarded(handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    """The handler behind CDEK's bearer token."""

    async def checked(request: web.Request) -> web.StreamResponse:
        if not authorized(request.headers.get("Authorization", ""), request.app[STATE]):
            return refused(401, "AUTH", "v2_unauthorized", "token is missing, unknown or expired")
        return await handler(request)  # type: ignore[no-any-return]

    return checked


async def create_order(request: web.Request) -> web.Response:
    body = await json_object(request)
    if body is None:
        return refused(400, "CREATE", "v2_bad_request", "body is not a JSON object")
    for name in ("tariff_code", "recipient", "packages"):
        if not body.get(name):
            return refused(400, "CREATE", "v2_field_is_empty", name)
    if not isinstance(body["packages"], list):
        return refused(400, "CREATE", "v2_invalid_value_type", "packages must be a list")
    points = request.app[POINTS]
    known = {p["code"] for p in points.listed()}
    order = request.app[ORDERS].add(body, order_errors(body, known.__contains__))
    return json_response({"entity": {"uuid": order.uuid}, "requests": order.requests}, status=202)


async def get_order(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    orders.catch_up()
    order = orders.orders.get(request.match_info["uuid"])
    if order is None:
        return not_found("GET", f"uuid {request.match_info['uuid']}")
    return json_response(orders.decide(order).answer())


async def find_order(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    orders.catch_up()
    if "im_number" in request.query:
        order = orders.by_number(request.query["im_number"])
        if order is None:
            return refused(
                404,
                "GET",
                "v2_entity_not_found_im_number",
                f"Entity is not found by im_number {request.query['im_number']}",
            )
    elif "cdek_number" in request.query:
        wanted = request.query["cdek_number"]
        order = next((o for o in orders.orders.values() if orders.decide(o).cdek_number == wanted), None)
        if order is None:
            return not_found("GET", f"cdek_number {wanted}")
    else:
        return refused(400, "GET", "v2_parameters_empty", "im_number or cdek_number")
    return json_response(order.answer())


async def delete_order(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    order = orders.orders.get(request.match_info["uuid"])
    if order is None:
        return not_found("DELETE", f"uuid {request.match_info['uuid']}")
    orders.decide(order)
    if order.status not in CANCELLABLE:
        return refused(
            400,
            "DELETE",
            "v2_entity_invalid",
            f"order {order.cdek_number} is {order.status}: the parcel is with CDEK and cannot be deleted",
        )
    delete = {"request_uuid": new_uuid(), "type": "DELETE", "state": "SUCCESSFUL", "date_time": now_iso()}
    if order.status != "REMOVED":
        order.push_status("REMOVED")
        order.requests.append(delete)
    return json_response({"entity": {"uuid": order.uuid}, "requests": [{**delete, "state": "ACCEPTED"}]}, status=202)


# ---------------------------------------------------------------- control


async def listed_orders(request: web.Request) -> web.Response:
    chosen = list(request.app[ORDERS].orders.values())
    if "number" in request.query:
        chosen = [o for o in chosen if o.number == request.query["number"]]
    return json_response({"count": len(chosen), "orders": [o.summary() for o in chosen]})


async def move_order(request: web.Request) -> web.Response:
    orders = request.app[ORDERS]
    order = orders.orders.get(request.match_info["uuid"])
    if order is None:
        return json_response({"error": "no such order"}, status=404)
    body = await json_object(request)
    code = body.get("code") if body else None
    if not isinstance(code, str) or not code:
        return json_response({"error": "code must be a CDEK status code"}, status=400)
    orders.decide(order)
    order.push_status(code)
    return json_response(order.summary())


def add_order_routes(app: web.Application, orders: SandboxOrders | None = None) -> None:
    app[ORDERS] = orders or SandboxOrders()
    app.router.add_post("/v2/orders", guarded(create_order))
    app.router.add_get("/v2/orders", guarded(find_order))
    app.router.add_get("/v2/orders/{uuid}", guarded(get_order))
    app.router.add_delete("/v2/orders/{uuid}", guarded(delete_order))
    app.router.add_get(CONTROL_PREFIX + "/orders", listed_orders)
    app.router.add_post(CONTROL_PREFIX + "/orders/{uuid}/status", move_order)
