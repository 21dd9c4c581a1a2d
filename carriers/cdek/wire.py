"""CDEK API v2 on the wire: the requests we send and the answers we read, as msgspec Structs.

Every body goes out through `encode` and every answer comes in through one of the decoders
below, so a field's name, type and presence are written once, here. The units are CDEK's:
grams and whole centimetres in, roubles (a JSON number, read exactly as written) and working
days out. Fields we do not read are left undeclared; msgspec skips them.

Answers are read as CDEK's documentation and its official clients shape them, with the
leniency real servers need (a sum as a decimal string, whole numbers written as floats, a
tariff with no name): those choices are the types below, not code that picks fields apart.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec

from carriers.errors import ApiErrorDetail

# ---------------------------------------------------------------- requests


class Location(msgspec.Struct, omit_defaults=True):
    """`from_location` / `to_location`: any of these identify a place."""

    country_code: str | None = None
    postal_code: str | None = None
    city: str | None = None
    address: str | None = None
    code: int | None = None  # CDEK's own city code
    latitude: float | None = None
    longitude: float | None = None


class Package(msgspec.Struct):
    weight: Annotated[int, msgspec.Meta(ge=1)]  # grams
    length: Annotated[int, msgspec.Meta(ge=1)]  # whole centimetres
    width: Annotated[int, msgspec.Meta(ge=1)]
    height: Annotated[int, msgspec.Meta(ge=1)]


class TarifflistRequest(msgspec.Struct):
    """`POST /v2/calculator/tarifflist`: every tariff for one shipment."""

    type: int  # 1: the "online store" contract
    currency: int  # an integer code, not ISO letters: 1 is roubles
    lang: str  # "rus" | "eng" | "zho"
    date: str  # the planned hand-over, e.g. 2024-03-05T10:00:00+0300 (no colon in the offset)
    from_location: Location
    to_location: Location
    packages: list[Package]


# ---------------------------------------------------------------- answers


class ApiError(msgspec.Struct):
    """One entry of `errors[]`."""

    code: str = "unknown"
    message: str = ""


class TokenAnswer(msgspec.Struct):
    """`POST /v2/oauth/token` (client credentials)."""

    access_token: Annotated[str, msgspec.Meta(min_length=1)]
    token_type: str = "bearer"
    # Seconds the token lives (~3600); some servers write it as a string of digits.
    expires_in: float | str = 3600.0


class Tariff(msgspec.Struct):
    """One entry of `tariff_codes[]`. A tariff CDEK could not price carries `errors` instead."""

    tariff_code: int
    delivery_mode: int  # carriers.cdek.codes.DeliveryMode; a new mode is still read
    delivery_sum: Decimal  # roubles: a JSON number or a decimal string, read digit for digit
    period_min: int | float  # working days; whole numbers sometimes come as 2.0
    period_max: int | float | None = None
    tariff_name: str | None = None
    tariff_description: str | None = None
    calendar_min: int | None = None  # newer answers: calendar days
    calendar_max: int | None = None
    errors: list[ApiError] | None = None


class TarifflistAnswer(msgspec.Struct):
    tariff_codes: list[Tariff] | None = None
    errors: list[ApiError] | None = None


class TarifflistEntries(msgspec.Struct):
    """The same answer with each tariff left undecoded: read one by one when the whole answer
    does not fit `TarifflistAnswer`, so one unreadable tariff does not cost the others."""

    tariff_codes: list[msgspec.Raw] | None = None
    errors: msgspec.Raw = msgspec.Raw()  # empty when absent


class TariffProblem(msgspec.Struct):
    """What can still be told of a tariff that does not read as a `Tariff`."""

    tariff_code: Any = None
    errors: msgspec.Raw = msgspec.Raw()  # empty when absent


class ErrorsAnswer(msgspec.Struct):
    """A refusal: `{"errors": [...]}`, on a 4xx or 5xx or next to an empty answer; the order,
    print and intake endpoints put them in `{"requests": [{"errors": [...]}]}` instead."""

    errors: msgspec.Raw = msgspec.Raw()  # empty when absent
    requests: msgspec.Raw = msgspec.Raw()


class RequestErrors(msgspec.Struct):
    errors: msgspec.Raw = msgspec.Raw()


# Delivery points stay as CDEK shapes them: the pickup-point importer (`pickup_points.importers`)
# owns what their fields mean. Here a page is a list of objects.
DeliveryPointsPage = list[Any]

encode = msgspec.json.Encoder().encode
token_decoder = msgspec.json.Decoder(TokenAnswer)
tarifflist_decoder = msgspec.json.Decoder(TarifflistAnswer)
tarifflist_entries_decoder = msgspec.json.Decoder(TarifflistEntries)
tariff_decoder = msgspec.json.Decoder(Tariff)
tariff_problem_decoder = msgspec.json.Decoder(TariffProblem)
errors_decoder = msgspec.json.Decoder(ErrorsAnswer)
request_errors_decoder = msgspec.json.Decoder(list[RequestErrors])
error_list_decoder = msgspec.json.Decoder(list[ApiError])
error_decoder = msgspec.json.Decoder(ApiError)
points_decoder = msgspec.json.Decoder(DeliveryPointsPage)


def error_details(errors: list[ApiError] | msgspec.Raw | None) -> tuple[ApiErrorDetail, ...]:
    """`errors[]` as (code, message). A list of another shape, or one error on its own, is kept
    as the carrier wrote it rather than dropped: a refusal must never read as an empty answer."""
    if isinstance(errors, msgspec.Raw):
        errors = _errors_of(errors)
    return tuple(ApiErrorDetail(e.code, e.message) for e in errors or ())


def _errors_of(raw: msgspec.Raw) -> list[ApiError]:
    text = bytes(raw).strip()
    if not text or text == b"null":
        return []
    try:
        return error_list_decoder.decode(raw)
    except msgspec.ValidationError:
        pass
    try:
        return [error_decoder.decode(raw)]
    except msgspec.ValidationError:
        return [ApiError("unknown", text.decode("utf-8", "replace"))]


def errors_in(body: bytes) -> tuple[ApiErrorDetail, ...]:
    """The `errors[]` of a refusal's body (or of its `requests[]`), or none when the body is not
    such an object."""
    try:
        answer = errors_decoder.decode(body)
        found = error_details(answer.errors)
        if found or not bytes(answer.requests).strip():
            return found
        requests = request_errors_decoder.decode(answer.requests)
    except msgspec.DecodeError:  # ValidationError included: not JSON, or not an object
        return ()
    return tuple(e for r in requests for e in error_details(r.errors))
