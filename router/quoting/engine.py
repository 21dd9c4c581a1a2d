"""Ask every carrier at once and turn their answers into one quote.

Each carrier runs under its own timeout and all of them under one deadline. Whatever a
carrier does — raise, hang, answer something that is not a `CarrierQuote` — becomes a
`CarrierError` in the quote; the other carriers' offers still come back.

When a carrier that can fail (`remote`, i.e. one that quotes over the network) is down — it
timed out, errored, answered garbage or its breaker is open — its last good answer for the
same lane — the same parcel, priced as the carrier prices it (`router.quoting.last_good`) — is
shown in its place, each offer marked stale (an estimate: never held, router/quoting/book.py), and
its error still listed. A well-formed refusal is not "down": the carrier said no to this shipment.
Every call's outcome and latency go into `stats`, in process, for `/v1/carriers` and `/metrics`.

The engine uses only what `carriers.base.Carrier` declares. `remote` decides whose last good
answers are kept. `quote_sync` is asked first: a carrier that answers there (a rate card, from
tables in memory) costs no task and no timer; one that answers None is awaited through `quote`
under the deadline. A carrier's breaker and retry count, for `carrier_health`, come from
`GuardedCarrier` (`router.quoting.breaker`), the one wrapper the engine knows: `guard_carriers`
puts every remote carrier in one, so a carrier has a breaker exactly when it declares itself
remote and was wired by `router.quoting.wiring`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from carriers.api import deadline_scope
from carriers.base import Carrier, CarrierResponseError
from router.core.models import (
    CarrierError,
    CarrierHealth,
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
from router.core.settings import Settings
from router.core.wording import RejectionCode, rejection, said
from router.history.reliability import annotate, lane_of
from router.history.track_record import TrackRecord
from router.quoting.breaker import CircuitOpen, GuardedCarrier, counts_as_failure
from router.quoting.last_good import LastGood, StaleAnswer, lane_key
from router.quoting.places import Places
from router.quoting.selection import allowed, select
from router.quoting.stats import CarrierStats

log = logging.getLogger(__name__)

# How far past its deadline a quote may wait for failed carriers' last good answers. A store
# read takes a millisecond; a slow store must not hold the quote much beyond its deadline.
STALE_READ_S = 0.03
NO_OFFERS = said(RejectionCode.NO_OFFERS)[0]


@dataclass(frozen=True, slots=True)
class _Outcome:
    answer: CarrierQuote | CarrierError
    down: bool = False  # the carrier failed, rather than answered or refused


class QuoteEngine:
    def __init__(
        self,
        carriers: Sequence[Carrier],
        places: Places,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        record: TrackRecord | None = None,
        *,
        last_good: LastGood | None = None,
    ) -> None:
        self._carriers = list(carriers)
        self._places = places
        self._settings = settings
        self._clock = clock
        self._record = record
        self._last_good = last_good
        self._remote = frozenset(c.code for c in self._carriers if c.remote)
        self._guarded = [c if isinstance(c, GuardedCarrier) else None for c in self._carriers]
        self.stats = CarrierStats(c.code for c in self._carriers)
        self._names: dict[str, tuple[str, str]] | None = None

    def carrier_names(self) -> dict[str, tuple[str, str]]:
        """Each carrier's name in English and Russian by code, read once (a carrier's names never change)."""
        if self._names is None:
            infos = (c.info() for c in self._carriers)
            self._names = {i.code: (i.name, i.name_ru or i.name) for i in infos}
        return self._names

    @property
    def carriers(self) -> list[Carrier]:
        return list(self._carriers)

    def carrier_infos(self) -> list[CarrierInfo]:
        return [c.info() for c in self._carriers]

    async def carrier_health(self) -> list[tuple[CarrierInfo, CarrierHealth]]:
        """Each carrier with its breaker state read afresh from the store and this worker's figures."""
        states = await asyncio.gather(*(g.breaker.state() for g in self._guarded if g is not None))
        read = iter(states)
        report = []
        for carrier, guarded in zip(self._carriers, self._guarded, strict=True):
            if guarded is None:
                health = self.stats[carrier.code].health(carrier.code, None, 0)
            else:
                health = self.stats[carrier.code].health(carrier.code, next(read).value, guarded.retries)
            report.append((carrier.info(), health))
        return report

    def resolve(self, shipment: Shipment) -> tuple[Place, Place]:
        """Both ends as places; raises PlaceNotFound naming `origin.*` or `destination.*`."""
        return (
            self._places.resolve(shipment.origin, "origin"),
            self._places.resolve(shipment.destination, "destination"),
        )

    async def quote(self, shipment: Shipment, policy: Policy, ends: tuple[Place, Place] | None = None) -> Quote:
        """`ends`: both ends as `resolve` gave them, when the caller already has them."""
        now = self._clock()
        origin, destination = ends or self.resolve(shipment)
        request = RateRequest(shipment, origin, destination, shipment.ship_at or now)
        asked = [c for c in self._carriers if allowed(c.code, policy)]
        started = time.monotonic()
        outcomes = await self._fan_out(asked, request)
        lane = lane_key(request) if self._last_good is not None and any(c.code in self._remote for c in asked) else None
        stale: dict[str, StaleAnswer] = {}
        if lane is not None:
            # What the deadline leaves, plus a little: a carrier whose breaker is open fails at
            # once and leaves most of it, one that hung leaves nothing.
            wait_s = max(0.0, self._settings.deadline_s - (time.monotonic() - started)) + STALE_READ_S
            stale = await self._stale(asked, outcomes, lane, wait_s)

        offers: list[Offer] = []
        rejections: list[Rejection] = []
        errors: list[CarrierError] = []
        for carrier, outcome in zip(asked, outcomes, strict=False):
            answer = outcome.answer
            if isinstance(answer, CarrierError):
                kept = stale.get(carrier.code)
                if kept is not None:
                    offers.extend(kept.offers)
                    answer = replace(
                        answer,
                        message=f"{answer.message}; its last good answer, from "
                        f"{kept.as_of.isoformat(timespec='seconds')} for the same parcel, is shown marked stale, as an estimate",
                    )
                errors.append(answer)
            else:
                offers.extend(answer.offers)
                rejections.extend(answer.rejections)
                if not answer.offers and not answer.rejections:
                    # Else the carrier would vanish from the quote as if never asked.
                    rejections.append(rejection(carrier.code, "*", RejectionCode.NO_OFFERS))
                if lane is not None and carrier.code in self._remote:
                    self._last_good.remember(carrier.code, lane, answer.offers, now)  # type: ignore[union-attr]
        offers.sort(key=lambda o: (o.price.total, o.eta.max_date, o.id))
        insights: dict[str, OfferInsight] = {}
        if self._record is not None and offers:
            # Learned ETAs and badges; a suspended carrier's offers leave, listed with the reason.
            view = await self._record.view({(o.carrier, o.service) for o in offers}, lane_of(origin, destination))
            annotated = annotate(offers, view, policy, self._record.config)
            offers, insights = list(annotated.offers), annotated.insights
            rejections.extend(annotated.rejections)
        # A stale price may no longer hold: it is recommended only when nobody answered afresh.
        fresh = [o for o in offers if not o.stale]
        chosen = select(fresh or offers, policy, insights)
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
            reason_ru=chosen.reason_ru,
            scores=chosen.scores,
            rejections=tuple(rejections),
            errors=tuple(errors),
            insights=insights,
            carrier_names=self.carrier_names(),
        )

    async def _stale(
        self, asked: Sequence[Carrier], outcomes: Sequence[_Outcome], lane: str, wait_s: float
    ) -> dict[str, StaleAnswer]:
        assert self._last_good is not None
        wanted = [c.code for c, o in zip(asked, outcomes, strict=False) if o.down and c.code in self._remote]
        if not wanted:
            return {}
        try:
            async with asyncio.timeout(wait_s):
                found = await asyncio.gather(*(self._last_good.recall(code, lane) for code in wanted))
        except TimeoutError:
            log.warning("last good answers not read within %.0f ms", wait_s * 1000)
            return {}
        kept = {code: answer for code, answer in zip(wanted, found, strict=False) if answer is not None}
        for code in kept:
            self.stats[code].stale_served += 1
        return kept

    async def _fan_out(self, carriers: Sequence[Carrier], request: RateRequest) -> list[_Outcome]:
        deadline = self._settings.deadline_s
        # Every call starts now and has the same time, so one timer bounds them all rather than
        # one per carrier: a carrier's own shorter timeout still ends its call first.
        wait_s = min(self._settings.carrier_timeout_s, deadline)
        started = time.monotonic()
        # Tasks copy the context they are created in, so adapters see the quote's deadline
        # and cut their own timeouts (and retries) to what is left of it; one that would not
        # fire before this coroutine cancels the call is not armed at all.
        loop = asyncio.get_running_loop()
        now = loop.time()
        cutoff = now + wait_s
        # Carriers that answer at once (rate cards, from tables in memory) cost no task, no timer
        # and no extra turns of the event loop (a timeout could not cut a call that never yields
        # anyway); the others answer None here and are awaited below.
        inline: dict[int, _Outcome] = {}
        for i, c in enumerate(carriers):
            outcome = self._ask_inline(c, request)
            if outcome is not None:
                inline[i] = outcome
        with deadline_scope(now + deadline, cutoff=cutoff):
            tasks = {i: asyncio.ensure_future(self._ask(c, request)) for i, c in enumerate(carriers) if i not in inline}
        if not tasks:
            return [inline[i] for i in range(len(carriers))]
        done, pending = await asyncio.wait(tasks.values(), timeout=max(0.0, cutoff - loop.time()))
        for task in pending:
            task.cancel()
        results: list[_Outcome] = []
        for i, carrier in enumerate(carriers):
            asked = tasks.get(i)
            if asked is None:
                results.append(inline[i])
            elif asked in done:
                results.append(asked.result())
            else:
                waited = time.monotonic() - started
                self.stats[carrier.code].record("timeout", waited, failed=True)
                within = f"the {waited:.2f} s deadline" if wait_s == deadline else f"{waited:.2f} s"
                error = CarrierError(carrier.code, "timeout", f"no answer within {within}")
                results.append(_Outcome(error, down=True))
        return results

    def _ask_inline(self, carrier: Carrier, request: RateRequest) -> _Outcome | None:
        """`_ask` through `quote_sync`; None when the carrier has to be awaited."""
        started = time.perf_counter()
        try:
            answer = carrier.quote_sync(request)
        except Exception as exc:  # a broken carrier must never break the quote
            return self._failed(carrier, exc, time.perf_counter() - started)
        if answer is None:
            return None
        return self._answered(carrier, answer, time.perf_counter() - started)

    async def _ask(self, carrier: Carrier, request: RateRequest) -> _Outcome:
        """One carrier's answer; `_fan_out` cancels it when the quote's time is up."""
        stats = self.stats[carrier.code]
        started = time.perf_counter()
        try:
            answer = await carrier.quote(request)
        except TimeoutError:
            # The carrier's own timeout, shorter than the quote's: say how long it really had.
            waited = time.perf_counter() - started
            stats.record("timeout", waited, failed=True)
            return _Outcome(CarrierError(carrier.code, "timeout", f"no answer within {waited:.2f} s"), down=True)
        except CircuitOpen as exc:
            stats.skipped("open")
            return _Outcome(CarrierError(carrier.code, exc.kind, str(exc)), down=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken carrier must never break the quote
            return self._failed(carrier, exc, time.perf_counter() - started)
        return self._answered(carrier, answer, time.perf_counter() - started)

    def _failed(self, carrier: Carrier, exc: Exception, elapsed: float) -> _Outcome:
        """A refusal (`CarrierResponseError`) or any other exception, as both ways of asking record it."""
        stats = self.stats[carrier.code]
        if isinstance(exc, CarrierResponseError):
            kind = exc.kind
            down = counts_as_failure(exc)
            stats.record(kind if down else "refused", elapsed, failed=down)
            if type(exc) is CarrierResponseError:
                # An answer that could not be read: the decoder's words name our wire types, not
                # anything the shop can act on; they go to the log.
                log.warning("%s answered something unreadable: %s", carrier.code, exc)
                return _Outcome(CarrierError(carrier.code, kind, "answered something that is not a quote"), down=down)
            return _Outcome(CarrierError(carrier.code, kind, str(exc) or type(exc).__name__), down=down)
        # Our own code's error, not the carrier's: the traceback goes to the log, and the answer
        # says no more than that this carrier could not be quoted (its text may quote internals).
        log.error("quoting %s raised", carrier.code, exc_info=exc)
        stats.record("error", elapsed, failed=True)
        return _Outcome(CarrierError(carrier.code, "error", "could not be quoted for this shipment"), down=True)

    def _answered(self, carrier: Carrier, answer: object, elapsed: float) -> _Outcome:
        stats = self.stats[carrier.code]
        problem = _check(carrier.code, answer)
        if problem:
            stats.record("invalid_response", elapsed, failed=True)
            return _Outcome(CarrierError(carrier.code, "invalid_response", problem), down=True)
        assert isinstance(answer, CarrierQuote)
        stats.record("ok", elapsed, failed=False)
        # Adapters that set each offer's id already save a copy of every offer here.
        if all(o.id == f"{o.carrier}:{o.service}" for o in answer.offers):
            return _Outcome(answer)
        return _Outcome(CarrierQuote(tuple(map(_with_id, answer.offers)), answer.rejections))


def _with_id(o: Offer) -> Offer:
    """`Offer.with_id`, field by field: `dataclasses.replace` looks every field up by name, and a
    rate card's six services pay it on every quote. (A test holds the two to the same offer.)"""
    return Offer(
        o.carrier,
        o.carrier_name,
        o.service,
        o.service_name,
        o.delivery_type,
        o.price,
        o.eta,
        o.chargeable_weight_g,
        f"{o.carrier}:{o.service}",
        o.stale,
        o.as_of,
        o.point_types,
        o.carrier_name_ru,
        o.service_name_ru,
    )


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
