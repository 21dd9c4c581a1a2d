"""CDEK, through its API v2: pure request builders and answer parsers, one HTTP client, the carrier.

Wire units: the calculator takes grams and whole centimetres and answers in roubles (a JSON
number) with transit in working days; delivery points give weight limits in kilograms.
"""

from __future__ import annotations

import asyncio
import math
import time as _time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import time
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from carriers.api import (
    CALLERS_BOUND,
    NO_SESSION_TIMEOUT,
    ApiErrorDetail,
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierUnavailable,
    Secret,
    bounded,
    carrier_pool,
    decimal_from_wire,
    decode_json,
    read_body,
    retry_after_s,
)
from carriers.cdek.codes import (
    CALCULATOR_TYPE_ESHOP,
    KNOWN_TARIFFS,
    Currency,
    delivery_type,
)
from carriers.http import HttpError, HttpPool
from router.core.calendar import make_eta
from router.core.memo import IdMemo
from router.core.models import (
    CarrierInfo,
    CarrierQuote,
    DeliveryType,
    Eta,
    Offer,
    Parcel,
    Place,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    Rejection,
    ServiceInfo,
    money,
)

if TYPE_CHECKING:
    from pickup_points.importers import ImportResult

DEFAULT_BASE_URL = "https://api.edu.cdek.ru"  # CDEK's public test environment
TOKEN_PATH = "/v2/oauth/token"
TARIFFLIST_PATH = "/v2/calculator/tarifflist"
DELIVERYPOINTS_PATH = "/v2/deliverypoints"
VOLUMETRIC_DIVISOR = 5000  # CDEK bills the larger of actual and L×W×H/5000 kg

# The tariffs of one answer share a ship date and mostly a few transit spans, and a busy service
# quotes the same spans all day: the dates are worked out once per combination.
_eta = lru_cache(maxsize=4096)(make_eta)


# ---------------------------------------------------------------- request building


def tarifflist_body(request: RateRequest, *, lang: str = "rus") -> dict[str, Any]:
    """The `POST /v2/calculator/tarifflist` body for a shipment."""
    return {
        "type": CALCULATOR_TYPE_ESHOP,
        "currency": int(Currency.RUB),
        "lang": lang,
        # CDEK wants the offset without a colon: 2024-03-05T10:00:00+0300
        "date": request.ship_at.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "from_location": location(request.origin),
        "to_location": location(request.destination),
        "packages": [package(p) for p in request.shipment.parcels],
    }


# The last calculator body encoded: a quote's CDEK-format carriers are asked one after another
# in the same loop turn for the same request, and all but the first send the same bytes.
_last_body: tuple[RateRequest | None, str, bytes] = (None, "", b"")


def tarifflist_json(request: RateRequest, lang: str = "rus") -> bytes:
    """`tarifflist_body` as the JSON sent, encoded once for the carriers asked about `request`."""
    global _last_body
    asked, asked_lang, data = _last_body
    if asked is request and asked_lang == lang:
        return data
    data = orjson.dumps(tarifflist_body(request, lang=lang))
    _last_body = (request, lang, data)
    return data


def location(place: Place) -> dict[str, Any]:
    loc: dict[str, Any] = {"country_code": place.country}
    if place.postal_code:
        loc["postal_code"] = place.postal_code
    if place.city:
        loc["city"] = place.city
    if place.address:
        loc["address"] = place.address
    loc["latitude"] = place.lat
    loc["longitude"] = place.lon
    return loc


def package(parcel: Parcel) -> dict[str, int]:
    # Whole centimetres only; rounding up never understates a size limit or a volumetric weight.
    return {
        "weight": max(1, int(parcel.weight_g)),
        "length": max(1, math.ceil(parcel.length_cm)),
        "width": max(1, math.ceil(parcel.width_cm)),
        "height": max(1, math.ceil(parcel.height_cm)),
    }


def token_form(client_id: Secret, client_secret: Secret) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id.reveal(),
        "client_secret": client_secret.reveal(),
    }


def deliverypoints_query(filters: Mapping[str, Any] | None, page: int, size: int) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, value in (filters or {}).items():
        if value is None:
            continue
        # Query strings have no booleans; CDEK reads the JSON spelling.
        query[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    query["page"] = str(page)  # 0-based
    query["size"] = str(size)
    return query


# ---------------------------------------------------------------- answer parsing


def api_errors(value: Any) -> tuple[ApiErrorDetail, ...]:
    """`errors[]` items as (code, message); anything odd in them is kept as text, not dropped."""
    if not value:
        return ()
    if not isinstance(value, list):
        value = [value]
    details = []
    for item in value:
        if isinstance(item, dict):
            details.append(ApiErrorDetail(str(item.get("code") or "unknown"), str(item.get("message") or "")))
        else:
            details.append(ApiErrorDetail("unknown", str(item)))
    return tuple(details)


def parse_token(answer: Any, carrier: str) -> tuple[str, float]:
    """(access token, seconds it lives)."""
    if not isinstance(answer, dict):
        raise CarrierAuthError(carrier, "token answer is not an object")
    token = answer.get("access_token")
    expires_in = answer.get("expires_in", 3600)
    if not isinstance(token, str) or not token:
        raise CarrierAuthError(carrier, "token answer has no access_token")
    if isinstance(expires_in, str):
        try:
            expires_in = float(expires_in)
        except ValueError:
            expires_in = None
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or not math.isfinite(expires_in):
        raise CarrierAuthError(carrier, "token answer has no usable expires_in")
    return token, max(0.0, float(expires_in))


class Tariff(NamedTuple):
    code: int
    name: str
    delivery_mode: int
    delivery_sum: Any
    period_min: int
    period_max: int


@lru_cache(maxsize=4096)
def _delivery_price(amount: Decimal) -> Price:
    # CDEK quotes one delivery_sum with no breakdown; extra services are not asked for. The same
    # sums come back all day (a tariff's weight steps), and a Price is immutable: built once each.
    return Price(amount, (PriceLine(PriceLineKind.BASE, amount, "delivery"),))


def _amount(value: Any) -> Decimal:
    """delivery_sum in kopecks; raises ValueError on anything but a non-negative amount."""
    if (type(value) is float or type(value) is int) and value > 0:  # not 0 / -0.0, equal as keys
        return _amount_of_number(value)
    return _checked_amount(value)


@lru_cache(maxsize=4096)
def _amount_of_number(value: float) -> Decimal:
    # The same sums come back all day; a float or int key never collides with a bool (checked above).
    return _checked_amount(value)


def _checked_amount(value: Any) -> Decimal:
    amount = money(decimal_from_wire(value))
    if amount < 0:
        raise ValueError(f"negative delivery_sum {amount}")
    return amount.copy_abs()  # -0.0 on the wire is no charge, not "-0.00"


def parse_tarifflist(
    answer: Any,
    request: RateRequest,
    *,
    carrier: str,
    carrier_name: str,
    cutoff: time,
    tariffs: frozenset[int] | None = None,
) -> CarrierQuote:
    """Offers for every tariff the calculator answered (or only the allowed ones).

    Errors with no tariffs mean the calculator refused the whole shipment: raised. Errors next
    to tariffs, or a single tariff that cannot be read, leave that much out as rejections.
    """
    if not isinstance(answer, dict):
        raise CarrierApiError(carrier, "calculator answer is not an object")
    errors = api_errors(answer.get("errors"))
    items = answer.get("tariff_codes")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise CarrierApiError(carrier, "tariff_codes is not a list")
    if errors and not items:
        raise CarrierApiError(carrier, "calculator refused the shipment", errors=errors)

    offers: list[Offer] = []
    rejections = [Rejection(carrier, "*", f"{e.code}: {e.message}" if e.message else e.code) for e in errors]
    chargeable_g = _chargeable_g(request)
    ship_at, zone = request.ship_at, request.origin.timezone
    etas: dict[tuple[int, int], Eta] = {}  # the tariffs of one answer mostly share their transit days
    for index, item in enumerate(items):
        is_object = type(item) is dict or isinstance(item, dict)
        code = item.get("tariff_code") if is_object else None
        if tariffs is not None and code not in tariffs:
            continue
        if is_object and item.get("errors"):
            service = str(code) if code is not None else f"tariff_codes[{index}]"
            rejections.extend(
                Rejection(carrier, service, f"{e.code}: {e.message}") for e in api_errors(item.get("errors"))
            )
            continue
        name, mode, total = item.get("tariff_name"), item.get("delivery_mode"), item.get("delivery_sum")
        low, high = item.get("period_min"), item.get("period_max")
        if (
            type(code) is int
            and type(mode) is int
            and type(low) is int
            and type(high) is int
            and 0 <= low <= high
            and type(name) is str
            and name
            and (type(total) is float or type(total) is int)
            and total > 0
        ):
            # The shape every answer has: whole numbers where they belong and a positive sum,
            # so none of `_tariff`'s checks and conversions can change anything.
            price = _price_of_number(total)
        else:
            try:
                tariff = _tariff(item)
                price = _delivery_price(_amount(tariff.delivery_sum))
            except (TypeError, ValueError, KeyError) as exc:
                service = str(code) if code is not None else f"tariff_codes[{index}]"
                rejections.append(Rejection(carrier, service, f"unreadable tariff in the answer: {exc}"))
                continue
            code, name, mode, low, high = (
                tariff.code,
                tariff.name,
                tariff.delivery_mode,
                tariff.period_min,
                tariff.period_max,
            )
        eta = etas.get((low, high))
        if eta is None:
            try:
                eta = etas[low, high] = _eta(ship_at, zone, cutoff, low, high)
            except (TypeError, ValueError, KeyError) as exc:
                rejections.append(Rejection(carrier, str(code), f"unreadable tariff in the answer: {exc}"))
                continue
        service, offer_id, kind = _service(carrier, code, mode)
        offers.append(Offer(carrier, carrier_name, service, name, kind, price, eta, chargeable_g, offer_id))
    return CarrierQuote(offers=tuple(offers), rejections=tuple(rejections))


@lru_cache(maxsize=4096)
def _price_of_number(value: float) -> Price:
    # A positive JSON number (bool is ruled out by the caller's type check): what every tariff's
    # delivery_sum is. The same sums come back all day; each Price is built once.
    return _delivery_price(_checked_amount(value))


@lru_cache(maxsize=4096)
def _service(carrier: str, code: int, mode: int) -> tuple[str, str, DeliveryType]:
    """(service, offer id, delivery type) of a tariff: the same few for a carrier all day."""
    service = str(code)
    return service, f"{carrier}:{service}", delivery_type(mode)


def _weigh(request: RateRequest) -> int:
    return request.shipment.chargeable_weight_g(VOLUMETRIC_DIVISOR)


# The chargeable weight of the requests parsed lately: a quote's CDEK-format carriers all answer
# about the same request, but their answers come in among other quotes' (one kept request would
# be pushed out before most of them arrive).
_chargeable_g = IdMemo(_weigh, 256)


def _int(item: Mapping[str, Any], key: str) -> int:
    value = item[key]
    if type(value) is int:  # what a JSON whole number decodes to: no further checks
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"{key} is not a whole number: {value!r}")
    return int(value)


def _tariff(item: Any) -> Tariff:
    if not isinstance(item, dict):
        raise ValueError("not an object")
    low = _int(item, "period_min")
    high = _int(item, "period_max") if item.get("period_max") is not None else low
    if low < 0 or high < 0:
        raise ValueError(f"negative transit days {low}..{high}")
    name = item.get("tariff_name")
    code = _int(item, "tariff_code")
    return Tariff(
        code,
        str(name) if name else f"Tariff {code}",
        _int(item, "delivery_mode"),
        item["delivery_sum"],
        low if low <= high else high,
        high if high >= low else low,
    )


def parse_deliverypoints_page(answer: Any, carrier: str) -> list[dict[str, Any]]:
    if not isinstance(answer, list):
        if isinstance(answer, dict) and answer.get("errors"):
            raise CarrierApiError(carrier, "delivery points refused", errors=api_errors(answer["errors"]))
        raise CarrierApiError(carrier, "delivery points answer is not a list")
    return [p for p in answer if isinstance(p, dict)]


def total_elements(headers: Mapping[str, str]) -> int | None:
    value = headers.get("X-Total-Elements")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------- HTTP


class CdekClient:
    """The only code that talks to CDEK: OAuth2 client credentials and JSON calls.

    The token is cached until shortly before it expires and shared by every caller; callers
    that find it missing wait on one lock, so a burst of quotes makes one token request. A 401
    drops the token and retries the call once with a fresh one.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession | None,
        *,
        client_id: Secret,
        client_secret: Secret,
        base_url: str = DEFAULT_BASE_URL,
        carrier: str = "cdek",
        clock: Callable[[], float] = _time.monotonic,
    ) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self.base_url = base_url.rstrip("/").removesuffix("/v2")
        self.carrier = carrier
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._lock = asyncio.Lock()
        self.token_requests = 0
        # The calculator, asked on every quote, goes through kept-alive connections of its own
        # (carriers.http); tokens and delivery-point pages through the aiohttp session.
        self._pool: HttpPool | None = None
        self._calc_head: tuple[str, bytes] | None = None  # (token, the calculator call's head)

    def __repr__(self) -> str:
        return f"CdekClient({self.base_url!r}, carrier={self.carrier!r})"

    async def tarifflist(self, body: Mapping[str, Any] | bytes) -> Any:
        """The calculator's answer to `body` (a mapping, or the JSON already encoded)."""
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        pool = self._calculator_pool()
        for attempt in (1, 2):
            token = self._token
            if token is None or self._clock() >= self._token_expires_at:
                token = await self._bearer()
            try:
                answer = await pool.request(self._calculator_head(pool, token), data)
            except TimeoutError:
                raise
            except (HttpError, OSError) as exc:
                raise CarrierUnavailable(self.carrier, f"POST {TARIFFLIST_PATH} failed: {type(exc).__name__}") from None
            if answer.status == 401 and attempt == 1:
                self._drop(token)
                continue
            if 300 <= answer.status < 400:  # the calculator's URL is configured; a redirect is not followed
                raise CarrierApiError(
                    self.carrier, f"HTTP {answer.status} (redirect not followed)", status=answer.status
                )
            return self._answer(answer.status, answer.headers.get("retry-after"), answer.body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _calculator_pool(self) -> HttpPool:
        http = self._session()
        if http.closed:
            self.close()
            raise CarrierUnavailable(self.carrier, "HTTP session closed")
        if self._pool is None:
            self._pool = carrier_pool(http, self.base_url)
        return self._pool

    def _calculator_head(self, pool: HttpPool, token: str) -> bytes:
        if self._calc_head is None or self._calc_head[0] != token:
            headers = {**self._auth_headers(token), "Content-Type": "application/json"}
            self._calc_head = (token, pool.head("POST", TARIFFLIST_PATH, headers))
        return self._calc_head[1]

    def close(self) -> None:
        """Close the calculator's kept-alive connections (the aiohttp session is the owner's)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def deliverypoints_page(
        self, filters: Mapping[str, Any] | None, page: int, size: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        headers, answer = await self._call("GET", DELIVERYPOINTS_PATH, params=deliverypoints_query(filters, page, size))
        return parse_deliverypoints_page(answer, self.carrier), total_elements(headers)

    @staticmethod
    def token_margin_s(expires_in: float) -> float:
        """How long before expiry a token is replaced: a minute, or a tenth of a short life."""
        return min(60.0, expires_in * 0.1)

    async def _bearer(self) -> str:
        token = self._token
        if token is not None and self._clock() < self._token_expires_at:
            return token
        async with self._lock:
            token = self._token
            if token is not None and self._clock() < self._token_expires_at:
                return token
            token, expires_in = await self._fetch_token()
            self._token = token
            self._token_expires_at = self._clock() + expires_in - self.token_margin_s(expires_in)
            return token

    def _drop(self, token: str) -> None:
        # Only the token that failed: a caller holding an older 401 must not throw away a new one.
        if self._token == token:
            self._token = None

    async def _fetch_token(self) -> tuple[str, float]:
        http = self._session()
        self.token_requests += 1
        try:
            async with http.post(
                self.base_url + TOKEN_PATH,
                data=token_form(self._client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=NO_SESSION_TIMEOUT,
            ) as resp:
                body = await read_body(resp, self.carrier)
                status, headers = resp.status, resp.headers
        except TimeoutError:
            raise
        except aiohttp.ClientError as exc:
            raise CarrierUnavailable(self.carrier, f"token request failed: {type(exc).__name__}") from None
        if status in (400, 401, 403):
            raise CarrierAuthError(self.carrier, "credentials refused", status=status)
        return parse_token(self._answer(status, headers.get("Retry-After"), body), self.carrier)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise CarrierUnavailable(self.carrier, "no HTTP session (configured for listing only)")
        return self._http

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
    ) -> tuple[CIMultiDictProxy[str], Any]:
        """A call without a body through the aiohttp session (delivery-point pages)."""
        http = self._session()
        for attempt in (1, 2):
            token = await self._bearer()
            try:
                async with http.request(
                    method,
                    self.base_url + path,
                    params=params,
                    headers=self._auth_headers(token),
                    timeout=NO_SESSION_TIMEOUT,
                ) as resp:
                    if resp.status == 401 and attempt == 1:
                        self._drop(token)
                        continue
                    body = await read_body(resp, self.carrier)
                    status, resp_headers = resp.status, resp.headers
            except TimeoutError:
                raise
            except aiohttp.ClientError as exc:
                raise CarrierUnavailable(self.carrier, f"{method} {path} failed: {type(exc).__name__}") from None
            return resp_headers, self._answer(status, resp_headers.get("Retry-After"), body)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _auth_headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _answer(self, status: int, retry_after: str | None, body: bytes) -> Any:
        if status == 429:
            raise CarrierRateLimited(
                self.carrier, "rate limited", status=status, retry_after_s=retry_after_s(retry_after)
            )
        if status == 401:
            raise CarrierAuthError(self.carrier, "token refused twice", status=status)
        if status >= 500:
            raise CarrierUnavailable(self.carrier, f"HTTP {status}", status=status, errors=_errors_if_json(body))
        answer = decode_json(body, self.carrier, status)
        if status >= 400:
            errors = api_errors(answer.get("errors")) if isinstance(answer, dict) else ()
            raise CarrierApiError(self.carrier, f"HTTP {status}", status=status, errors=errors)
        return answer


def _errors_if_json(body: bytes) -> tuple[ApiErrorDetail, ...]:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ()
    return api_errors(answer.get("errors")) if isinstance(answer, dict) else ()


# ---------------------------------------------------------------- the carrier


class CdekCarrier:
    """A `Carrier` that quotes every CDEK tariff for the shipment in one calculator call."""

    kind = "cdek"
    remote = True

    def __init__(
        self,
        client: CdekClient,
        *,
        code: str = "cdek",
        name: str = "CDEK",
        tariffs: frozenset[int] | None = None,
        cutoff: time = time(18, 0),
        timeout_s: float = 2.0,
        lang: str = "rus",
    ) -> None:
        self.client = client
        self.code = code
        self.name = name
        self.tariffs = tariffs
        self.cutoff = cutoff
        self.timeout_s = timeout_s
        self.lang = lang
        listed = sorted(tariffs) if tariffs is not None else sorted(KNOWN_TARIFFS)
        self._info = CarrierInfo(
            code=code,
            name=name,
            kind=self.kind,
            services=tuple(
                ServiceInfo(str(t), KNOWN_TARIFFS[t][0], KNOWN_TARIFFS[t][1].delivery_type)
                for t in listed
                if t in KNOWN_TARIFFS
            ),
        )

    def __repr__(self) -> str:
        return f"CdekCarrier({self.code!r}, {self.client.base_url!r})"

    def info(self) -> CarrierInfo:
        return self._info

    def close(self) -> None:
        self.client.close()

    def quote_sync(self, request: RateRequest) -> None:
        return None

    async def quote(self, request: RateRequest) -> CarrierQuote:
        timer = bounded(self.timeout_s)
        if timer is CALLERS_BOUND:
            answer = await self.client.tarifflist(tarifflist_json(request, self.lang))
        else:
            async with timer:
                answer = await self.client.tarifflist(tarifflist_json(request, self.lang))
        return parse_tarifflist(
            answer, request, carrier=self.code, carrier_name=self.name, cutoff=self.cutoff, tariffs=self.tariffs
        )

    async def delivery_points(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = 1000, page_timeout_s: float = 30.0
    ) -> AsyncIterator[dict[str, Any]]:
        """Every delivery point matching `filters`, as CDEK shapes it, page by page.

        Feed it to the pickup-point importer for CDEK-shaped points. Paging stops at
        `X-Total-Elements`, or at a short or empty page when a server does not send the total.
        """
        page = 0
        seen = 0
        while True:
            async with bounded(page_timeout_s):
                items, total = await self.client.deliverypoints_page(filters, page, page_size)
            for item in items:
                yield item
            seen += len(items)
            if not items or (total is not None and seen >= total) or (total is None and len(items) < page_size):
                return
            page += 1

    async def import_delivery_points(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = 1000,
        zone_for: Callable[[float, float], str] | None = None,
    ) -> ImportResult:
        """Every matching point as `PickupPoint`s, with the records that could not be read.

        CDEK gives no time zone per point; `zone_for(lat, lon)` finds it (offline by default).
        """
        from pickup_points.importers import import_cdek

        if zone_for is None:
            from pickup_points.timezones import TimezoneLookup

            zone_for = TimezoneLookup()
        items = [item async for item in self.delivery_points(filters, page_size=page_size)]
        return import_cdek(orjson.dumps(items), carrier=self.code, zone_for=zone_for)
