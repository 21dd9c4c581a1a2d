"""Totals of a re-rating run, per carrier, month and destination region, built while rows stream."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from router.rerating.results import DayPlan, Rerated, Verdict

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class GroupTotals:
    key: str
    label: str
    shipments: int
    paid: Decimal  # billed, or the tariff where nothing was billed
    billed: Decimal  # over shipments with both a bill and a tariff
    tariff: Decimal  # over the same shipments
    overbilled_count: int
    overbilled: Decimal  # billed above tariff, over the flagged shipments
    best: Decimal  # the policy's pick, over shipments with a pick
    whatif_saving: Decimal  # paid − best over the same shipments
    plan: Decimal  # the day plans' price, over shipments the plan served
    plan_saving: Decimal  # paid − plan over the same shipments
    compared: int  # tariff change: shipments priced by both the old and new tariffs
    old: Decimal
    new: Decimal

    @property
    def change(self) -> Decimal:
        return self.new - self.old


@dataclass(frozen=True, slots=True)
class RerateSummary:
    rows: int
    rejected: int
    no_tariff: int
    overbilled: int
    total: GroupTotals
    by_carrier: tuple[GroupTotals, ...]
    by_month: tuple[GroupTotals, ...]
    by_region: tuple[GroupTotals, ...]
    days: int
    plan_statuses: tuple[tuple[str, int], ...]
    out_of_order_days: int  # days met again after another day: planned as separate batches


class _Group:
    __slots__ = (
        "best",
        "billed",
        "compared",
        "new",
        "old",
        "overbilled",
        "overbilled_count",
        "paid",
        "plan",
        "plan_saving",
        "shipments",
        "tariff",
        "whatif_saving",
    )  # fmt: skip

    def __init__(self) -> None:
        self.shipments = self.overbilled_count = self.compared = 0
        self.paid = self.billed = self.tariff = self.overbilled = ZERO
        self.best = self.whatif_saving = self.plan = self.plan_saving = self.old = self.new = ZERO

    def add(self, r: Rerated) -> None:
        self.shipments += 1
        billed, tariff, best, plan = r.shipment.billed, r.tariff, r.best, r.plan
        paid = billed if billed is not None else tariff  # Rerated.paid
        if paid is not None:
            self.paid += paid
        if billed is not None and tariff is not None:
            self.billed += billed
            self.tariff += tariff
            if r.verdict is Verdict.OVERBILLED:
                self.overbilled_count += 1
                self.overbilled += billed - tariff or ZERO
        if paid is not None and best is not None:
            saving = paid - best.price
            self.best += best.price
            self.whatif_saving += saving
            if plan is best:  # planned alone, the plan is the pick
                self.plan += best.price
                self.plan_saving += saving
                plan = None
        if paid is not None and plan is not None:
            self.plan += plan.price
            self.plan_saving += paid - plan.price
        if r.old is not None and r.new is not None:
            self.compared += 1
            self.old += r.old
            self.new += r.new

    def merge(self, other: _Group) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def frozen(self, key: str, label: str) -> GroupTotals:
        return GroupTotals(
            key, label, self.shipments, self.paid, self.billed, self.tariff, self.overbilled_count,
            self.overbilled, self.best, self.whatif_saving, self.plan, self.plan_saving, self.compared,
            self.old, self.new,
        )  # fmt: skip


class SummaryBuilder:
    """Totals while rows stream; builders of consecutive parts of a file merge into one."""

    def __init__(self) -> None:
        # One group per (carrier, month, region, city): a row is added once, and the views
        # (per carrier, month, region) are sums of these few groups when the run is over.
        self._cells: dict[tuple[str, str, str, str], _Group] = {}
        self.rows = 0
        self.rejected = 0
        self.no_tariff = 0
        self.overbilled = 0

    def add(self, r: Rerated) -> None:
        self.rows += 1
        key = (r.shipment.carrier, r.month, r.region, r.destination_city)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = _Group()
        cell.add(r)
        verdict = r.verdict
        if verdict is Verdict.NO_TARIFF:
            self.no_tariff += 1
        elif verdict is Verdict.OVERBILLED:
            self.overbilled += 1

    def reject(self) -> None:
        self.rows += 1
        self.rejected += 1

    def merge(self, other: SummaryBuilder) -> None:
        for key, cell in other._cells.items():
            mine = self._cells.get(key)
            if mine is None:
                mine = self._cells[key] = _Group()
            mine.merge(cell)
        self.rows += other.rows
        self.rejected += other.rejected
        self.no_tariff += other.no_tariff
        self.overbilled += other.overbilled

    def build(self, days: list[DayPlan]) -> RerateSummary:
        total = _Group()
        views: dict[str, dict[str, _Group]] = {k: defaultdict(_Group) for k in ("carrier", "month", "region")}
        cities: dict[str, Counter[str]] = defaultdict(Counter)
        for (carrier, month, region, city), cell in self._cells.items():
            total.merge(cell)
            views["carrier"][carrier].merge(cell)
            views["month"][month].merge(cell)
            views["region"][region].merge(cell)
            cities[region][city] += cell.shipments

        def frozen(kind: str, label: Callable[[str], str]) -> tuple[GroupTotals, ...]:
            return tuple(g.frozen(k, label(k)) for k, g in sorted(views[kind].items()))

        def region_label(key: str) -> str:
            # Cells keep the order rows first met them: on a tie, the city met first names it.
            return f"{cities[key].most_common(1)[0][0]} ({key})"

        seen: set[object] = set()
        again = 0
        for d in days:
            again += d.day in seen
            seen.add(d.day)
        statuses = Counter(d.status.value for d in days)
        return RerateSummary(
            rows=self.rows,
            rejected=self.rejected,
            no_tariff=self.no_tariff,
            overbilled=self.overbilled,
            total=total.frozen("total", "All shipments"),
            by_carrier=frozen("carrier", str),
            by_month=frozen("month", str),
            by_region=frozen("region", region_label),
            days=len(days),
            plan_statuses=tuple(sorted(statuses.items())),
            out_of_order_days=again,
        )
