"""Ask every carrier at once and turn their answers into one quote.

Each carrier runs under its own timeout and all of them under one deadline. Whatever a
carrier does — raise, hang, answer something that is not a `CarrierQuote` — becomes a
`CarrierError` in the quote; the other carriers' offers still come back.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, Sequence

from carriers.api import deadline_scope
from carriers.base import Carrier, CarrierResponseError
from router.models import (
    CarrierError,
    CarrierInfo,
    CarrierQuote,
    Offer,
    OfferInsight,
    Place,
    Policy,
    Quote,
    RateRequest,
    Rejection,
    Shipment,
)
from router.places import Places
from router.reliability import annotate, lane_of
from router.selection import allowed, select
from router.settings import Settings
from router.track_record import TrackRecord

log = logging.getLogger(__name__)


class QuoteEngine:
    def __init__(
        self,
        carriers: Sequence[Carrier],
        places: Places,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        record: TrackRecord | None = None,
    ) -> None:
        self._carriers = list(carriers)
        self._places = places
        self._settings = settings
        self._clock = clock
        self._record = record

    @property
    def carriers(self) -> list[Carrier]:
        return list(self._carriers)

    def carrier_infos(self) -> list[CarrierInfo]:
        return [c.info() for c in self._carriers]

    def resolve(self, shipment: Shipment) -> tuple[Place, Place]:
        """Both ends as places; raises PlaceNotFound naming `origin.*` or `destination.*`."""
        return (
            self._places.resolve(shipment.origin, "origin"),
            self._places.resolve(shipment.destination, "destination"),
        )

    async def quote(self, shipment: Shipment, policy: Policy) -> Quote:
        now = self._clock()
        origin, destination = self.resolve(shipment)
        request = RateRequest(shipment, origin, destination, shipment.ship_at or now)
        asked = [c for c in self._carriers if allowed(c.code, policy)]
        answers = await self._fan_out(asked, request)

        offers: list[Offer] = []
        rejections: list[Rejection] = []
        errors: list[CarrierError] = []
        for carrier, answer in zip(asked, answers):
            if isinstance(answer, CarrierError):
                errors.append(answer)
            else:
                offers.extend(o for o in answer.offers)
                rejections.extend(answer.rejections)
        offers.sort(key=lambda o: (o.price.total, o.eta.max_date, o.id))
        insights: dict[str, OfferInsight] = {}
        if self._record is not None and offers:
            # Learned ETAs and badges; a suspended carrier's offers leave, listed with the reason.
            view = await self._record.view({(o.carrier, o.service) for o in offers}, lane_of(origin, destination))
            annotated = annotate(offers, view, policy, self._record.config)
            offers, insights = list(annotated.offers), annotated.insights
            rejections.extend(annotated.rejections)
        chosen = select(offers, policy, insights)
        return Quote(
            id="q_" + secrets.token_urlsafe(12),
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.quote_ttl_s),
            shipment=shipment,
            origin=origin,
            destination=destination,
            policy=policy,
            offers=tuple(offers),
            recommended=chosen.recommended,
            cheapest=chosen.cheapest,
            fastest=chosen.fastest,
            reason=chosen.reason,
            scores=chosen.scores,
            rejections=tuple(rejections),
            errors=tuple(errors),
            insights=insights,
        )

    async def _fan_out(
        self, carriers: Sequence[Carrier], request: RateRequest
    ) -> list[CarrierQuote | CarrierError]:
        deadline = self._settings.deadline_s
        started = time.monotonic()
        # Tasks copy the context they are created in, so adapters see the quote's deadline
        # and cut their own timeouts (and retries) to what is left of it.
        with deadline_scope(asyncio.get_running_loop().time() + deadline):
            tasks = [asyncio.ensure_future(self._ask(c, request, deadline)) for c in carriers]
        if not tasks:
            return []
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        results: list[CarrierQuote | CarrierError] = []
        for carrier, task in zip(carriers, tasks):
            if task in done:
                results.append(task.result())
            else:
                waited = time.monotonic() - started
                results.append(
                    CarrierError(carrier.code, "timeout", f"no answer within the {waited:.2f} s deadline")
                )
        return results

    async def _ask(self, carrier: Carrier, request: RateRequest, deadline: float) -> CarrierQuote | CarrierError:
        timeout = min(self._settings.carrier_timeout_s, deadline)
        try:
            async with asyncio.timeout(timeout):
                answer = await carrier.quote(request)
        except TimeoutError:
            return CarrierError(carrier.code, "timeout", f"no answer within {timeout:.2f} s")
        except CarrierResponseError as exc:
            kind = getattr(exc, "kind", "invalid_response")
            return CarrierError(carrier.code, kind, str(exc) or type(exc).__name__)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken carrier must never break the quote
            log.warning("carrier %s failed", carrier.code, exc_info=True)
            return CarrierError(carrier.code, "error", f"{type(exc).__name__}: {exc}")
        problem = _check(carrier.code, answer)
        if problem:
            return CarrierError(carrier.code, "invalid_response", problem)
        assert isinstance(answer, CarrierQuote)
        return replace(answer, offers=tuple(o.with_id() for o in answer.offers))


def _check(code: str, answer: object) -> str | None:
    """Why an answer cannot be shown to a buyer, or None when it can."""
    if not isinstance(answer, CarrierQuote):
        return f"answered {type(answer).__name__}, not a quote"
    for offer in answer.offers:
        if not isinstance(offer, Offer):
            return f"offer of type {type(offer).__name__}"
        if offer.carrier != code:
            return f"offer claims carrier {offer.carrier!r}"
        if not isinstance(offer.price.total, Decimal) or offer.price.total < 0:
            return f"offer {offer.service} has price {offer.price.total!r}"
        if offer.eta.min_days > offer.eta.max_days or offer.eta.min_date > offer.eta.max_date:
            return f"offer {offer.service} has an inverted delivery window"
    return None
