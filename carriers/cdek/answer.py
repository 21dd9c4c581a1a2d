"""The CDEK calculator's answer read into offers and rejections, tariff by tariff.

A pure function of `carriers.cdek.wire` types, tested without any network; `carriers.cdek.carrier`
calls it with what the calculator answered. Wire units: roubles, transit in working days.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from functools import lru_cache

import msgspec

from carriers.cdek import wire
from carriers.cdek.codes import delivery_type, point_types, russian_name
from carriers.errors import ApiErrorDetail, CarrierApiError
from router.core.calendar import make_eta
from router.core.memo import IdMemo
from router.core.models import (
    CarrierQuote,
    DeliveryType,
    Eta,
    Offer,
    PointType,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    Rejection,
    money,
)

VOLUMETRIC_DIVISOR = 5000  # CDEK bills the larger of actual and L×W×H/5000 kg

# The tariffs of one answer share a ship date and mostly a few transit spans, and a busy service
# quotes the same spans all day: the dates are worked out once per combination.
_eta = lru_cache(maxsize=4096)(make_eta)


def parse_tarifflist(
    body: bytes,
    request: RateRequest,
    *,
    carrier: str,
    carrier_name: str,
    cutoff: time,
    tariffs: frozenset[int] | None = None,
    carrier_name_ru: str = "",
    lang: str = "rus",
) -> CarrierQuote:
    """Offers for every tariff the calculator answered (or only the allowed ones).

    Tariffs are named as the calculator named them in `lang`; asked in another language than
    Russian, a known tariff's Russian name comes from `KNOWN_TARIFFS`.

    Errors with no tariffs mean the calculator refused the whole shipment: raised. Errors next
    to tariffs, or a single tariff that cannot be read, leave that much out as rejections.
    """
    reader = _TariffReader(request, carrier, carrier_name, cutoff, tariffs, carrier_name_ru, lang)
    try:
        answer = wire.tarifflist_decoder.decode(body)
    except msgspec.ValidationError:
        # Some part is not in the published shape: read what can be read, tariff by tariff.
        return _parse_entries(body, reader)
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"answer is not JSON ({exc})") from None
    items = answer.tariff_codes or []
    if answer.errors:
        reader.refused(wire.error_details(answer.errors), bool(items))
    # The hot loop: a busy service reads ten of these answers per quote. A tariff in the shape
    # every answer has (whole days in order, a name, no errors) goes straight to its offer;
    # anything else takes `read`, which checks and mends each field.
    offers, etas, chargeable_g = reader.offers, reader.etas, reader.chargeable_g
    for tariff in items:
        code = tariff.tariff_code
        if tariffs is not None and code not in tariffs:
            continue
        low, high, name = tariff.period_min, tariff.period_max, tariff.tariff_name
        if not (
            tariff.errors is None
            and type(low) is int
            and type(high) is int
            and 0 <= low <= high <= MAX_TRANSIT_DAYS
            and name
        ):
            reader.read(tariff, str(code))
            continue
        try:
            price = _price(tariff.delivery_sum)
        except (TypeError, ValueError, ArithmeticError) as exc:
            reader.reject(str(code), exc)
            continue
        eta = etas.get((low, high)) or reader.eta(low, high)
        service, offer_id, kind, points = _service(carrier, code, tariff.delivery_mode)
        offers.append(
            Offer(
                carrier,
                carrier_name,
                service,
                name,
                kind,
                price,
                eta,
                chargeable_g,
                offer_id,
                point_types=points,
                carrier_name_ru=reader.carrier_name_ru,
                service_name_ru=russian_name(code, name, reader.lang),
            )
        )
    return reader.quote()


def _parse_entries(body: bytes, reader: _TariffReader) -> CarrierQuote:
    try:
        answer = wire.tarifflist_entries_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise CarrierApiError(reader.carrier, f"calculator answer is not in CDEK's shape: {exc}") from None
    except msgspec.DecodeError as exc:  # malformed past the point where the typed reading stopped
        raise CarrierApiError(reader.carrier, f"answer is not JSON ({exc})") from None
    items = answer.tariff_codes or []
    reader.refused(wire.error_details(answer.errors), bool(items))
    for index, item in enumerate(items):
        try:
            tariff = wire.tariff_decoder.decode(item)
        except msgspec.ValidationError as exc:
            reader.unreadable(item, index, str(exc))
            continue
        if reader.tariffs is None or tariff.tariff_code in reader.tariffs:
            reader.read(tariff, str(tariff.tariff_code))
    return reader.quote()


class _TariffReader:
    """Offers and rejections of one calculator answer, tariff by tariff."""

    def __init__(
        self,
        request: RateRequest,
        carrier: str,
        carrier_name: str,
        cutoff: time,
        tariffs: frozenset[int] | None,
        carrier_name_ru: str = "",
        lang: str = "rus",
    ) -> None:
        self.request = request
        self.carrier = carrier
        self.carrier_name = carrier_name
        self.carrier_name_ru = carrier_name_ru
        self.lang = lang
        self.cutoff = cutoff
        self.tariffs = tariffs
        self.offers: list[Offer] = []
        self.rejections: list[Rejection] = []
        self.chargeable_g = _chargeable_g(request)
        self.etas: dict[tuple[int, int], Eta] = {}  # the tariffs of one answer mostly share their days

    def refused(self, errors: tuple[ApiErrorDetail, ...], any_tariffs: bool) -> None:
        if errors and not any_tariffs:
            raise CarrierApiError(self.carrier, "calculator refused the shipment", errors=errors)
        self.rejections += [Rejection(self.carrier, "*", _reason(e)) for e in errors]

    def read(self, tariff: wire.Tariff, service: str) -> None:
        if tariff.errors:
            self.rejections += [Rejection(self.carrier, service, _reason(e)) for e in wire.error_details(tariff.errors)]
            return
        try:
            price = _price(tariff.delivery_sum)
            low, high = _days(tariff.period_min, "period_min"), tariff.period_max
            high = low if high is None else _days(high, "period_max")
            low, high = min(low, high), max(low, high)
            eta = self.etas.get((low, high)) or self.eta(low, high)
        except (TypeError, ValueError, ArithmeticError) as exc:
            self.reject(service, exc)
            return
        code = tariff.tariff_code
        name = tariff.tariff_name or f"Tariff {code}"
        name_ru = russian_name(code, tariff.tariff_name, self.lang) if tariff.tariff_name else f"Тариф {code}"
        service, offer_id, kind, points = _service(self.carrier, code, tariff.delivery_mode)
        self.offers.append(
            Offer(
                self.carrier,
                self.carrier_name,
                service,
                name,
                kind,
                price,
                eta,
                self.chargeable_g,
                offer_id,
                point_types=points,
                carrier_name_ru=self.carrier_name_ru,
                service_name_ru=name_ru,
            )
        )

    def eta(self, low: int, high: int) -> Eta:
        """The delivery window for `low`..`high` working days, kept for the answer's other tariffs."""
        eta = self.etas[low, high] = _eta(self.request.ship_at, self.request.origin.timezone, self.cutoff, low, high)
        return eta

    def reject(self, service: str, why: Exception) -> None:
        self.rejections.append(Rejection(self.carrier, service, f"unreadable tariff in the answer: {why}"))

    def unreadable(self, item: msgspec.Raw, index: int, why: str) -> None:
        """A tariff that does not read as one: its own errors if it gave any, else why not."""
        try:
            problem: wire.TariffProblem | None = wire.tariff_problem_decoder.decode(item)
        except msgspec.ValidationError:
            problem = None  # not even an object
        code = problem.tariff_code if problem is not None else None
        if self.tariffs is not None and not (type(code) is int and code in self.tariffs):
            return
        service = str(code) if code is not None else f"tariff_codes[{index}]"
        if problem is not None and wire.error_details(problem.errors):
            self.rejections += [
                Rejection(self.carrier, service, _reason(e)) for e in wire.error_details(problem.errors)
            ]
        else:
            self.rejections.append(Rejection(self.carrier, service, f"unreadable tariff in the answer: {why}"))

    def quote(self) -> CarrierQuote:
        return CarrierQuote(offers=tuple(self.offers), rejections=tuple(self.rejections))


def _reason(error: ApiErrorDetail) -> str:
    return f"{error.code}: {error.message}" if error.message else error.code


@lru_cache(maxsize=4096)
def _price(delivery_sum: Decimal) -> Price:
    """The offer's price for a `delivery_sum`: one line, as CDEK gives no breakdown.

    The same sums come back all day (a tariff's weight steps) and a Price is immutable, so each
    is built once. Raises ValueError on anything but a finite, non-negative amount.
    """
    if not delivery_sum.is_finite():
        raise ValueError(f"delivery_sum is not an amount: {delivery_sum}")
    amount = money(delivery_sum)
    if amount < 0:
        raise ValueError(f"negative delivery_sum {amount}")
    amount = amount.copy_abs()  # -0.0 on the wire is no charge, not "-0.00"
    return Price(amount, (PriceLine(PriceLineKind.BASE, amount, "delivery"),))


# No carrier promises more than a year; a larger figure is garbage, and counting out its working
# days one by one would stall the worker.
MAX_TRANSIT_DAYS = 366


def _days(value: int | float, field: str) -> int:
    if type(value) is not int:
        if not float(value).is_integer():
            raise ValueError(f"{field} is not a whole number: {value!r}")
        value = int(value)
    if value < 0:
        raise ValueError(f"negative transit days: {field} {value}")
    if value > MAX_TRANSIT_DAYS:
        raise ValueError(f"implausible transit days: {field} {value}")
    return value


@lru_cache(maxsize=4096)
def _service(carrier: str, code: int, mode: int) -> tuple[str, str, DeliveryType, frozenset[PointType]]:
    """(service, offer id, delivery type, kinds of point) of a tariff: the same few for a carrier all day."""
    service = str(code)
    return service, f"{carrier}:{service}", delivery_type(mode), point_types(mode)


def _weigh(request: RateRequest) -> int:
    return request.shipment.chargeable_weight_g(VOLUMETRIC_DIVISOR)


# The chargeable weight of the requests parsed lately: a quote's CDEK-format carriers all answer
# about the same request, but their answers come in among other quotes' (one kept request would
# be pushed out before most of them arrive).
_chargeable_g = IdMemo(_weigh, 256)
