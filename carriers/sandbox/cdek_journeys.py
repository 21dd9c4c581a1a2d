"""The CDEK emulator's parcels on the move: status journeys on a clock, and webhooks that tell of them.

Once an order is CREATED, the emulator plans its journey (`carriers.sandbox.cdek_plans`: the
statuses of its lane, each after so long, dated in its city's own offset) and plays it.

Most parcels are delivered; a seeded share is returned (`NOT_DELIVERED`, then the way back:
`SENT_TO_SENDER_CITY`, `ACCEPTED_IN_SENDER_CITY`, `RETURNED_TO_SENDER_CITY_WAREHOUSE`, each
marked `is_return`), and a smaller share is lost: CDEK has no status for a lost parcel, so a lost
one simply stops moving once it is sent off, and stays there.

Time is the journeys' own clock (`SandboxClock`): it runs `speed` times as fast as the wall clock
(0: it only moves when told), and the control API moves it on, so tests run weeks in a moment:

    POST   /_sandbox/clock                    {"advance_s": 86400}  every order moves on one day
    GET    /_sandbox/clock                    {"now": "...", "speed": 0}
    POST   /_sandbox/orders/{uuid}/journey    {"outcome": "delivered" | "returned" | "lost"}
    POST   /_sandbox/lanes                    {"to": "Novosibirsk", "late_days": 5}  (`cdek_lanes`)
    POST   /_sandbox/webhooks/faults          {"duplicate": 0.2, "reorder": true}  (DELETE: none)

Webhooks, as CDEK has them (nothing is signed; a subscription is per type and url):

    POST   /v2/webhooks                       {"type": "ORDER_STATUS", "url": "..."} -> entity.uuid
    GET    /v2/webhooks                       the subscriptions
    DELETE /v2/webhooks/{uuid}

Every status change is POSTed to each `ORDER_STATUS` url as CDEK does: `{type, date_time, uuid,
attributes {is_return, cdek_number, number, code, status_reason_code, status_date_time,
city_name, city_code}}`; every label print form made, to each `PRINT_FORM` url: `{type,
date_time, uuid (the print request's), attributes {type: "barcode", url}}`. With faults on, a
share of the calls is sent twice, and `reorder` sends each batch of calls (all the statuses one
clock move produced) newest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid as uuid_module
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from carriers.sandbox.cdek import POINTS
from carriers.sandbox.cdek_lanes import LateLanes, add_lane_routes
from carriers.sandbox.cdek_orders import ORDERS, SandboxOrder, SandboxOrders, guarded
from carriers.sandbox.cdek_paperwork import SandboxPrint
from carriers.sandbox.cdek_plans import Journey, SandboxClock, Stop, cdek_time, city_offset, plan
from carriers.sandbox.faults import CONTROL_PREFIX, STATE, json_response

OUTCOMES = ("delivered", "returned", "lost")
WEBHOOK_TYPES = frozenset(
    {"ORDER_STATUS", "PRINT_FORM", "PREALERT_CLOSED", "ACCOMPANYING_WAYBILL", "OFFICE_AVAILABILITY"}
)
WEBHOOK_TIMEOUT_S = 5.0


@dataclass
class WebhookFaults:
    duplicate: float = 0.0  # the share of calls sent twice
    reorder: bool = False  # each batch newest first


@dataclass
class Subscription:
    uuid: str
    type: str
    url: str


class SandboxJourneys:
    """Every order's journey and the webhooks told of it, for one CDEK emulator.

    `returned_share` / `lost_share`: how many parcels come back or are lost (seeded by `seed`);
    `speed`: simulated seconds per wall-clock second (0: the clock moves only when told).
    """

    def __init__(
        self,
        orders: SandboxOrders,
        *,
        seed: int = 0,
        speed: float = 0.0,
        returned_share: float = 0.1,
        lost_share: float = 0.03,
        place_of_point: Callable[[str], Stop | None] | None = None,
        tick_s: float = 1.0,
    ) -> None:
        self.orders = orders
        self.clock = SandboxClock(speed=speed)
        self.tick_s = tick_s  # how often a running clock moves the parcels on
        self.rnd = random.Random(seed)
        self.returned_share = returned_share
        self.lost_share = lost_share
        self.place_of_point = place_of_point
        self.journeys: dict[str, Journey] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.faults = WebhookFaults()
        self.lanes = LateLanes()
        # Calls as (the subscription type they go to, the body); the queue is made in the app's loop.
        self.queue: asyncio.Queue[list[tuple[str, bytes]]] | None = None
        self._batch: list[tuple[str, bytes]] = []
        self._catching_up = False
        orders.status_time = self._now
        orders.watchers.append(self._status_pushed)
        orders.print_watchers.append(self._print_made)
        orders.before_read.append(self.catch_up)

    # ------------------------------------------------------------ journeys

    def _stop(self, location: Any, point: Any) -> Stop:
        if point and self.place_of_point is not None:
            found = self.place_of_point(str(point))
            if found is not None:
                return found
        if isinstance(location, dict):
            lat, lon = location.get("latitude"), location.get("longitude")
            return Stop(
                str(location.get("city") or "Москва"),
                float(lat) if isinstance(lat, int | float) else None,
                float(lon) if isinstance(lon, int | float) else None,
            )
        return Stop("Москва", 55.7558, 37.6173)

    def _outcome(self) -> str:
        roll = self.rnd.random()
        return (
            "lost"
            if roll < self.lost_share
            else "returned"
            if roll < self.lost_share + self.returned_share
            else "delivered"
        )

    def start(self, order: SandboxOrder, outcome: str | None = None) -> Journey:
        body = order.body
        origin = self._stop(body.get("from_location"), body.get("shipment_point"))
        destination = self._stop(body.get("to_location"), body.get("delivery_point"))
        outcome = outcome or self._outcome()
        door = not body.get("delivery_point")
        late_s = self.lanes.lateness(origin.city, destination.city)
        steps = plan(origin, destination, door=door, outcome=outcome, rnd=self.rnd, late_s=late_s)
        journey = Journey(order.uuid, self.clock.now(), outcome, steps)
        self.journeys[order.uuid] = journey
        return journey

    def replan(self, order: SandboxOrder, outcome: str) -> Journey:
        """The same journey's steps so far, then the rest as `outcome` has it."""
        old = self.journeys.get(order.uuid)
        journey = self.start(order, outcome)
        if old is not None:
            journey.start, journey.done = old.start, old.done
            journey.steps[: old.done] = old.steps[: old.done]
        return journey

    def catch_up(self) -> None:
        """Push every status whose time has come, in time order, dated when it happened."""
        now = self.clock.now()
        self._catching_up = True
        try:
            self._catch_up(now)
        finally:
            self._catching_up = False
        self.flush()

    def _catch_up(self, now: datetime) -> None:
        for booked in list(self.orders.orders.values()):
            self.orders.decide(booked)  # a decision due starts a journey
        for order_uuid, journey in self.journeys.items():
            order = self.orders.orders.get(order_uuid)
            if order is None or order.status == "REMOVED":
                continue
            while journey.done < len(journey.steps):
                step = journey.steps[journey.done]
                when = journey.start + timedelta(seconds=step.after_s)
                if when > now:
                    break
                journey.done += 1
                local = when.astimezone(city_offset(step.stop.city, step.stop.lon))
                order.push_status(step.code, at=cdek_time(local), city=step.stop.city, is_return=step.is_return)

    def _status_pushed(self, order: SandboxOrder, status: dict[str, Any]) -> None:
        if status["code"] == "CREATED" and order.uuid not in self.journeys:
            self.start(order)
        if any(s.type == "ORDER_STATUS" for s in self.subscriptions.values()):
            self._batch.append(("ORDER_STATUS", self._call(order, status)))
        if not self._catching_up:  # a status pushed by hand or by a decision goes out at once
            self.flush()

    def _print_made(self, form: SandboxPrint) -> None:
        if any(s.type == "PRINT_FORM" for s in self.subscriptions.values()):
            body = {"type": "PRINT_FORM", "date_time": self._now(), "uuid": form.uuid}
            self._batch.append(
                ("PRINT_FORM", orjson.dumps({**body, "attributes": {"type": "barcode", "url": form.url}}))
            )
        if not self._catching_up:
            self.flush()

    def _now(self) -> str:
        return cdek_time(self.clock.now().astimezone(timezone(timedelta(hours=3))))

    def _call(self, order: SandboxOrder, status: dict[str, Any]) -> bytes:
        body = {
            "type": "ORDER_STATUS",
            "date_time": self._now(),
            "uuid": order.uuid,
            "attributes": {
                "is_return": status.get("is_return", False),
                "cdek_number": order.cdek_number,
                "number": order.number,
                "code": status["code"],
                "status_reason_code": status.get("reason_code"),
                "status_date_time": status["date_time"],
                "city_name": status.get("city"),
                "city_code": status.get("city_code"),
            },
        }
        return orjson.dumps(body)

    def flush(self) -> None:
        """Hand the calls made so far to the sender, as one batch."""
        if not self._batch or self.queue is None:
            self._batch.clear()
            return
        batch, self._batch = self._batch, []
        out: list[tuple[str, bytes]] = []
        for call in batch:
            out.append(call)
            if self.faults.duplicate and self.rnd.random() < self.faults.duplicate:
                out.append(call)
        if self.faults.reorder:
            out.reverse()
        self.queue.put_nowait(out)

    async def send(self, http: aiohttp.ClientSession) -> None:
        """Deliver batches until cancelled; a receiver that fails loses the call (it is a sandbox)."""
        assert self.queue is not None
        while True:
            batch = await self.queue.get()
            for kind, call in batch:
                for url in [s.url for s in self.subscriptions.values() if s.type == kind]:
                    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                        async with http.post(url, data=call, headers={"Content-Type": "application/json"}) as resp:
                            await resp.read()
            self.queue.task_done()


JOURNEYS: web.AppKey[SandboxJourneys] = web.AppKey("cdek_journeys", SandboxJourneys)

# ---------------------------------------------------------------- handlers


def _json(request_body: bytes) -> dict[str, Any] | None:
    try:
        body = orjson.loads(request_body)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _refused(status: int, code: str, message: str) -> web.Response:
    return json_response(
        {"requests": [{"type": "CREATE", "state": "INVALID", "errors": [{"code": code, "message": message}]}]},
        status=status,
    )


async def create_webhook(request: web.Request) -> web.Response:
    body = _json(await request.read())
    kind = body.get("type") if body else None
    url = body.get("url") if body else None
    if kind not in WEBHOOK_TYPES:
        return _refused(400, "v2_invalid_value", f"type: one of {', '.join(sorted(WEBHOOK_TYPES))}")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _refused(400, "v2_field_is_empty", "url")
    journeys = request.app[JOURNEYS]
    # CDEK keeps one subscription per type and url: subscribing again answers the same one.
    existing = next((s for s in journeys.subscriptions.values() if s.type == kind and s.url == url), None)
    sub = existing or Subscription(str(uuid_module.uuid4()), str(kind), url)
    journeys.subscriptions[sub.uuid] = sub
    entry = {"request_uuid": str(uuid_module.uuid4()), "type": "CREATE", "state": "SUCCESSFUL"}
    return json_response({"entity": {"uuid": sub.uuid}, "requests": [entry]})


async def list_webhooks(request: web.Request) -> web.Response:
    subs = request.app[JOURNEYS].subscriptions.values()
    return json_response([{"uuid": s.uuid, "type": s.type, "url": s.url} for s in subs])


async def delete_webhook(request: web.Request) -> web.Response:
    sub = request.app[JOURNEYS].subscriptions.pop(request.match_info["uuid"], None)
    if sub is None:
        return _refused(404, "v2_entity_not_found", f"Entity is not found by uuid {request.match_info['uuid']}")
    entry = {"request_uuid": str(uuid_module.uuid4()), "type": "DELETE", "state": "SUCCESSFUL"}
    return json_response({"entity": {"uuid": sub.uuid}, "requests": [entry]})


async def move_clock(request: web.Request) -> web.Response:
    journeys = request.app[JOURNEYS]
    body = _json(await request.read()) or {}
    advance = body.get("advance_s", 0)
    if isinstance(advance, bool) or not isinstance(advance, int | float) or advance < 0:
        return json_response({"error": "advance_s: seconds, 0 or more"}, status=400)
    if isinstance(body.get("speed"), int | float) and body["speed"] >= 0:
        journeys.clock.speed = float(body["speed"])
    journeys.clock.advance(float(advance))
    journeys.orders.catch_up()
    if journeys.queue is not None:
        await journeys.queue.join()  # the calls this move made have gone out when it answers
    return json_response({"now": journeys.clock.now().isoformat(), "speed": journeys.clock.speed})


async def show_clock(request: web.Request) -> web.Response:
    clock = request.app[JOURNEYS].clock
    return json_response({"now": clock.now().isoformat(), "speed": clock.speed})


async def set_journey(request: web.Request) -> web.Response:
    journeys = request.app[JOURNEYS]
    order = journeys.orders.orders.get(request.match_info["uuid"])
    body = _json(await request.read()) or {}
    if order is None:
        return json_response({"error": "no such order"}, status=404)
    if body.get("outcome") not in OUTCOMES:
        return json_response({"error": f"outcome: one of {', '.join(OUTCOMES)}"}, status=400)
    journeys.orders.decide(order)
    if order.cdek_number is None:
        return json_response({"error": "the order is not booked"}, status=409)
    journey = journeys.replan(order, str(body["outcome"]))
    return json_response({"uuid": order.uuid, "outcome": journey.outcome, "steps": [s.code for s in journey.steps]})


async def set_webhook_faults(request: web.Request) -> web.Response:
    body = _json(await request.read())
    if body is None:
        return json_response({"error": "body is not a JSON object"}, status=400)
    duplicate = body.get("duplicate", 0.0)
    if isinstance(duplicate, bool) or not isinstance(duplicate, int | float) or not 0 <= duplicate <= 1:
        return json_response({"error": "duplicate: a share from 0 to 1"}, status=400)
    request.app[JOURNEYS].faults = WebhookFaults(float(duplicate), bool(body.get("reorder", False)))
    return json_response({"duplicate": float(duplicate), "reorder": bool(body.get("reorder", False))})


async def clear_webhook_faults(request: web.Request) -> web.Response:
    request.app[JOURNEYS].faults = WebhookFaults()
    return json_response({"duplicate": 0.0, "reorder": False})


def add_journey_routes(app: web.Application, journeys: SandboxJourneys | None = None) -> SandboxJourneys:
    """The journeys of the app's orders (`add_order_routes` first), its webhooks and their control."""
    if journeys is None:
        journeys = SandboxJourneys(app[ORDERS], seed=app[STATE].random.randrange(2**32))
    if journeys.place_of_point is None:
        listed: dict[str, Any] = {}

        def place_of_point(code: str) -> Stop | None:
            if not listed:  # thousands of points: looked up only once a journey needs one
                listed.update({str(p["code"]): p["location"] for p in app[POINTS].listed()})
            loc = listed.get(code)
            if loc is None:
                return None
            return Stop(str(loc.get("city") or ""), loc.get("latitude"), loc.get("longitude"))

        journeys.place_of_point = place_of_point
    app[JOURNEYS] = journeys

    async def ticking() -> None:
        # A running clock moves parcels (and calls webhooks) with nobody reading the orders.
        while True:
            await asyncio.sleep(journeys.tick_s)
            if journeys.clock.speed:
                journeys.orders.catch_up()

    async def sender(app: web.Application) -> AsyncIterator[None]:
        journeys.queue = asyncio.Queue()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)) as http:
            tasks = [asyncio.create_task(journeys.send(http)), asyncio.create_task(ticking())]
            yield
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        journeys.queue = None

    app.cleanup_ctx.append(sender)
    app.router.add_post("/v2/webhooks", guarded(create_webhook))
    app.router.add_get("/v2/webhooks", guarded(list_webhooks))
    app.router.add_delete("/v2/webhooks/{uuid}", guarded(delete_webhook))
    app.router.add_post(CONTROL_PREFIX + "/clock", move_clock)
    app.router.add_get(CONTROL_PREFIX + "/clock", show_clock)
    app.router.add_post(CONTROL_PREFIX + "/orders/{uuid}/journey", set_journey)
    add_lane_routes(app, journeys.lanes)
    app.router.add_post(CONTROL_PREFIX + "/webhooks/faults", set_webhook_faults)
    app.router.add_delete(CONTROL_PREFIX + "/webhooks/faults", clear_webhook_faults)
    return journeys
