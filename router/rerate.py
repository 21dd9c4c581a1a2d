"""Re-rate historical shipments: what each one costs under a set of tariffs, and what it could have cost.

For every shipment read from history, with the tariffs given (the current rate cards or
candidate ones):

- *audit*: the price of the carrier and service it went with; a billed amount above that price
  by more than the tolerance is flagged;
- *what-if*: the offer the policy would recommend among all carriers, and the plan the day's
  allocation would have made (one OR-Tools plan per shipping day, with the carriers' daily
  capacities and volume tiers, the month's parcels counted from the plans of the days before);
- *tariff change*: the same carrier and service under an old and a new set of tariffs.

Prices come from the carriers' own `quote`, the code `POST /v1/quotes` runs, so a shipment
re-rated alone costs exactly what a quote for it says. Rows stream through; only one shipping
day is held at a time (rows are grouped while consecutive rows share a day).
"""

from __future__ import annotations

import enum
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from carriers.base import Carrier
from router.allocation import (
    Candidates,
    Option,
    Plan,
    SolverOptions,
    SolveStatus,
    Terms,
    Unserved,
    UnservedReason,
    Warehouse,
    plan,
)
from router.errors import PlaceNotFound
from router.history import HistoricalShipment
from router.models import (
    KOPECK,
    CarrierQuote,
    Location,
    Offer,
    Place,
    Policy,
    PolicyKind,
    RateRequest,
)
from router.orders import RowError
from router.places import Places
from router.selection import select

_MEMO_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far above the tariff a bill may be before it is flagged: a percentage or roubles."""

    percent: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        """ "1%" or "1.5%" is relative to the tariff; "5" or "5.00" is roubles."""
        raw = text.strip().replace(",", ".")
        try:
            if raw.endswith("%"):
                value = Decimal(raw[:-1].strip())
                if not value.is_finite() or not 0 <= value < 100:
                    raise ValueError(text)
                return cls(percent=value)
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{text!r} is neither a percentage (1%) nor an amount (5.00)") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"{text!r} must not be negative")
        return cls(amount=value)

    def limit(self, tariff: Decimal) -> Decimal:
        if self.percent:
            return (tariff * self.percent / 100).quantize(KOPECK)
        return self.amount

    def __str__(self) -> str:
        return f"{self.percent}%" if self.percent else f"{self.amount} RUB"


class Verdict(str, enum.Enum):
    OK = "ok"  # billed within the tolerance of the tariff (or below it)
    OVERBILLED = "overbilled"
    NOT_BILLED = "not_billed"  # no billed amount to check
    NO_TARIFF = "no_tariff"  # the tariffs have no price for its carrier and service


@dataclass(frozen=True, slots=True)
class Priced:
    carrier: str
    service: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Rerated:
    shipment: HistoricalShipment
    region: str  # destination's country and geonames admin1 code, e.g. RU-53
    destination_city: str
    tariff: Decimal | None  # its own carrier and service under the tariffs
    tariff_note: str  # why there is no tariff, when there is none
    verdict: Verdict
    best: Priced | None  # what the policy recommends among every carrier
    plan: Priced | None = None  # the day's plan; price after its share of the day's discount
    old: Decimal | None = None  # tariff change: its carrier and service under the old tariffs
    new: Decimal | None = None

    @property
    def month(self) -> str:
        return self.shipment.day.strftime("%Y-%m")

    @property
    def paid(self) -> Decimal | None:
        """What the shipment cost: the bill when there is one, else the tariff."""
        return self.shipment.billed if self.shipment.billed is not None else self.tariff

    @property
    def difference(self) -> Decimal | None:
        if self.shipment.billed is None or self.tariff is None:
            return None
        return self.shipment.billed - self.tariff


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What one day's plan came to; the plan itself is not kept, so memory stays flat."""

    day: date
    shipments: int
    status: SolveStatus
    method: str
    total_cost: Decimal
    greedy_cost: Decimal
    wall_time_s: float


# Every offer (with its id) and, by (carrier, service), why a service was left out.
Answer = tuple[tuple[Offer, ...], dict[tuple[str, str], str]]


class _PriceBook:
    """One set of tariffs, asked the way the quote engine asks them, with recent answers kept."""

    def __init__(self, carriers: Sequence[Carrier]) -> None:
        self.carriers = list(carriers)
        self.codes = {c.code for c in carriers}
        self._memo: OrderedDict[tuple[object, ...], Answer] = OrderedDict()

    async def offers(self, request: RateRequest) -> Answer:
        s = request.shipment
        key = (request.origin, request.destination, s.parcels, s.declared_value, s.cod, request.ship_at)
        hit = self._memo.get(key)
        if hit is not None:
            self._memo.move_to_end(key)
            return hit
        offers: list[Offer] = []
        left_out: dict[tuple[str, str], str] = {}
        for carrier in self.carriers:
            try:
                answer = await carrier.quote(request)
            except Exception as exc:  # noqa: BLE001 - one broken tariff must not stop a million-row run
                left_out[(carrier.code, "*")] = f"{type(exc).__name__}: {exc}"
                continue
            if not isinstance(answer, CarrierQuote):
                left_out[(carrier.code, "*")] = f"answered {type(answer).__name__}"
                continue
            offers.extend(o.with_id() for o in answer.offers)
            left_out.update(((r.carrier, r.service), r.reason) for r in answer.rejections)
        result = (tuple(offers), left_out)
        self._memo[key] = result
        if len(self._memo) > _MEMO_SIZE:
            self._memo.popitem(last=False)
        return result

    def price_of(self, found: Answer, carrier: str, service: str) -> tuple[Decimal | None, str]:
        offers, left_out = found
        for o in offers:
            if o.carrier == carrier and o.service == service:
                return o.price.total, ""
        if carrier not in self.codes:
            return None, f"no tariff for carrier {carrier}"
        reason = left_out.get((carrier, service)) or left_out.get((carrier, "*"))
        return None, reason or f"{carrier} has no service {service}"


CHEAPEST = Policy(kind=PolicyKind.CHEAPEST)
NO_TOLERANCE = Tolerance()
NO_TERMS = Terms()
DAY_PLAN_OPTIONS = SolverOptions(time_limit_s=5.0)


class Rerater:
    def __init__(
        self,
        tariffs: Sequence[Carrier],
        places: Places,
        policy: Policy = CHEAPEST,
        tolerance: Tolerance = NO_TOLERANCE,
        terms: Terms = NO_TERMS,
        solver: SolverOptions = DAY_PLAN_OPTIONS,
        compare: tuple[Sequence[Carrier], Sequence[Carrier]] | None = None,
        warehouses: Sequence[Warehouse] = (),
    ) -> None:
        self._book = _PriceBook(tariffs)
        self._compare = (_PriceBook(compare[0]), _PriceBook(compare[1])) if compare else None
        self._places = places
        self._resolved: dict[Location, Place | PlaceNotFound] = {}
        self.policy = policy
        self.tolerance = tolerance
        self.terms = terms
        self.solver = solver
        self.day_plans: list[DayPlan] = []
        self._month_parcels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        # Capacities name warehouses by code; a shipment is from the warehouse at its origin's place.
        self._warehouse_at = {self._place(w.location, "warehouse"): w.code for w in warehouses}

    def _place(self, location: Location, path: str) -> Place:
        found = self._resolved.get(location)
        if found is None:
            try:
                found = self._places.resolve(location, path)
            except PlaceNotFound as exc:
                found = exc
            if len(self._resolved) < _MEMO_SIZE:
                self._resolved[location] = found
        if isinstance(found, PlaceNotFound):
            raise PlaceNotFound(path, found.errors[0].message)
        return found

    async def rate(self, record: HistoricalShipment) -> tuple[Rerated, Candidates]:
        """One shipment under the tariffs; raises PlaceNotFound when an end cannot be placed."""
        s = record.shipment
        origin = self._place(s.origin, "origin")
        destination = self._place(s.destination, "destination")
        request = RateRequest(s, origin, destination, record.shipped_at)
        found = await self._book.offers(request)
        tariff, note = self._book.price_of(found, record.carrier, record.service)
        offers = found[0]
        chosen = select(offers, self.policy).recommended
        best = next((Priced(o.carrier, o.service, o.price.total) for o in offers if o.id == chosen), None)
        old = new = None
        if self._compare is not None:
            old = self._compare[0].price_of(await self._compare[0].offers(request), record.carrier, record.service)[0]
            new = self._compare[1].price_of(await self._compare[1].offers(request), record.carrier, record.service)[0]
        rerated = Rerated(
            shipment=record,
            region=f"{destination.country}-{destination.region or '?'}",
            destination_city=destination.city or record.destination_label,
            tariff=tariff,
            tariff_note=note,
            verdict=self._verdict(record.billed, tariff),
            best=best,
            old=old,
            new=new,
        )
        warehouse = self._warehouse_at.get(origin, record.origin_label)
        options = tuple(
            Option(warehouse, o.carrier, o.service, o.price.total, o.eta.max_days, o.eta.max_date)
            for o in offers
        )
        why = None if options else _no_option(record.id)
        return rerated, Candidates(record.id, len(s.parcels), options, why)

    def _verdict(self, billed: Decimal | None, tariff: Decimal | None) -> Verdict:
        if tariff is None:
            return Verdict.NO_TARIFF
        if billed is None:
            return Verdict.NOT_BILLED
        if billed - tariff > self.tolerance.limit(tariff):
            return Verdict.OVERBILLED
        return Verdict.OK

    def plan_day(self, day: date, batch: Sequence[tuple[Rerated, Candidates]]) -> list[Rerated]:
        """The allocation the day's shipments would have had; each row gets its plan price."""
        month = day.strftime("%Y-%m")
        terms = replace(
            self.terms,
            month_to_date=dict(self._month_parcels[month]),
            day_value=self.policy.day_value if self.policy.kind is PolicyKind.BALANCED else Decimal(0),
        )
        result = plan([c for _, c in batch], terms, self.solver)
        self.day_plans.append(
            DayPlan(day, len(batch), result.status, result.method, result.total_cost, result.greedy.total_cost,
                    result.wall_time_s)
        )  # fmt: skip
        parcels = {c.order_id: c.parcels for _, c in batch}
        for a in result.assignments:
            self._month_parcels[month][a.option.carrier] += parcels[a.order_id]
        shares = _discount_shares(result)
        assigned = {a.order_id: a.option for a in result.assignments}
        out = []
        for rerated, c in batch:
            option = assigned.get(c.order_id)
            if option is None:
                out.append(rerated)
                continue
            price = option.price - shares.get(c.order_id, Decimal(0))
            out.append(replace(rerated, plan=Priced(option.carrier, option.service, price)))
        return out

    async def run(self, stream: Iterable[HistoricalShipment | RowError]) -> AsyncIterator[Rerated | RowError]:
        """Re-rated shipments and bad rows, in file order within each shipping day."""
        batch: list[tuple[Rerated, Candidates]] = []
        day: date | None = None
        for item in stream:
            if isinstance(item, RowError):
                yield item
                continue
            if day is not None and item.day != day:
                for rerated in self.plan_day(day, batch):
                    yield rerated
                batch = []
            day = item.day
            try:
                batch.append(await self.rate(item))
            except PlaceNotFound as exc:
                yield RowError(item.line, str(exc))
        if day is not None and batch:
            for rerated in self.plan_day(day, batch):
                yield rerated


def _no_option(shipment_id: str) -> Unserved:
    return Unserved(shipment_id, UnservedReason.NO_OPTION, "no carrier in the tariffs offers it")


def _discount_shares(result: Plan) -> dict[str, Decimal]:
    """Each carrier's day discount spread over its shipments by price, to the kopeck, summing exactly."""
    shares: dict[str, Decimal] = {}
    for d in result.discounts:
        mine = [a for a in result.assignments if a.option.carrier == d.carrier]
        spend = sum((a.option.price for a in mine), Decimal(0))
        if not spend:
            continue
        given = Decimal(0)
        for a in mine:
            share = (d.amount * a.option.price / spend).quantize(KOPECK, rounding=ROUND_DOWN)
            shares[a.order_id] = share
            given += share
        dearest = max(mine, key=lambda a: a.option.price)
        shares[dearest.order_id] += d.amount - given
    return shares
