"""What each carrier really does: transit times, on-time and failure rates, learned from outcomes.

Aggregates. Per carrier, carrier × service, and carrier × service × lane (origin region →
destination region) a `Tally` counts outcomes — delivered, lost, damaged, returned, complaints,
deliveries with a promised date and those on time — and keeps two small histograms in business
days: transit (0…29, and 30 for 30 or more) and lateness against the promised date (−10…+20,
clipped). That is about seventy integers a key whatever the volume; raw outcomes are not kept.

Business days. A parcel handed over on day s (moved to the next working day when s is not one)
and delivered on day d took the fewest n business days with `add_working_days(s, n) >= d`, so
"95 % delivered by add_working_days(ship date, p95)" holds by construction, weekend deliveries
included. Lateness is that count for the delivery minus the count for the promised date.

Shrinkage. A thin lane borrows from coarser levels, each level from the next (additive smoothing
with `strength` k pseudo-outcomes):

    rate(service) = (x_service + k·rate(carrier)) / (n_service + k)
    rate(lane)    = (x_lane    + k·rate(service)) / (n_lane    + k)

for the on-time rate (over deliveries with a promised date) and the failure rate (lost or
damaged, over all outcomes). Transit times cannot borrow directly — a carrier's overall transit
mixes its short lanes with its long ones — so they borrow the carrier's *lateness*: the prior for
an offer is the service's lateness distribution (itself shrunk towards the carrier's) shifted by
the days this offer's tariff promises, and the lane's own transit histogram is blended with it:

    pmf(lane) = (histogram(lane) + k·prior) / (deliveries(lane) + k)

With no promised dates anywhere, the prior is the service's transit histogram shrunk towards the
carrier's. p50/p80/p95 are the smallest day counts whose cumulative share reaches 50/80/95 %.

Ageing. Every aggregate is kept per calendar month of hand-over; what counts is the sum over the
last `window_months` months ending with the newest month imported (never later than this month),
so a carrier's record follows what it does now. Anchoring on the newest import rather than the
clock keeps a history that is imported late, or a demo's, from ageing out all at once.

Badges, on the lane's shrunk figures: gold needs ≥ 95 % on time, ≤ 0.5 % failures and ≥ 100
outcomes for the service; silver ≥ 85 %, ≤ 2 %, ≥ 30; anything else has none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from router.core.calendar import add_working_days, is_working_day, next_working_day
from router.core.models import Badge, Offer, OfferInsight, Place, Policy, Rejection
from router.core.wording import Said, explained, joined
from router.history.outcomes import Outcome, OutcomeStatus
from router.history.suspension import Suspension, SuspensionRule

TRANSIT_BINS = 31  # 0..29 days, the last bin 30 or more
LATENESS_MIN = -10
LATENESS_BINS = 31  # -10..+20 days
_ONE_DAY = timedelta(days=1)
_EPS = 1e-9

COUNTERS = ("n", "delivered", "lost", "damaged", "returned", "complaints", "promised", "on_time")


@dataclass(slots=True)
class Tally:
    """The compact aggregate of one key: counters and two histograms in business days."""

    n: int = 0
    delivered: int = 0
    lost: int = 0
    damaged: int = 0
    returned: int = 0
    complaints: int = 0
    promised: int = 0  # deliveries with a promised date
    on_time: int = 0
    transit: list[int] = field(default_factory=lambda: [0] * TRANSIT_BINS)
    lateness: list[int] = field(default_factory=lambda: [0] * LATENESS_BINS)

    @property
    def failed(self) -> int:
        return self.lost + self.damaged

    @classmethod
    def from_fields(cls, fields: Mapping[str, bytes | int]) -> Tally:
        tally = cls()
        bins = {"t": tally.transit, "l": tally.lateness}
        for name, raw in fields.items():
            slot = _SLOTS.get(name)
            if slot is None:
                continue
            kind, i = slot
            if i < 0:
                setattr(tally, kind, int(raw))
            else:
                bins[kind][i] = int(raw)
        return tally


_SLOTS: dict[str, tuple[str, int]] = {
    **{name: (name, -1) for name in COUNTERS},
    **{f"t{i}": ("t", i) for i in range(TRANSIT_BINS)},
    **{f"l{i}": ("l", i) for i in range(LATENESS_BINS)},
}


@lru_cache(maxsize=1 << 16)
def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d <= end."""
    n, d = 0, start
    while d < end:
        d += _ONE_DAY
        if is_working_day(d):
            n += 1
    return n


def handover_day(d: date) -> date:
    return d if is_working_day(d) else next_working_day(d)


def business_days(ship: date, day: date) -> int:
    """The fewest n with add_working_days(ship, n) >= day."""
    if day <= ship:
        return 0
    n = working_days_between(ship, day)
    return n if is_working_day(day) else n + 1


def contribution(outcome: Outcome) -> dict[str, int]:
    """The fields one outcome adds to every tally it belongs to."""
    return dict.fromkeys(contribution_fields(outcome), 1)


def contribution_fields(outcome: Outcome) -> tuple[str, ...]:
    """The fields one outcome adds one to; outcomes alike in these facts share the answer."""
    return _fields(outcome.status, outcome.complaint, outcome.handed_over_on, outcome.delivered_on, outcome.promised_on)


@lru_cache(maxsize=1 << 16)
def _fields(
    status: OutcomeStatus, complaint: bool, handed_over: date, delivered: date | None, promised: date | None
) -> tuple[str, ...]:
    fields = ["n"]
    if complaint:
        fields.append("complaints")
    if status is OutcomeStatus.LOST:
        fields.append("lost")
    elif status is OutcomeStatus.DAMAGED:
        fields.append("damaged")
    elif status is OutcomeStatus.RETURNED:
        fields.append("returned")
    elif delivered is not None:
        ship = handover_day(handed_over)
        days = business_days(ship, delivered)
        fields += ["delivered", f"t{min(days, TRANSIT_BINS - 1)}"]
        if promised is not None:
            late = days - business_days(ship, promised)
            fields.append("promised")
            if delivered <= promised:
                fields.append("on_time")
            fields.append(f"l{min(max(late - LATENESS_MIN, 0), LATENESS_BINS - 1)}")
    return tuple(fields)


def add_into(acc: dict[str, dict[str, int]], key: str, fields: Mapping[str, int]) -> None:
    h = acc.get(key)
    if h is None:
        acc[key] = dict(fields)
        return
    for name, amount in fields.items():
        h[name] = h.get(name, 0) + amount


def lane_of(origin: Place, destination: Place) -> str | None:
    """`RU-MOW>RU-NVS`; None when either end has no region."""
    if origin.region is None or destination.region is None:
        return None
    return f"{origin.region}>{destination.region}".upper()


# --- estimates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BadgeRule:
    badge: Badge
    min_on_time: float
    max_failure: float
    min_outcomes: int  # of the carrier's service, every lane

    def met(self, on_time: float | None, failure: float, outcomes: int) -> bool:
        return (
            on_time is not None
            and on_time >= self.min_on_time - _EPS
            and failure <= self.max_failure + _EPS
            and outcomes >= self.min_outcomes
        )

    def described(self) -> Said:
        """The rule in English and Russian."""
        return explained(
            "badge_rule", badge=self.badge, on_time=self.min_on_time, failure=self.max_failure, n=self.min_outcomes
        )


GOLD = BadgeRule(Badge.GOLD, 0.95, 0.005, 100)
SILVER = BadgeRule(Badge.SILVER, 0.85, 0.02, 30)


@dataclass(frozen=True, slots=True)
class ReliabilityConfig:
    strength: float = 20.0  # pseudo-outcomes a coarser level lends a thinner one
    badges: tuple[BadgeRule, ...] = (GOLD, SILVER)
    rule: SuspensionRule = field(default_factory=SuspensionRule)
    cache_ttl_s: float = 5.0  # how stale a worker's copy of the aggregates may be on the quote path
    # Months of history that count, ending with the newest month imported: a carrier that got
    # better (or worse) is judged on what it does now, not on what it did years ago.
    window_months: int = 12

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReliabilityConfig:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            strength=float(env.get("CARRIER_ROUTER_SHRINK_STRENGTH", d.strength)),
            rule=SuspensionRule.from_env(env),
            cache_ttl_s=float(env.get("CARRIER_ROUTER_RELIABILITY_CACHE_S", d.cache_ttl_s)),
            window_months=max(1, int(env.get("CARRIER_ROUTER_HISTORY_MONTHS", d.window_months))),
        )


@dataclass(frozen=True, slots=True)
class Estimate:
    """A lane's learned figures for one promised transit, after shrinkage."""

    pmf: tuple[float, ...]  # share of deliveries by business days in transit
    on_time_rate: float | None
    failure_rate: float
    sample_size: int
    service_sample_size: int

    def percentile(self, q: float) -> int:
        total = 0.0
        for days, share in enumerate(self.pmf):
            total += share
            if total >= q - _EPS:
                return days
        return len(self.pmf) - 1

    def delivered_within(self, days: int) -> float:
        """Share of shipments delivered within `days` business days (lost and damaged ones never are)."""
        if days < 0:
            return 0.0
        return (1.0 - self.failure_rate) * min(1.0, sum(self.pmf[: days + 1]))


def _rate(x: int, n: int, prior: float | None, k: float) -> float | None:
    if prior is None:
        return x / n if n else None
    return (x + k * prior) / (n + k)


def _blend(counts: Sequence[int], n: int, prior: Sequence[float] | None, k: float) -> list[float] | None:
    if prior is None:
        return [c / n for c in counts] if n else None
    return [(c + k * p) / (n + k) for c, p in zip(counts, prior, strict=False)]


def _shift(lateness: Sequence[float], promised_days: int) -> list[float]:
    pmf = [0.0] * TRANSIT_BINS
    for i, share in enumerate(lateness):
        if share:
            pmf[min(max(promised_days + i + LATENESS_MIN, 0), TRANSIT_BINS - 1)] += share
    return pmf


def estimate(carrier: Tally, service: Tally, lane: Tally, promised_days: int, strength: float) -> Estimate | None:
    """The lane's figures shrunk towards the service's and the carrier's; None without any history."""
    if carrier.n == 0:
        return None
    k = strength
    failure_s = _rate(service.failed, service.n, _rate(carrier.failed, carrier.n, None, k), k)
    failure = _rate(lane.failed, lane.n, failure_s, k)
    on_time_s = _rate(service.on_time, service.promised, _rate(carrier.on_time, carrier.promised, None, k), k)
    on_time = _rate(lane.on_time, lane.promised, on_time_s, k)

    late_s = _blend(service.lateness, service.promised, _blend(carrier.lateness, carrier.promised, None, k), k)
    if late_s is not None:
        prior: list[float] | None = _shift(late_s, promised_days)
    else:
        prior = _blend(service.transit, service.delivered, _blend(carrier.transit, carrier.delivered, None, k), k)
    if prior is None:  # no deliveries at all: only the tariff to go by
        prior = [0.0] * TRANSIT_BINS
        prior[min(promised_days, TRANSIT_BINS - 1)] = 1.0
    pmf = _blend(lane.transit, lane.delivered, prior, k)
    assert pmf is not None and failure is not None
    return Estimate(tuple(pmf), on_time, failure, lane.n, service.n)


# --- quotes ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordView:
    """The history one quote needs: tallies on its lane, and the suspensions in force."""

    lane: str | None
    carriers: Mapping[str, Tally] = field(default_factory=dict)
    services: Mapping[tuple[str, str], Tally] = field(default_factory=dict)
    lanes: Mapping[tuple[str, str], Tally] = field(default_factory=dict)  # on `lane`
    suspensions: Mapping[tuple[str, str | None], Suspension] = field(default_factory=dict)
    # Estimates already worked out from these same tallies, shared by the views a worker hands
    # out until it reads the store again: most quotes ask about lanes asked about before.
    memo: dict[tuple[str, str, int], Estimate | None] = field(default_factory=dict)

    def suspension(self, carrier: str) -> Suspension | None:
        return self.suspensions.get((carrier, None)) or (
            self.suspensions.get((carrier, self.lane)) if self.lane else None
        )


@dataclass(frozen=True, slots=True)
class Annotation:
    offers: tuple[Offer, ...]  # without those of suspended carriers
    insights: dict[str, OfferInsight]  # by offer id; offers with no history have none
    rejections: tuple[Rejection, ...]  # the suspended carriers' offers, with the reason


def badge_for(e: Estimate, rules: Iterable[BadgeRule]) -> tuple[Badge, Said]:
    """The badge an estimate earns, and why in English and Russian."""
    on_time = explained("no_promises") if e.on_time_rate is None else explained("on_time", rate=e.on_time_rate)
    record = explained("record", on_time=on_time, failure=e.failure_rate, n=e.service_sample_size)
    for rule in rules:
        if rule.met(e.on_time_rate, e.failure_rate, e.service_sample_size):
            return rule.badge, explained("badge_met", record=record, rule=rule.described())
    described = joined(*(r.described() for r in rules), sep="; ")
    return Badge.NONE, explained("badge_none", record=record, rules=described)


def insight(offer: Offer, e: Estimate, config: ReliabilityConfig, deadline: date | None) -> OfferInsight:
    ship = offer.eta.ship_date
    p50, p80, p95 = e.percentile(0.50), e.percentile(0.80), e.percentile(0.95)
    badge, reason = badge_for(e, config.badges)
    probability = None
    if deadline is not None:
        probability = e.delivered_within(working_days_between(ship, deadline)) if deadline >= ship else 0.0
    return OfferInsight(
        p50_days=p50,
        p80_days=p80,
        p95_days=p95,
        p50_date=add_working_days(ship, p50),
        p80_date=add_working_days(ship, p80),
        p95_date=add_working_days(ship, p95),
        on_time_rate=e.on_time_rate,
        failure_rate=e.failure_rate,
        sample_size=e.sample_size,
        service_sample_size=e.service_sample_size,
        badge=badge,
        badge_reason=reason[0],
        arrival_probability=probability,
        badge_reason_ru=reason[1],
    )


def annotate(offers: Sequence[Offer], view: RecordView, policy: Policy, config: ReliabilityConfig) -> Annotation:
    """Each offer's learned ETA and badge; suspended carriers' offers turned into rejections."""
    kept: list[Offer] = []
    insights: dict[str, OfferInsight] = {}
    rejections: list[Rejection] = []
    empty = Tally()
    for offer in offers:
        suspension = view.suspension(offer.carrier)
        if suspension is not None:
            rejections.append(suspension.rejection(offer.carrier, offer.service))
            continue
        kept.append(offer)
        carrier = view.carriers.get(offer.carrier)
        if carrier is None:
            continue
        pair = (offer.carrier, offer.service)
        memo_key = (offer.carrier, offer.service, offer.eta.max_days)
        if memo_key in view.memo:
            e = view.memo[memo_key]
        else:
            e = view.memo[memo_key] = estimate(
                carrier,
                view.services.get(pair, empty),
                view.lanes.get(pair, empty),
                offer.eta.max_days,
                config.strength,
            )
        if e is not None:
            insights[offer.id] = insight(offer, e, config, policy.deadline)
    return Annotation(tuple(kept), insights, tuple(rejections))
