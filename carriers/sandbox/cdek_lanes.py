"""Lanes the CDEK emulator runs late on demand, so that the service can be watched learning it.

A lane made late holds every parcel booked on it from then on `late_days` longer on the trunk to
the recipient's city (`carriers.sandbox.cdek_journeys.plan`):

    POST   /_sandbox/lanes    {"from": "Moscow", "to": "Novosibirsk", "late_days": 5}   (0: on time again)
    GET    /_sandbox/lanes    the lanes running late
    DELETE /_sandbox/lanes    none

A lane is named by its cities as the orders carry them (an office's city as the emulator lists
it, a door address's city as the booking sent it), compared without regard to case; without
`from`, every parcel to `to` is late.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from carriers.sandbox.faults import CONTROL_PREFIX, json_response

DAY_S = 86400.0
MAX_LATE_DAYS = 60


class LateLanes:
    def __init__(self) -> None:
        self.late_s: dict[tuple[str, str], float] = {}  # by (sender's city or "", recipient's city), casefolded

    def lateness(self, origin_city: str, destination_city: str) -> float:
        """Seconds a parcel booked now on this lane is held up."""
        to = destination_city.strip().casefold()
        return self.late_s.get((origin_city.strip().casefold(), to), self.late_s.get(("", to), 0.0))

    def listed(self) -> dict[str, Any]:
        return {"lanes": [{"from": o, "to": t, "late_days": s / DAY_S} for (o, t), s in self.late_s.items()]}


LANES: web.AppKey[LateLanes] = web.AppKey("cdek_late_lanes", LateLanes)


async def set_lane(request: web.Request) -> web.Response:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return json_response({"error": "body is not a JSON object"}, status=400)
    origin, to, days = body.get("from", ""), body.get("to"), body.get("late_days")
    if not isinstance(to, str) or not to.strip():
        return json_response({"error": "to: the recipient's city"}, status=400)
    if not isinstance(origin, str):
        return json_response({"error": "from: the sender's city, or none for every one"}, status=400)
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 <= days <= MAX_LATE_DAYS:
        return json_response({"error": f"late_days: days from 0 (on time again) to {MAX_LATE_DAYS}"}, status=400)
    lanes = request.app[LANES]
    lane = (origin.strip().casefold(), to.strip().casefold())
    if days:
        lanes.late_s[lane] = float(days) * DAY_S
    else:
        lanes.late_s.pop(lane, None)
    return json_response(lanes.listed())


async def show_lanes(request: web.Request) -> web.Response:
    return json_response(request.app[LANES].listed())


async def clear_lanes(request: web.Request) -> web.Response:
    lanes = request.app[LANES]
    lanes.late_s.clear()
    return json_response(lanes.listed())


def add_lane_routes(app: web.Application, lanes: LateLanes) -> None:
    app[LANES] = lanes
    app.router.add_post(CONTROL_PREFIX + "/lanes", set_lane)
    app.router.add_get(CONTROL_PREFIX + "/lanes", show_lanes)
    app.router.add_delete(CONTROL_PREFIX + "/lanes", clear_lanes)
