"""Re-rate historical shipments: what each one costs under a set of tariffs, and what it could have cost.

For every shipment read from history, with the tariffs given (the current rate cards or
candidate ones):

- *audit*: the price of the carrier and service it went with; a billed amount above that price
  by more than the tolerance is flagged;
- *what-if*: the offer the policy would recommend among all carriers, and the plan the day's
  allocation would have made (one OR-Tools plan per shipping day, with the carriers' daily
  capacities and volume tiers, the month's parcels counted from the plans of the days before);
- *tariff change*: the same carrier and service under an old and a new set of tariffs.

Prices come from the carriers' own `quote`, the code `POST /v1/quotes` runs, asked once per
lane and weight band (`router.rerating.prices`), so a shipment re-rated alone costs exactly what
a quote for it says. Rows stream through. When capacities or tiers tie a day's shipments
together, one shipping day is held at a time (rows are grouped while consecutive rows share a
day); otherwise each shipment's plan is its own best option and nothing is held.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import ROUND_DOWN, Decimal

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
from router.allocation.costing import kopecks
from router.allocation.orders import RowError
from router.core.errors import PlaceNotFound
from router.core.models import (
    KOPECK,
    Location,
    Place,
    Policy,
    PolicyKind,
    RateRequest,
)
from router.quoting.places import Places
from router.quoting.selection import allowed as _allowed
from router.rerating.prices import LanePrices, Rate, ShipmentRates
from router.rerating.results import DayPlan, Priced, Rerated, Tolerance, Verdict
from router.rerating.shipments import HistoricalShipment

_MEMO_SIZE = 50_000


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
        if policy.kind not in _RANKED or policy.min_on_time_rate is not None:
            # Re-rating has tariffs, not delivery history or a deadline per shipment.
            raise ValueError(f"re-rating takes the cheapest, fastest or balanced policy, not {policy.kind.value}")
        self._book = LanePrices(tariffs)
        self._compare = (LanePrices(compare[0]), LanePrices(compare[1])) if compare else None
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
        self._day_value = policy.day_value if policy.kind is PolicyKind.BALANCED else Decimal(0)
        # The allocation counts a day in whole kopecks; a shipment planned alone is ranked the same way.
        self._day_rub = Decimal(kopecks(self._day_value)) / 100
        self._lanes: dict[tuple[str, str], _Ends | PlaceNotFound] = {}
        self._limits: dict[Decimal, Decimal] = {}
        self._cheapest = policy.kind is PolicyKind.CHEAPEST and not (
            policy.only or policy.exclude
        )  # tariff → how far above it a bill may go
        self._plan_is_best = not (policy.only or policy.exclude) and (
            policy.kind is PolicyKind.CHEAPEST
            or (policy.kind is PolicyKind.BALANCED and self._day_rub == self._day_value)
        )

    @property
    def coupled(self) -> bool:
        """Whether capacities or tiers tie a day's shipments together, so a day needs a solver."""
        return bool(self.terms.capacities or self.terms.tiers)

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

    async def price(self, record: HistoricalShipment) -> tuple[Rerated, ShipmentRates, str]:
        """One shipment under the tariffs, every offer's price, and the warehouse it left from.

        Unless a day plan ties the shipments together (`coupled`), the row carries its plan too.
        Raises PlaceNotFound when an end cannot be placed.
        """
        s = record.shipment
        lane = (record.origin_label, record.destination_label)
        ends = self._lanes.get(lane)
        if ends is None:
            ends = self._lane(lane, s.origin, s.destination)
        if isinstance(ends, PlaceNotFound):
            raise ends.with_traceback(None)  # kept for the lane: no traceback growing with each raise
        origin, destination, region, city, warehouse = ends
        request = RateRequest(s, origin, destination, record.shipped_at)
        quoted = await self._book.quote(request, lane)
        tariff, note = self._price_of(self._book, quoted, record.carrier, record.service)
        if self._cheapest:
            pick = quoted.cheapest()
        else:
            pick = _best(quoted.rates(), self.policy, self._day_value)
        old = new = None
        if self._compare is not None:
            before, after = self._compare
            old = (await before.quote(request, lane)).total(record.carrier, record.service)
            new = (await after.quote(request, lane)).total(record.carrier, record.service)
        best = Priced(pick.carrier, pick.service, pick.total) if pick is not None else None
        planned = None
        if not self.coupled:
            # Nothing ties the day's shipments: the plan is each one's lowest score (whole kopecks
            # per day, as the allocation counts), ties broken as the quote's selection breaks them.
            if self._plan_is_best:
                planned = best
            else:
                alone = _best(quoted.rates(), _PLANNED, self._day_rub)
                planned = Priced(alone.carrier, alone.service, alone.total) if alone is not None else None
        # shipment, region, destination city, tariff, its note, verdict, best, plan, old, new
        rerated = Rerated(
            record, region, city or record.destination_label, tariff, note, self._verdict(record.billed, tariff),
            best, planned, old, new,
        )  # fmt: skip
        return rerated, quoted, warehouse

    def _lane(self, lane: tuple[str, str], origin: Location, destination: Location) -> _Ends | PlaceNotFound:
        try:
            there = self._place(destination, "destination")
            start = self._place(origin, "origin")
            ends: _Ends | PlaceNotFound = (
                start,
                there,
                there.region or f"{there.country}-?",
                there.city,
                self._warehouse_at.get(start, lane[0]),
            )
        except PlaceNotFound as exc:
            ends = exc
        if len(self._lanes) < _MEMO_SIZE:
            self._lanes[lane] = ends
        return ends

    async def rate(self, record: HistoricalShipment) -> tuple[Rerated, Candidates]:
        """One shipment under the tariffs and its options for a day plan; raises PlaceNotFound."""
        rerated, quoted, warehouse = await self.price(record)
        options = tuple(
            Option(warehouse, r.carrier, r.service, r.total, r.eta.max_days, r.eta.max_date) for r in quoted.rates()
        )
        why = None if options else _no_option(record.id)
        return rerated, Candidates(record.id, len(record.shipment.parcels), options, why)

    def _price_of(
        self,
        book: LanePrices,
        quoted: ShipmentRates,
        carrier: str,
        service: str,
    ) -> tuple[Decimal | None, str]:
        found = quoted.total(carrier, service)
        if found is not None:
            return found, ""
        if carrier not in book.codes:
            return None, f"no tariff for carrier {carrier}"
        refused = quoted.refused
        reason = (
            book.reason(quoted.request, carrier, service)
            or refused.get((carrier, service))
            or refused.get((carrier, "*"))
        )
        return None, reason or f"{carrier} has no service {service}"

    def _verdict(self, billed: Decimal | None, tariff: Decimal | None) -> Verdict:
        if tariff is None:
            return Verdict.NO_TARIFF
        if billed is None:
            return Verdict.NOT_BILLED
        limit = self._limits.get(tariff)
        if limit is None:
            # Tariffs repeat across rows (a lane and band cost the same): the limit is worked out once.
            if len(self._limits) >= _MEMO_SIZE:
                self._limits.clear()
            limit = self._limits[tariff] = self.tolerance.limit(tariff)
        if billed - tariff > limit:
            return Verdict.OVERBILLED
        return Verdict.OK

    def plan_day(self, day: date, batch: Sequence[tuple[Rerated, Candidates]]) -> list[Rerated]:
        """The allocation the day's shipments would have had; each row gets its plan price."""
        month = day.strftime("%Y-%m")
        terms = replace(self.terms, month_to_date=dict(self._month_parcels[month]), day_value=self._day_value)
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
        """Re-rated shipments and bad rows, in file order (within each shipping day, with day plans)."""
        if not self.coupled:
            async for item in self._run_alone(stream):
                yield item
            return
        batch: list[tuple[Rerated, Candidates]] = []
        day: date | None = None
        for row in stream:
            if isinstance(row, RowError):
                yield row
                continue
            if day is not None and row.day != day:
                for rerated in self.plan_day(day, batch):
                    yield rerated
                batch = []
            day = row.day
            try:
                batch.append(await self.rate(row))
            except PlaceNotFound as exc:
                yield RowError(row.line, str(exc))
        if day is not None and batch:
            for rerated in self.plan_day(day, batch):
                yield rerated

    async def _run_alone(self, stream: Iterable[HistoricalShipment | RowError]) -> AsyncIterator[Rerated | RowError]:
        days = _DayTotals(self.day_plans)
        for item in stream:
            if isinstance(item, RowError):
                yield item
                continue
            try:
                rerated, _, _ = await self.price(item)
            except PlaceNotFound as exc:
                yield RowError(item.line, str(exc))
                continue
            days.add(rerated)
            yield rerated
        days.close()


class _DayTotals:
    """Day plans of shipments planned alone, one per run of consecutive rows sharing a day."""

    def __init__(self, out: list[DayPlan]) -> None:
        self._out = out
        self._day: date | None = None
        self._count = 0
        self._total = Decimal(0)

    def add(self, r: Rerated) -> None:
        if r.shipment.day != self._day:
            self.close()
            self._day = r.shipment.day
        self._count += 1
        if r.plan is not None:
            self._total += r.plan.price

    def close(self) -> None:
        if self._day is not None and self._count:
            total = self._total.quantize(KOPECK)
            self._out.append(DayPlan(self._day, self._count, SolveStatus.OPTIMAL, "per-order", total, total, 0.0))
        self._day, self._count, self._total = None, 0, Decimal(0)


_TOTAL = operator.itemgetter(2)  # Rate.total
# origin, destination, its region key, its city, the warehouse the origin is (or the origin as written)
_Ends = tuple[Place, Place, str, str | None, str]
_RANKED = (PolicyKind.CHEAPEST, PolicyKind.FASTEST, PolicyKind.BALANCED)
# The allocation's score over every offer (no carrier filter); its day value is passed to `_best`.
_PLANNED = Policy(kind=PolicyKind.BALANCED)


def _best(rates: Sequence[Rate], policy: Policy, day_value: Decimal) -> Rate | None:
    """The offer `router.quoting.selection.select` recommends under `policy`, ranked by the same keys."""
    allowed = [r for r in rates if _allowed(r.carrier, policy)] if policy.only or policy.exclude else rates
    if not allowed:
        return None
    if policy.kind is PolicyKind.CHEAPEST:
        # The lowest price is found without building a key per offer; only a tie on it (rare)
        # is ranked by the whole key.
        low = min(map(_TOTAL, allowed))
        cheapest = [r for r in allowed if r.total == low]
        if len(cheapest) == 1:
            return cheapest[0]
        return min(cheapest, key=lambda r: (r.total, r.eta.max_date, r.id))
    if policy.kind is PolicyKind.FASTEST:
        return min(allowed, key=lambda r: (r.eta.max_date, r.eta.min_date, r.total, r.id))
    return min(allowed, key=lambda r: (r.total + day_value * r.eta.max_days, r.total, r.eta.max_date, r.id))


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
