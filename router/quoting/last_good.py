"""The last good answer of each API carrier per lane, served as an estimate when the carrier fails.

Kept in the store, so every worker can serve what any of them last heard, under
`lastgood:<carrier>:<lane>` for a day. An answer stands in only for a request the carrier would
price the same, so the lane is everything the API carriers price on, each at the carrier's own
billing step, and nothing coarser:

    each end       country, city, postal code, address and coordinates to 5 decimals (about a
                   metre: the courier prices every kilometre, CDEK by the locality it reads)
    ship day       the date in the origin's time zone (an answer's dates are only true that day)
    each parcel    its weight in whole grams and its sides in whole centimetres, as CDEK's
                   calculator is sent them: its weight bands are its tariff table's, unknown here,
                   so no two weights are assumed to share one; the sides decide its volumetric
                   weight and whether a locker takes the parcel
    declared value to the kopeck (the courier's insurance fee is a share of it)
    cash on delivery (the courier's cash fee is a share of the declared value collected)

A 1,001 g parcel's answer is therefore never shown for a 1,499 g one. The policy is not part of
it: offers are the same whatever the buyer prefers. The value is `[as_of, [offer, ...]]`, each
offer a flat JSON list of its fields (`_pack`): a quote with ten API carriers writes ten of these,
and the flat lists cost a fraction of an offer's answer (`router.core.codec.offer_answer`) to
write. Values in the earlier shape (`{"as_of", "offers"}`, each offer as in a quote's answer) are
still read. Only carriers that can fail (those marked `remote`) are remembered; rate cards never
pay for a write.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from router.core.codec import offer_from_json
from router.core.memo import IdMemo
from router.core.models import (
    DeliveryType,
    Eta,
    Offer,
    Parcel,
    Place,
    PointType,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    money,
)
from router.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

TTL_S = 24 * 3600
# A lane's answer is rewritten at most this often per worker: prices do not move faster, and
# a busy lane would otherwise cost a store write on every quote.
REFRESH_S = 60.0
MAX_TRACKED = 10_000  # lanes whose last write time this worker remembers


@dataclass(frozen=True, slots=True)
class StaleAnswer:
    offers: tuple[Offer, ...]  # marked stale (an estimate), with `as_of`
    as_of: datetime


def lane_key(request: RateRequest) -> str:
    shipment = request.shipment
    parts = [
        _end(request.origin),
        _end(request.destination),
        request.ship_at.astimezone(ZoneInfo(request.origin.timezone)).date().isoformat(),
        sorted(_parcel(p) for p in shipment.parcels),
        str(money(shipment.declared_value)),
        shipment.cod,
    ]
    return hashlib.blake2b(orjson.dumps(parts), digest_size=12).hexdigest()


def _end(place: Place) -> list[object]:
    return [place.country, place.city, place.postal_code, place.address, round(place.lat, 5), round(place.lon, 5)]


def _parcel(parcel: Parcel) -> tuple[int, ...]:
    return (max(1, math.ceil(parcel.weight_g)), *sorted(max(1, math.ceil(side)) for side in parcel.sides_cm))


def _pack_price(price: Price) -> tuple[str, list[list[Any]]]:
    return str(price.total), [[line.kind, str(line.amount), line.label] for line in price.lines]


# A Price an adapter shares between offers (one per sum, all day, in the CDEK adapter) is packed once.
_packed_price = IdMemo(_pack_price, 4096)


def _pack(offer: Offer) -> list[Any]:
    # Enums and dates as orjson writes them natively (values; ISO dates); money as strings.
    price, eta = offer.price, offer.eta
    total, lines = _packed_price(price)
    return [
        offer.id, offer.carrier, offer.carrier_name, offer.service, offer.service_name, offer.delivery_type,
        total, price.currency, lines,
        eta.min_days, eta.max_days, eta.ship_date, eta.min_date, eta.max_date, offer.chargeable_weight_g,
        sorted(offer.point_types), offer.carrier_name_ru, offer.service_name_ru,
    ]  # fmt: skip


def _unpack(row: list[Any], as_of: datetime) -> Offer:
    """An offer back from `_pack`, marked stale; raises ValueError, TypeError or ArithmeticError."""
    (offer_id, carrier, carrier_name, service, service_name, kind, total, currency, lines,
     min_days, max_days, ship_date, min_date, max_date, weight_g, *rest) = row  # fmt: skip
    # Rows kept before offers named their point types have none: any point, as they were quoted.
    point_types = frozenset(PointType(t) for t in rest[0]) if rest else frozenset()
    # Rows kept before offers named themselves in Russian: the English names stand in.
    carrier_name_ru, service_name_ru = rest[1:3] if len(rest) >= 3 else ("", "")
    return Offer(
        carrier,
        carrier_name,
        service,
        service_name,
        DeliveryType(kind),
        Price(Decimal(total), tuple(PriceLine(PriceLineKind(k), Decimal(a), label) for k, a, label in lines), currency),
        Eta(
            min_days,
            max_days,
            date.fromisoformat(ship_date),
            date.fromisoformat(min_date),
            date.fromisoformat(max_date),
        ),
        weight_g,
        offer_id,
        True,
        as_of,
        point_types=point_types,
        carrier_name_ru=carrier_name_ru,
        service_name_ru=service_name_ru,
    )


def _decode(raw: bytes) -> StaleAnswer:
    kept = orjson.loads(raw)
    if isinstance(kept, dict):  # the earlier shape, written before the flat lists
        as_of = datetime.fromisoformat(kept["as_of"])
        offers = tuple(replace(offer_from_json(o), stale=True, as_of=as_of) for o in kept["offers"])
    else:
        when, rows = kept
        as_of = datetime.fromisoformat(when)
        offers = tuple(_unpack(row, as_of) for row in rows)
    return StaleAnswer(offers, as_of)


class LastGood:
    def __init__(
        self,
        store: Store,
        *,
        ttl_s: float = TTL_S,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._refresh_s = refresh_s
        self._clock = clock
        self._written: dict[str, float] = {}
        # Answers waiting for the one background writer: a quote with ten API carriers queues ten
        # and starts (at most) one task, not ten.
        self._queue: list[tuple[str, tuple[Offer, ...], datetime]] = []
        self._writer: asyncio.Task[None] | None = None

    def remember(self, carrier: str, lane: str, offers: Sequence[Offer], as_of: datetime) -> None:
        """Keep a good answer, written in the background so the quote does not wait for the store."""
        if not offers:
            return
        key = f"lastgood:{carrier}:{lane}"
        now = self._clock()
        if now - self._written.get(key, -math.inf) < self._refresh_s:
            return
        if len(self._written) >= MAX_TRACKED:
            self._written.clear()
        self._written[key] = now
        self._queue.append((key, tuple(offers), as_of))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                await self._write(batch)
        finally:
            self._writer = None

    async def _write(self, batch: list[tuple[str, tuple[Offer, ...], datetime]]) -> None:
        # Encoded here, once the quote has been answered, rather than on its way out; a store
        # that can (Redis) takes the whole batch in one round trip.
        items = [
            (key, orjson.dumps([as_of.isoformat(), [_pack(o) for o in offers]]), self._ttl_s)
            for key, offers, as_of in batch
        ]
        try:
            await self._store.set_many(items)
        except StoreUnavailable:
            for key, _, _ in items:
                self._written.pop(key, None)  # try again with the next good answer

    async def recall(self, carrier: str, lane: str) -> StaleAnswer | None:
        """The last good answer for this lane, its offers marked stale; None if there is none."""
        try:
            raw = await self._store.get(f"lastgood:{carrier}:{lane}")
        except StoreUnavailable:
            return None
        if raw is None:
            return None
        try:
            kept = _decode(raw)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError):
            log.warning("unreadable last good answer of %s", carrier, exc_info=True)
            return None
        if any(o.carrier != carrier for o in kept.offers):
            return None
        return kept

    async def flush(self) -> None:
        """Wait for the writes under way (on shutdown, and in tests)."""
        while self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
