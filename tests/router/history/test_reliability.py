"""Learned transit times, rates and badges; shrinkage on thin lanes; suspensions and reinstatement."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from router.core.calendar import add_working_days
from router.core.models import Badge, Offer, OfferInsight, Policy, PolicyKind
from router.history.outcomes import Outcome, OutcomeStatus
from router.history.reliability import (
    RecordView,
    ReliabilityConfig,
    Tally,
    annotate,
    business_days,
    contribution,
    estimate,
)
from router.history.suspension import SuspensionRule, worst_window
from router.history.track_record import TrackRecord
from router.quoting.selection import select
from router.store import MemoryStore, RedisStore, Store
from tests.router.fakes import make_insight, make_offer
from tests.router.outcome_sim import quantile, simulate

LANE = "RU-MOW>RU-NVS"
SHIP = date(2026, 11, 24)  # a Tuesday


def offer(carrier: str, service: str, days: int, price: str = "300.00") -> Offer:
    o = make_offer(carrier, service, price, days, start=SHIP)
    return replace(o, eta=replace(o.eta, min_days=days, max_days=days))


def outcome(i: int, carrier: str = "acme", lane: str = LANE, day: date = date(2026, 11, 2), **kw: object) -> Outcome:
    origin, destination = lane.split(">")
    fields: dict[str, object] = {
        "shipment_id": f"{carrier}-{lane}-{i}-{uuid.uuid4().hex[:6]}",
        "carrier": carrier,
        "service": "std",
        "origin": origin,
        "destination": destination,
        "handed_over_on": day,
        "status": OutcomeStatus.DELIVERED,
        "delivered_on": add_working_days(day, 2),
    }
    fields.update(kw)
    return Outcome(**fields)  # type: ignore[arg-type]


# --- business days -------------------------------------------------------------------------


def test_transit_counts_business_days_and_a_weekend_delivery_rounds_up_to_the_next_working_day() -> None:
    friday = date(2026, 11, 20)
    assert business_days(friday, date(2026, 11, 23)) == 1  # Monday
    assert business_days(friday, date(2026, 11, 21)) == 1  # Saturday: "by Monday" holds
    assert business_days(friday, friday) == 0
    # The New Year holidays are not working days.
    assert (
        business_days(date(2026, 12, 30), date(2027, 1, 12)) == business_days(date(2026, 12, 30), date(2027, 1, 11)) + 1
    )
    assert add_working_days(date(2026, 12, 30), business_days(date(2026, 12, 30), date(2027, 1, 5))) >= date(2027, 1, 5)


def test_a_parcel_handed_over_on_a_weekend_starts_counting_on_the_next_working_day() -> None:
    saturday, monday, tuesday = date(2026, 11, 21), date(2026, 11, 23), date(2026, 11, 24)
    fields = contribution(outcome(1, day=saturday, delivered_on=tuesday, promised_on=monday))
    assert fields["t1"] == 1
    assert fields["promised"] == 1 and "on_time" not in fields
    assert fields["l11"] == 1  # one day late: lateness bins start at -10


# --- learned percentiles -------------------------------------------------------------------

# Transit distributions without a gap of more than a day around any quantile tested: there the
# truth itself would jump, and no estimate from a finite sample could stay within a day of it.
SIMULATED = [
    # carrier, service, lane, outcomes, transit distribution (business days), tariff's promised days
    ("acme", "std", "RU-MOW>RU-NVS", 250, {3: 0.30, 4: 0.40, 5: 0.15, 6: 0.08, 7: 0.05, 8: 0.02}, 5),
    ("acme", "std", "RU-MOW>RU-SPE", 220, {1: 0.60, 2: 0.30, 3: 0.10}, 2),
    (
        "slowpost",
        "parcel",
        "RU-MOW>RU-NVS",
        300,
        {6: 0.2, 7: 0.3, 8: 0.2, 9: 0.1, 10: 0.08, 11: 0.06, 12: 0.04, 13: 0.02},
        9,
    ),
    (
        "slowpost",
        "parcel",
        "RU-SPE>RU-NVS",
        200,
        {5: 0.4, 6: 0.15, 7: 0.1, 8: 0.1, 9: 0.1, 10: 0.07, 11: 0.04, 12: 0.02, 13: 0.02},
        8,
    ),
]


async def test_learned_percentiles_are_within_a_day_of_the_truth_with_200_outcomes_a_lane(store: Store) -> None:
    rnd = random.Random(8)
    record = TrackRecord(store)
    samples = {}
    for carrier, service, lane, count, transit, promised in SIMULATED:
        outcomes, truth = simulate(carrier, service, lane, count, transit, promised, rnd)
        samples[(carrier, lane)] = sorted(truth)
        await record.record(outcomes)
    for carrier, service, lane, count, transit, promised in SIMULATED:
        view = await record.view([(carrier, service)], lane)
        o = offer(carrier, service, promised)
        learned = annotate([o], view, Policy(), record.config).insights[o.id]
        sample = samples[(carrier, lane)]
        for q, got in ((0.50, learned.p50_days), (0.80, learned.p80_days), (0.95, learned.p95_days)):
            assert abs(got - quantile(transit, q)) <= 1, (carrier, lane, q, got)
            assert abs(got - sample[-int(-q * len(sample) // 1) - 1]) <= 1, (carrier, lane, q, got)
        assert learned.p95_date == add_working_days(SHIP, learned.p95_days)
        assert learned.sample_size == count


async def test_the_learned_eta_differs_from_the_tariff_when_the_carrier_runs_late(store: Store) -> None:
    record = TrackRecord(store)
    outcomes, _ = simulate("late", "std", LANE, 200, {5: 0.5, 6: 0.5}, 3, random.Random(1))
    await record.record(outcomes)
    o = offer("late", "std", 3)
    learned = annotate([o], await record.view([("late", "std")], LANE), Policy(), record.config).insights[o.id]
    assert learned.p95_days == 6 and learned.p95_date > o.eta.max_date
    assert learned.on_time_rate is not None and learned.on_time_rate < 0.1


# --- shrinkage -----------------------------------------------------------------------------


async def _carrier_mostly_on_time_with_a_late_lane(store: Store, late_outcomes: int) -> TrackRecord:
    rnd = random.Random(3)
    record = TrackRecord(store)
    on_time, _ = simulate("acme", "std", "RU-MOW>RU-SPE", 500, {2: 1.0}, 2, rnd, prefix="a")
    late, _ = simulate("acme", "std", LANE, late_outcomes, {5: 1.0}, 2, rnd, prefix="b")
    await record.record(on_time + late)
    return record


async def test_a_thin_lane_leans_on_the_carriers_overall_figures(store: Store) -> None:
    record = await _carrier_mostly_on_time_with_a_late_lane(store, late_outcomes=4)
    o = offer("acme", "std", 2)
    learned = annotate([o], await record.view([("acme", "std")], LANE), Policy(), record.config).insights[o.id]
    # Raw, this lane is 0 % on time in 5 days; the carrier is otherwise always on time in 2.
    assert learned.on_time_rate is not None and learned.on_time_rate > 0.7
    assert learned.p50_days == 2
    assert learned.p95_days == 5  # the lane's own late deliveries still show in the tail
    assert learned.sample_size == 4


async def test_with_enough_data_a_lane_speaks_for_itself(store: Store) -> None:
    record = await _carrier_mostly_on_time_with_a_late_lane(store, late_outcomes=300)
    o = offer("acme", "std", 2)
    learned = annotate([o], await record.view([("acme", "std")], LANE), Policy(), record.config).insights[o.id]
    assert learned.on_time_rate is not None and learned.on_time_rate < 0.1
    assert learned.p50_days == 5


async def test_a_lane_without_history_gets_the_carriers_lateness_on_its_own_promise(store: Store) -> None:
    record = TrackRecord(store)
    outcomes, _ = simulate("acme", "std", "RU-MOW>RU-SPE", 300, {5: 1.0}, 3, random.Random(2))  # always 2 days late
    await record.record(outcomes)
    o = offer("acme", "std", 6)
    learned = annotate([o], await record.view([("acme", "std")], "RU-SPE>RU-NVS"), Policy(), record.config).insights[
        o.id
    ]
    assert (learned.p50_days, learned.p95_days, learned.sample_size) == (8, 8, 0)


def test_shrinkage_strength_sets_how_far_a_thin_lane_is_pulled() -> None:
    carrier = Tally(n=1000, delivered=1000, promised=1000, on_time=1000)
    carrier.transit[2] = carrier.lateness[10] = 1000
    lane = Tally(n=10, delivered=10, promised=10, on_time=0)
    lane.transit[6] = lane.lateness[14] = 10
    weak = estimate(carrier, carrier, lane, 2, strength=5)
    strong = estimate(carrier, carrier, lane, 2, strength=50)
    assert weak is not None and strong is not None
    assert weak.on_time_rate == pytest.approx(5 / 15)
    assert strong.on_time_rate == pytest.approx(50 / 60)


# --- badges and the deadline probability ---------------------------------------------------


async def test_badges_follow_the_stated_rule(store: Store) -> None:
    rnd = random.Random(5)
    record = TrackRecord(store)
    gold, _ = simulate("gold", "std", LANE, 150, {2: 1.0}, 2, rnd)
    silver, _ = simulate("silver", "std", LANE, 150, {2: 0.9, 4: 0.1}, 2, rnd)
    thin, _ = simulate("thin", "std", LANE, 10, {2: 1.0}, 2, rnd)
    lossy, _ = simulate("lossy", "std", LANE, 150, {2: 1.0}, 2, rnd)
    lossy = [
        replace(o, status=OutcomeStatus.LOST, delivered_on=None) if i % 20 == 0 else o for i, o in enumerate(lossy)
    ]
    await record.record(gold + silver + thin + lossy)
    names = ["gold", "silver", "thin", "lossy"]
    offers = [offer(c, "std", 2) for c in names]
    view = await record.view([(c, "std") for c in names], LANE)
    insights = annotate(offers, view, Policy(), record.config).insights
    badges = {o.carrier: insights[o.id].badge for o in offers}
    assert badges == {"gold": Badge.GOLD, "silver": Badge.SILVER, "thin": Badge.NONE, "lossy": Badge.NONE}
    assert "≥ 95% on time" in insights["gold:std"].badge_reason
    assert "10 outcomes" in insights["thin:std"].badge_reason


async def test_the_probability_of_arriving_by_the_deadline_comes_from_the_learned_distribution(store: Store) -> None:
    record = TrackRecord(store)
    outcomes, _ = simulate("acme", "std", LANE, 400, {2: 0.5, 4: 0.5}, 4, random.Random(6))
    await record.record(outcomes)
    o = offer("acme", "std", 4)
    view = await record.view([("acme", "std")], LANE)
    by = {days: add_working_days(SHIP, days) for days in (1, 2, 3, 4)}
    chance = {
        days: annotate([o], view, Policy(PolicyKind.DEADLINE, deadline=d), record.config)
        .insights[o.id]
        .arrival_probability
        for days, d in by.items()
    }
    assert chance[1] == pytest.approx(0.0, abs=0.02)
    assert chance[2] == pytest.approx(0.5, abs=0.08)
    assert chance[3] == chance[2]
    assert chance[4] == pytest.approx(1.0, abs=0.01)
    before_shipping = annotate([o], view, Policy(PolicyKind.DEADLINE, deadline=SHIP - timedelta(days=1)), record.config)
    assert before_shipping.insights[o.id].arrival_probability == 0.0


def test_an_offer_without_history_gets_no_insight_and_stays() -> None:
    o = offer("newcomer", "std", 3)
    result = annotate([o], RecordView(LANE), Policy(), ReliabilityConfig())
    assert result.offers == (o,) and result.insights == {} and result.rejections == ()


# --- suspensions ---------------------------------------------------------------------------


def serious(i: int, day: date, lane: str = LANE, carrier: str = "acme", **kw: object) -> Outcome:
    kw.setdefault("status", OutcomeStatus.LOST)
    if kw["status"] is OutcomeStatus.LOST:
        kw.setdefault("delivered_on", None)
    return outcome(i, carrier=carrier, lane=lane, day=day, **kw)


async def test_a_third_serious_failure_within_the_window_suspends_the_carrier_on_that_lane(store: Store) -> None:
    record = TrackRecord(store)
    first = [
        serious(1, date(2026, 11, 2)),
        serious(2, date(2026, 11, 4), status=OutcomeStatus.DAMAGED, delivered_on=date(2026, 11, 6)),
    ]
    assert (await record.record(first)).suspended == []
    report = await record.record(
        [serious(3, date(2026, 11, 4), status=OutcomeStatus.DELIVERED, delivered_on=date(2026, 11, 5), complaint=True)]
    )
    (suspension,) = report.suspended
    assert (suspension.carrier, suspension.lane, suspension.failures) == ("acme", LANE, 3)
    assert dict(suspension.kinds) == {"lost": 1, "damaged": 1, "complaint": 1}
    assert "3 serious failures" in suspension.reason and LANE in suspension.reason

    offers = [offer("acme", "std", 2), offer("other", "std", 3)]
    on_lane = annotate(offers, await record.view([("acme", "std"), ("other", "std")], LANE), Policy(), record.config)
    assert [o.carrier for o in on_lane.offers] == ["other"]
    assert on_lane.rejections[0].carrier == "acme" and "suspended on RU-MOW>RU-NVS" in on_lane.rejections[0].reason
    elsewhere = annotate(offers, await record.view([("acme", "std")], "RU-MOW>RU-SPE"), Policy(), record.config)
    assert len(elsewhere.offers) == 2


async def test_failures_further_apart_than_the_window_do_not_suspend(store: Store) -> None:
    record = TrackRecord(store, ReliabilityConfig(rule=SuspensionRule(lane_failures=3, window_days=7)))
    days = [date(2026, 11, 2), date(2026, 11, 6), date(2026, 11, 10), date(2026, 11, 14)]
    report = await record.record([serious(i, d) for i, d in enumerate(days)])
    assert report.suspended == []
    assert await record.suspensions() == []


async def test_the_thresholds_are_configurable_and_the_carrier_wide_one_spans_lanes(store: Store) -> None:
    rule = SuspensionRule(lane_failures=2, carrier_failures=4, window_days=10)
    record = TrackRecord(store, ReliabilityConfig(rule=rule))
    lanes = ["RU-MOW>RU-NVS", "RU-MOW>RU-SPE", "RU-SPE>RU-NVS", "RU-NVS>RU-MOW"]
    report = await record.record([serious(i, date(2026, 11, 2 + i), lane=lane) for i, lane in enumerate(lanes)])
    assert [(s.carrier, s.lane) for s in report.suspended] == [("acme", None)]
    view = await record.view([("acme", "std")], "RU-TVE>RU-TYU")
    assert view.suspension("acme") is not None
    assert "on every lane" in view.suspension("acme").reason  # type: ignore[union-attr]


async def test_reinstatement_lifts_the_suspension_and_forgives_its_failures(store: Store) -> None:
    record = TrackRecord(store)
    failures = [serious(i, date(2026, 11, 2 + i)) for i in range(3)]
    assert len((await record.record(failures)).suspended) == 1
    assert await record.reinstate("acme", "RU-SPE>RU-NVS") == []
    (lifted,) = await record.reinstate("acme", LANE.lower())
    assert lifted.lane == LANE
    assert await record.suspensions() == []
    assert annotate(
        [offer("acme", "std", 2)], await record.view([("acme", "std")], LANE), Policy(), record.config
    ).offers

    # Re-importing the same failures changes nothing; two new ones are not yet three.
    assert (await record.record(failures)).suspended == []
    assert (await record.record([serious(10 + i, date(2026, 11, 10 + i)) for i in range(2)])).suspended == []
    assert len((await record.record([serious(20, date(2026, 11, 12))])).suspended) == 1


async def test_reinstating_a_carrier_lifts_all_its_suspensions(store: Store) -> None:
    record = TrackRecord(store)
    for lane in ("RU-MOW>RU-NVS", "RU-MOW>RU-SPE"):
        await record.record([serious(i, date(2026, 11, 2 + i), lane=lane) for i in range(3)])
    await record.record([serious(i, date(2026, 11, 2 + i), carrier="other") for i in range(3)])
    assert len(await record.suspensions()) == 3
    assert {s.lane for s in await record.reinstate("acme")} == {"RU-MOW>RU-NVS", "RU-MOW>RU-SPE"}
    assert [s.carrier for s in await record.suspensions()] == ["other"]


def test_the_worst_window_finds_the_densest_run_of_days() -> None:
    log = {
        (date(2026, 1, 1), "lost"): 1,
        (date(2026, 1, 20), "lost"): 1,
        (date(2026, 1, 22), "complaint"): 2,
        (date(2026, 1, 26), "damaged"): 1,
        (date(2026, 2, 10), "lost"): 1,
    }
    window = worst_window(log, 7)
    assert window is not None
    assert (window.failures, window.first_day, window.last_day) == (4, date(2026, 1, 20), date(2026, 1, 26))
    assert dict(window.kinds) == {"lost": 1, "complaint": 2, "damaged": 1}
    assert worst_window({}, 7) is None
    assert worst_window(log, 1).failures == 2  # type: ignore[union-attr]


# --- the store -----------------------------------------------------------------------------


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def hsum(self, groups):  # type: ignore[no-untyped-def]
        # Suspensions come with the aggregates, side by side: one round trip's wait.
        self.reads += 1
        return await super().hsum(groups)


async def test_a_cold_lane_reads_its_carriers_history_in_one_round_trip_then_from_memory() -> None:
    store = CountingStore()
    outcomes = simulate("acme", "std", LANE, 20, {2: 1.0}, 2, random.Random(1))[0]
    newest = max(o.handed_over_on for o in outcomes)
    record = TrackRecord(store, clock=lambda: datetime(newest.year, newest.month, 28, tzinfo=UTC))
    await record.record(outcomes)
    pairs = [("acme", "std"), ("acme", "express"), ("other", "std")]
    await record.view(pairs, LANE)
    assert store.reads == 2  # the first also learns which months hold history
    await record.view(pairs, LANE)
    assert store.reads == 2
    await record.view(pairs, "RU-MOW>RU-SPE")  # a lane new to the worker
    assert store.reads == 3


async def test_without_any_history_a_cold_lane_costs_one_read() -> None:
    store = CountingStore()
    record = TrackRecord(store)
    await record.view([("acme", "std")], LANE)
    await record.view([("acme", "std")], "RU-MOW>RU-SPE")
    assert store.reads == 2


async def test_a_lane_asked_about_in_turns_with_two_sets_of_services_gets_each_kept_view_back() -> None:
    # A parcel too big for a locker drops that service: a lane's quotes alternate between sets.
    record = TrackRecord(MemoryStore())
    with_locker, without = [("acme", "std"), ("acme", "locker")], [("acme", "std")]
    await record.view(with_locker, LANE)  # read from the store; views are kept once built from memory
    first = await record.view(with_locker, LANE)
    other = await record.view(without, LANE)
    await record.view(without, "RU-MOW>RU-SPE")  # a lane new to the worker: read, and nothing else dropped
    assert await record.view(with_locker, LANE) is first
    assert await record.view(without, LANE) is other


async def test_a_kept_view_gives_way_to_the_figures_read_again_once_its_entries_go_old() -> None:
    store, now = MemoryStore(), [0.0]
    clock = lambda: datetime(2026, 11, 28, tzinfo=UTC)  # noqa: E731
    record = TrackRecord(store, clock=clock, monotonic=lambda: now[0])
    await record.record([outcome(i) for i in range(3)])
    await record.view([("acme", "std")], LANE)
    kept = await record.view([("acme", "std")], LANE)
    await TrackRecord(store, clock=clock).record([outcome(i) for i in range(3, 5)])  # another worker's import
    now[0] += record.config.cache_ttl_s + 1
    assert (await record.view([("acme", "std")], LANE)).carriers["acme"].n == 3  # from memory, read again behind
    assert record._rereading is not None
    await record._rereading
    fresh = await record.view([("acme", "std")], LANE)
    assert fresh is not kept and fresh.carriers["acme"].n == 5


async def test_figures_read_again_unchanged_leave_the_kept_view_standing() -> None:
    store, now = MemoryStore(), [0.0]
    record = TrackRecord(store, clock=lambda: datetime(2026, 11, 28, tzinfo=UTC), monotonic=lambda: now[0])
    await record.record([outcome(i) for i in range(3)])
    await record.view([("acme", "std")], LANE)
    kept = await record.view([("acme", "std")], LANE)
    for _ in range(3):
        now[0] += record.config.cache_ttl_s + 1
        assert await record.view([("acme", "std")], LANE) is kept  # old entries read again behind it
        assert record._rereading is not None
        await record._rereading
        assert await record.view([("acme", "std")], LANE) is kept


async def test_a_history_that_ends_months_ago_costs_one_more_read_to_find_its_window() -> None:
    store = CountingStore()
    record = TrackRecord(store, clock=lambda: datetime(2026, 11, 23, tzinfo=UTC))
    await record.record([outcome(i, day=date(2026, 6, 2)) for i in range(5)])
    await record.view([("acme", "std")], LANE)
    assert store.reads == 2
    other = await record.view([("acme", "express")], LANE)  # a lane not read yet: the window is known
    assert store.reads == 3 and other.carriers["acme"].n == 5


def monthly(carrier: str, first: date, months: int, per_month: int, transit_days: int) -> list[Outcome]:
    made = []
    for m in range(months):
        month = first.month - 1 + m
        ship = date(first.year + month // 12, month % 12 + 1, 3)
        made += [
            outcome(
                i,
                carrier=carrier,
                day=ship,
                delivered_on=add_working_days(ship, transit_days),
                promised_on=add_working_days(ship, 3),
            )
            for i in range(m * per_month, (m + 1) * per_month)
        ]
    return made


async def test_only_the_last_window_of_months_counts_so_a_carrier_that_got_better_is_judged_on_now() -> None:
    config = ReliabilityConfig(window_months=6)
    record = TrackRecord(MemoryStore(), config, clock=lambda: datetime(2026, 11, 23, tzinfo=UTC))
    # A year late by four days, then six months on time: only the on-time half is in the window.
    await record.record(monthly("acme", date(2025, 6, 1), 12, 10, transit_days=7))
    await record.record(monthly("acme", date(2026, 6, 1), 6, 10, transit_days=2))
    carrier = await record.tallies("acme")
    assert carrier is not None and carrier.n == 60 and carrier.on_time == 60
    whole_history = TrackRecord(record._store, ReliabilityConfig(window_months=24), clock=record._clock)
    everything = await whole_history.tallies("acme")
    assert everything is not None and everything.n == 180 and everything.on_time == 60


async def test_the_window_ends_at_the_newest_month_imported_not_at_the_clock() -> None:
    # A demo history, or one imported late, does not age out because the calendar moved on.
    config = ReliabilityConfig(window_months=3)
    store = MemoryStore()
    await TrackRecord(store, config).record(monthly("acme", date(2025, 1, 1), 5, 4, transit_days=2))
    later = TrackRecord(store, config, clock=lambda: datetime(2027, 3, 1, tzinfo=UTC))
    tally = await later.tallies("acme")
    assert tally is not None and tally.n == 12  # March, April and May 2025
    future = TrackRecord(store, config, clock=lambda: datetime(2025, 3, 15, tzinfo=UTC))
    capped = await future.tallies("acme")
    assert capped is not None and capped.n == 12  # January to March: nothing counts from after today


async def test_a_record_following_the_sandboxs_clock_counts_what_the_sandbox_delivered_weeks_ahead() -> None:
    record = TrackRecord(MemoryStore(), ReliabilityConfig(), clock=lambda: datetime(2026, 12, 20, tzinfo=UTC))
    await record.record(monthly("acme", date(2027, 1, 1), 1, 4, transit_days=2))
    assert await record.tallies("acme") is None  # from a month still to come, by the calendar
    record.follow_clock(lambda: datetime(2027, 1, 9, tzinfo=UTC))
    tally = await record.tallies("acme")
    assert tally is not None and tally.n == 4


async def test_a_store_that_does_not_answer_leaves_quotes_without_history() -> None:
    dead = RedisStore("redis://127.0.0.1:1/0")
    try:
        view = await TrackRecord(dead).view([("acme", "std")], LANE)
    finally:
        await dead.close()
    assert view.carriers == {} and view.suspensions == {}


async def test_aggregates_and_suspensions_survive_reopening_redis(redis_url: str) -> None:
    import redis

    prefix = f"test:{uuid.uuid4().hex}:"
    first = RedisStore(redis_url, prefix=prefix)
    try:
        record = TrackRecord(first)
        await record.record(simulate("acme", "std", LANE, 50, {3: 1.0}, 3, random.Random(4))[0])
        await record.record([serious(i, date(2026, 11, 2 + i)) for i in range(3)])
        before = await record.tallies("acme", "std", LANE)
    finally:
        await first.close()

    reopened = RedisStore(redis_url, prefix=prefix)
    try:
        again = TrackRecord(reopened)
        assert await again.tallies("acme", "std", LANE) == before
        assert [(s.carrier, s.lane) for s in await again.suspensions()] == [("acme", LANE)]
        view = await again.view([("acme", "std")], LANE)
        assert view.lanes[("acme", "std")].n == 53
    finally:
        await reopened.close()
        cleanup = redis.Redis.from_url(redis_url)
        for key in cleanup.scan_iter(match=prefix + "*"):
            cleanup.delete(key)
        cleanup.close()


# --- policies on learned figures -----------------------------------------------------------


def learned(on_time: float | None, arrival: float | None = None) -> OfferInsight:
    return make_insight(on_time, arrival, ship=SHIP)


POLICY_OFFERS = [
    offer("cheap", "std", 5, "100.00"),
    offer("mid", "std", 3, "200.00"),
    offer("dear", "std", 2, "300.00"),
]


def test_a_minimum_on_time_rate_leaves_out_unreliable_offers_and_those_without_history() -> None:
    insights = {"cheap:std": learned(0.6), "mid:std": learned(0.97), "dear:std": learned(0.99)}
    chosen = select(POLICY_OFFERS, Policy(PolicyKind.CHEAPEST, min_on_time_rate=0.95), insights)
    assert (chosen.recommended, chosen.cheapest) == ("mid:std", "cheap:std")
    assert "2 of 3" in chosen.reason
    unknown = select(POLICY_OFFERS, Policy(PolicyKind.CHEAPEST, min_on_time_rate=0.95), {"dear:std": learned(0.99)})
    assert unknown.recommended == "dear:std"
    nobody = select(POLICY_OFFERS, Policy(PolicyKind.BALANCED, min_on_time_rate=0.999), insights)
    assert nobody.recommended is None and "99.9%" not in nobody.reason and "100%" in nobody.reason


def test_a_deadline_with_a_probability_trusts_history_over_the_tariff() -> None:
    deadline = SHIP + timedelta(days=30)  # every tariff promises it
    insights = {"cheap:std": learned(0.5, 0.7), "mid:std": learned(0.9, 0.93), "dear:std": learned(0.99, 0.999)}
    policy = Policy(PolicyKind.DEADLINE, deadline=deadline, probability=0.9)
    chosen = select(POLICY_OFFERS, policy, insights)
    assert chosen.recommended == "mid:std"
    assert "93% likely" in chosen.reason
    assert select(POLICY_OFFERS, replace(policy, probability=None), insights).recommended == "cheap:std"
    assert select(POLICY_OFFERS, replace(policy, probability=0.9999), insights).recommended is None


def test_without_insights_selection_is_unchanged() -> None:
    for kind in PolicyKind:
        policy = Policy(kind, deadline=SHIP + timedelta(days=4))
        assert select(POLICY_OFFERS, policy) == select(POLICY_OFFERS, policy, {"cheap:std": learned(0.1, 0.1)})


async def test_old_figures_answer_at_once_and_are_re_read_behind_the_quote() -> None:
    import asyncio

    store = CountingStore()
    now = [0.0]
    record = TrackRecord(store, ReliabilityConfig(cache_ttl_s=5), monotonic=lambda: now[0])
    writer = TrackRecord(store)
    await writer.record(simulate("acme", "std", LANE, 10, {2: 1.0}, 2, random.Random(1), prefix="a")[0])
    assert (await record.view([("acme", "std")], LANE)).lanes[("acme", "std")].n == 10
    await writer.record(simulate("acme", "std", LANE, 5, {2: 1.0}, 2, random.Random(2), prefix="b")[0])

    now[0] = 6.0
    stale = await record.view([("acme", "std")], LANE)
    assert stale.lanes[("acme", "std")].n == 10  # no wait for the store
    for _ in range(10):  # the re-read runs behind, a few turns of the loop later
        await asyncio.sleep(0)
    assert (await record.view([("acme", "std")], LANE)).lanes[("acme", "std")].n == 15
    await record.close()


async def test_a_lane_asked_again_about_other_services_gets_their_figures_and_only_theirs() -> None:
    store = MemoryStore()
    record = TrackRecord(store)
    await record.record(simulate("acme", "std", LANE, 10, {2: 1.0}, 2, random.Random(1), prefix="s")[0])
    await record.record(simulate("acme", "exp", LANE, 6, {1: 1.0}, 1, random.Random(2), prefix="e")[0])
    both = {("acme", "std"), ("acme", "exp")}
    await record.view(both, LANE)  # every figure read once: what follows is answered from memory
    for _ in range(2):
        assert set((await record.view([("acme", "std")], LANE)).lanes) == {("acme", "std")}
        asked = (await record.view(both, LANE)).lanes
        assert {pair: tally.n for pair, tally in asked.items()} == {("acme", "std"): 10, ("acme", "exp"): 6}
    assert set((await record.view([("acme", "std")], "RU-MOW>RU-SPE")).lanes) == set()


async def test_an_import_through_the_same_worker_shows_in_the_next_view_of_a_lane() -> None:
    record = TrackRecord(MemoryStore())
    await record.record(simulate("acme", "std", LANE, 10, {2: 1.0}, 2, random.Random(1), prefix="a")[0])
    assert (await record.view([("acme", "std")], LANE)).lanes[("acme", "std")].n == 10
    assert (await record.view([("acme", "std")], LANE)).lanes[("acme", "std")].n == 10
    await record.record(simulate("acme", "std", LANE, 5, {2: 1.0}, 2, random.Random(2), prefix="b")[0])
    assert (await record.view([("acme", "std")], LANE)).lanes[("acme", "std")].n == 15
