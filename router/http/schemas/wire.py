"""The JSON API's request bodies, declared once as msgspec Structs with their constraints.

Requests are decoded and validated through these types (router/http/schemas/decode.py), and the
OpenAPI document's request components are generated from them (router/http/schemas/openapi.py).
What a schema cannot say (a place needs a city, a postal code or coordinates, and a city
given with coordinates lies near them; the deadline policy needs a deadline) is checked after decoding, beside the conversion to domain types.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from pickup_points.model import Feature, PointType
from router.allocation import Method
from router.core.answers import NOT_BLANK
from router.core.models import PolicyKind
from router.core.wording import Lang
from router.history.outcomes import REQUIRED_COLUMNS

MAX_STRING = 200
MAX_WEIGHT_G = 1_000_000  # a tonne: beyond any parcel service
MAX_SIDE_CM = 1_000
MAX_DECLARED_VALUE = Decimal("100000000")
MAX_DAY_VALUE = Decimal("1000000")
MAX_ORDERS = 100_000
MAX_WAREHOUSES = 100
MAX_TIME_LIMIT_S = 60.0
DEFAULT_TIME_LIMIT_S = 10.0
MAX_COUNT = 10**9
LANG_PARAM = "Names, reasons and labels in this language; absent: the best of ru and en in Accept-Language, else en"


def _money(maximum: Decimal, description: str) -> object:
    # A string keeps roubles exact; a JSON number is accepted too, as it always was. Kopecks at
    # most: the pattern says so for strings, multipleOf for numbers.
    whole = len(str(int(maximum))) - 1
    return Meta(
        description=description,
        extra_json_schema={
            "pattern": rf"^(?:{int(maximum)}(?:\.0{{1,2}})?|[0-9]{{1,{whole}}}(?:\.[0-9]{{1,2}})?)$",
            "minimum": 0,
            "maximum": int(maximum),
            "multipleOf": 0.01,
        },
    )


# Surrounding spaces are trimmed after decoding; a blank one counts as not given.
Text = Annotated[str, Meta(max_length=MAX_STRING)]
# Formats name what the bundled place data knows: GET /v1/places lists the cities.
City = Annotated[str, Meta(max_length=MAX_STRING, extra_json_schema={"format": "city"})]
CityName = Annotated[
    str, Meta(min_length=1, max_length=MAX_STRING, description="A city's name", extra_json_schema={"format": "city"})
]
PostalCode = Annotated[
    str, Meta(max_length=MAX_STRING, description="Russian, 6 digits", extra_json_schema={"format": "ru-postal-code"})
]
Code = Annotated[str, Meta(min_length=1, max_length=MAX_STRING, pattern=NOT_BLANK)]
Country = Annotated[
    str,
    Meta(
        pattern=r"^\s*[A-Za-z]{2}\s*$",
        description="ISO 3166-1 alpha-2, e.g. RU",
        extra_json_schema={"format": "country"},
    ),
]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
# Whole numbers are floats with no fraction: JSON Schema's integer admits 530.0, and so does the API.
Grams = Annotated[float, Meta(gt=0, le=MAX_WEIGHT_G, multiple_of=1, description="Whole grams")]
Centimetres = Annotated[float, Meta(gt=0, le=MAX_SIDE_CM)]
Share = Annotated[float, Meta(ge=0, le=1)]
Count = Annotated[float, Meta(ge=0, le=MAX_COUNT, multiple_of=1)]
DeclaredValue = Annotated[Decimal, _money(MAX_DECLARED_VALUE, "Roubles")]
DayValue = Annotated[Decimal, _money(MAX_DAY_VALUE, "Roubles a buyer would pay for one business day sooner")]
Percent = Annotated[
    Decimal,
    Meta(
        description="Greater than 0 and less than 100",
        extra_json_schema={
            "pattern": r"^(?:[1-9][0-9]?(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9]))$",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 100,
            "multipleOf": 0.01,
        },
    ),
]
Moment = Annotated[datetime, Meta(tz=True, description="ISO 8601 with a zone offset, within 366 days of today")]
Day = Annotated[date, Meta(description="YYYY-MM-DD, within 366 days of today")]


class _In(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class LocationIn(_In):
    """Any of the fields; a plain string stands for a city. A city given with lat and lon farther
    from them than its extent (50 km at least) is a 422 naming the three."""

    country: Country | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    address: Text | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class ParcelIn(_In):
    weight_g: Grams
    length_cm: Centimetres
    width_cm: Centimetres
    height_cm: Centimetres


class PolicyIn(_In):
    """A policy name alone stands for `{"kind": name}`."""

    kind: PolicyKind = PolicyKind.BALANCED
    day_value: DayValue | None = None
    deadline: Day | None = None
    only: list[Text] = []
    exclude: list[Text] = []
    min_on_time_rate: Share | None = None
    probability: Share | None = None


class QuoteRequest(_In):
    origin: CityName | LocationIn
    destination: CityName | LocationIn
    parcels: Annotated[list[ParcelIn], Meta(min_length=1)]
    declared_value: DeclaredValue | None = None
    cod: bool = False
    ship_at: Moment | None = None
    # By name alone: every policy but `deadline`, which needs its date.
    policy: Literal["cheapest", "fastest", "balanced"] | PolicyIn | None = None


class WarehouseIn(_In):
    code: Code
    location: CityName | LocationIn


class CapacityIn(_In):
    carrier: Code
    warehouse: Code
    max_parcels: Count


class TierIn(_In):
    carrier: Code
    min_parcels: Count
    percent: Percent


class OrderIn(_In):
    id: Code | Annotated[float, Meta(multiple_of=1, description="An order number")]
    destination: CityName | LocationIn
    parcels: Annotated[list[ParcelIn], Meta(min_length=1)]
    declared_value: DeclaredValue | None = None
    cod: bool = False
    warehouses: list[Code] = []
    deadline: Day | None = None
    exclude: list[Code] = []


class AllocationHeader(_In):
    """The first line of an NDJSON batch; the JSON batch is this with `orders`."""

    warehouses: Annotated[list[WarehouseIn], Meta(min_length=1, max_length=MAX_WAREHOUSES)]
    capacities: list[CapacityIn] = []
    tiers: list[TierIn] = []
    month_to_date: dict[Code, Count] = {}
    day_value: DayValue | None = None
    ship_at: Moment | None = None
    time_limit_s: Annotated[float, Meta(gt=0, le=MAX_TIME_LIMIT_S)] = DEFAULT_TIME_LIMIT_S
    method: Method = Method.AUTO


class AllocationRequest(AllocationHeader, kw_only=True):
    orders: Annotated[list[OrderIn], Meta(min_length=1, max_length=MAX_ORDERS)]


def _listed(kind: type[enum.Enum]) -> str:
    # Blank items are skipped, as in "pvz,,locker" or an empty value.
    one = "|".join(str(m.value) for m in kind)
    return rf"^\s*(?:{one})?\s*(?:,\s*(?:{one})?\s*)*$"


class PickupPointQuery(_In):
    """`GET /v1/pickup-points`: nearest first with lat and lon, or a map view with bbox."""

    lat: Annotated[Latitude, Meta(description="With lon: list nearest first")] | None = None
    lon: Longitude | None = None
    limit: Annotated[float, Meta(ge=1, le=100, multiple_of=1)] = 20
    # Half the Earth's circumference: beyond it every point is inside.
    radius_km: Annotated[float, Meta(ge=0, le=20_000)] | None = None
    bbox: (
        Annotated[
            str,
            Meta(
                description="west,south,east,north in degrees; west > east crosses 180 degrees",
                extra_json_schema={"format": "bbox"},
            ),
        ]
        | None
    ) = None
    zoom: Annotated[float, Meta(ge=0, le=20, multiple_of=1, description="Map zoom for clustering")] = 10
    network: Annotated[str, Meta(description="Comma-separated networks")] | None = None
    type: Annotated[str, Meta(pattern=_listed(PointType), description="Comma-separated")] | None = None
    features: Annotated[str, Meta(pattern=_listed(Feature), description="Comma-separated; all required")] | None = None
    open_at: (
        Annotated[
            str,
            Meta(
                description="'now', an ISO time with offset, or a naive time: local time at each point; within 366 days of today",
                extra_json_schema={"anyOf": [{"const": "now"}, {"format": "date-time"}]},
            ),
        ]
        | None
    ) = None
    weight_g: Annotated[Grams, Meta(description="Only points that take the parcel")] | None = None
    length_cm: Annotated[float, Meta(ge=0.1, le=MAX_SIDE_CM)] | None = None
    width_cm: Annotated[float, Meta(ge=0.1, le=MAX_SIDE_CM)] | None = None
    height_cm: Annotated[float, Meta(ge=0.1, le=MAX_SIDE_CM)] | None = None
    origin: (
        Annotated[
            str,
            Meta(
                description="City, postal code or 'lat,lon': price each point from here (needs weight_g)",
                extra_json_schema={"format": "city"},
            ),
        ]
        | None
    ) = None
    lang: Annotated[Lang, Meta(description=LANG_PARAM)] | None = None


class LangQuery(_In):
    """The language of an answer's names and reasons; no other parameter is read, so none is taken."""

    lang: Annotated[Lang, Meta(description=LANG_PARAM)] | None = None


class PlacesQuery(_In):
    """`GET /v1/places`: cities whose name starts with q."""

    q: Annotated[str, Meta(min_length=1, max_length=100, pattern=NOT_BLANK)]
    limit: Annotated[float, Meta(ge=1, le=20, multiple_of=1)] = 8
    country: (
        Annotated[
            str,
            Meta(
                pattern=r"^(?:[A-Za-z]{2}|\*)$", description="ISO 3166-1 alpha-2, RU when not given; * for any country"
            ),
        ]
        | None
    ) = None


class OutcomesIn(_In):
    """`POST /v1/outcomes` as a JSON object (a bare list of rows is read too). Each row is read by
    router/history/outcomes.py, as CSV and NDJSON rows are: a bad one is reported in the answer's
    `problems`, not refused."""

    outcomes: list[Any]


# The text bodies of `POST /v1/outcomes`, as precisely as JSON Schema says them: a body of
# another shape is refused (422); in one of these shapes, each bad row is reported, not refused.
# A CSV header field: no quote (a quoted header could run over lines), comma or line break (lines
# end at "\n" alone, router/core/textfiles.py); a column's name may be padded with anything
# `str.strip` takes off.
_BREAK = r"\n"
_HEADER_FIELD = r'[^",\n]*'
_PAD = r"[\t\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*"
_HAS_COLUMN = r"(?=(?:{f},)*" + _PAD + "{name}" + _PAD + r"(?:,|{b}|$))"
OUTCOMES_CSV = {
    "type": "string",
    "description": "A header line naming at least the columns " + ", ".join(REQUIRED_COLUMNS) + " (and any of "
    "promised_date, delivered_at, status, complaint), then one outcome a line",
    "pattern": "^"
    + "".join(_HAS_COLUMN.format(f=_HEADER_FIELD, name=name, b=_BREAK) for name in REQUIRED_COLUMNS)
    + _HEADER_FIELD
    + rf"(?:,{_HEADER_FIELD})*(?:{_BREAK}[\s\S]*)?$",
}
OUTCOMES_NDJSON = {
    "type": "string",
    # Blank lines are skipped: a body of only those holds no row at all.
    "description": "One outcome a line as a JSON object; a line that is not one is listed in `problems`",
    "pattern": r"[^\t\n\r\x0b\x0c ]",
}
