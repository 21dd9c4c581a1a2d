"""The CDEK carrier: the calculator request built from a shipment, and its answer read into offers
(`carriers.cdek.answer`).

Building and reading are pure functions of `carriers.cdek.wire` types, tested without any
network; `CdekCarrier` joins them to `carriers.cdek.client` under the call's time budget.
Wire units: the calculator takes grams and whole centimetres and answers in roubles with
transit in working days.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import time
from typing import TYPE_CHECKING, Any

from carriers.api import RemoteCarrier, within
from carriers.cdek import points, wire
from carriers.cdek.answer import parse_tarifflist
from carriers.cdek.client import DEFAULT_BASE_URL, CdekClient
from carriers.cdek.codes import (
    CALCULATOR_TYPE_ESHOP,
    KNOWN_TARIFFS,
    Currency,
)
from router.core.models import (
    CarrierInfo,
    CarrierQuote,
    Parcel,
    Place,
    RateRequest,
    ServiceInfo,
)

if TYPE_CHECKING:
    from pickup_points.importers import ImportResult

__all__ = [
    "DEFAULT_BASE_URL",  # where `carriers.config` has always found it
    "CdekCarrier",
    "CdekClient",
    "location",
    "package",
    "parse_tarifflist",
    "tarifflist_body",
    "tarifflist_json",
]


# ---------------------------------------------------------------- the request


def tarifflist_body(request: RateRequest, *, lang: str = "rus") -> wire.TarifflistRequest:
    """The `POST /v2/calculator/tarifflist` body for a shipment."""
    return wire.TarifflistRequest(
        type=CALCULATOR_TYPE_ESHOP,
        currency=int(Currency.RUB),
        lang=lang,
        # CDEK wants the offset without a colon: 2024-03-05T10:00:00+0300
        date=request.ship_at.strftime("%Y-%m-%dT%H:%M:%S%z"),
        from_location=location(request.origin),
        to_location=location(request.destination),
        packages=[package(p) for p in request.shipment.parcels],
    )


# The last calculator body encoded: a quote's CDEK-format carriers are asked one after another
# in the same loop turn for the same request, and all but the first send the same bytes.
_last_body: tuple[RateRequest | None, str, bytes] = (None, "", b"")


def tarifflist_json(request: RateRequest, lang: str = "rus") -> bytes:
    """`tarifflist_body` as the JSON sent, encoded once for the carriers asked about `request`."""
    global _last_body
    asked, asked_lang, data = _last_body
    if asked is request and asked_lang == lang:
        return data
    data = wire.encode(tarifflist_body(request, lang=lang))
    _last_body = (request, lang, data)
    return data


def location(place: Place) -> wire.Location:
    return wire.Location(
        country_code=place.country,
        postal_code=place.postal_code or None,
        city=place.city or None,
        address=place.address or None,
        latitude=place.lat,
        longitude=place.lon,
    )


def package(parcel: Parcel) -> wire.Package:
    # Whole centimetres only; rounding up never understates a size limit or a volumetric weight.
    return wire.Package(
        weight=max(1, int(parcel.weight_g)),
        length=max(1, math.ceil(parcel.length_cm)),
        width=max(1, math.ceil(parcel.width_cm)),
        height=max(1, math.ceil(parcel.height_cm)),
    )


# ---------------------------------------------------------------- the answer
# ---------------------------------------------------------------- the carrier


class CdekCarrier(RemoteCarrier[CdekClient]):
    """A `Carrier` that quotes every CDEK tariff for the shipment in one calculator call."""

    kind = "cdek"

    def __init__(
        self,
        client: CdekClient,
        *,
        code: str = "cdek",
        name: str = "CDEK",
        name_ru: str = "СДЭК",
        tariffs: frozenset[int] | None = None,
        cutoff: time = time(18, 0),
        timeout_s: float = 2.0,
        lang: str = "rus",
    ) -> None:
        self.client = client
        self.code = code
        self.name = name
        self.name_ru = name_ru
        self.tariffs = tariffs
        self.cutoff = cutoff
        self.timeout_s = timeout_s
        self.lang = lang
        listed = sorted(tariffs) if tariffs is not None else sorted(KNOWN_TARIFFS)
        self._info = CarrierInfo(
            code=code,
            name=name,
            name_ru=name_ru,
            kind=self.kind,
            services=tuple(
                ServiceInfo(str(t), KNOWN_TARIFFS[t][0], KNOWN_TARIFFS[t][2].delivery_type, KNOWN_TARIFFS[t][1])
                for t in listed
                if t in KNOWN_TARIFFS
            ),
        )

    async def quote(self, request: RateRequest) -> CarrierQuote:
        body = tarifflist_json(request, self.lang)
        answer = await within(self.timeout_s, self.code, self.client.tarifflist(body))
        return parse_tarifflist(
            answer,
            request,
            carrier=self.code,
            carrier_name=self.name,
            cutoff=self.cutoff,
            tariffs=self.tariffs,
            carrier_name_ru=self.name_ru,
            lang=self.lang,
        )

    def delivery_points(
        self, filters: Mapping[str, Any] | None = None, *, page_size: int = 1000, page_timeout_s: float = 30.0
    ) -> AsyncIterator[dict[str, Any]]:
        """Every delivery point matching `filters`, as CDEK shapes it (`carriers.cdek.points`)."""
        return points.delivery_points(
            self.client, self.code, filters, page_size=page_size, page_timeout_s=page_timeout_s
        )

    async def import_delivery_points(
        self,
        filters: Mapping[str, Any] | None = None,
        *,
        page_size: int = 1000,
        zone_for: Callable[[float, float], str] | None = None,
    ) -> ImportResult:
        """Every matching point as `PickupPoint`s, with the records that could not be read."""
        return await points.import_delivery_points(
            self.client, self.code, filters, page_size=page_size, zone_for=zone_for
        )
