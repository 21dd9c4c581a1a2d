"""Day allocation: capacities, discount tiers, deadlines, unserved orders, and the two solvers.

Expected costs are worked out by hand in each test, or by the brute force below over every
possible choice; none is read back from the code under test.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from router.allocation import (
    Candidates,
    CarrierCapacity,
    DiscountTier,
    Method,
    Option,
    Order,
    SolverOptions,
    SolveStatus,
    Terms,
    Unserved,
    UnservedReason,
    Warehouse,
    allocate,
    plan,
)
from router.allocation.orders import read_capacities, read_orders, read_tiers, read_warehouses
from router.core.models import Location, Parcel
from router.core.settings import Settings
from router.quoting.engine import QuoteEngine
from router.quoting.places import Places
from tests.router.fakes import FakeCarrier

ONE_WORKER = SolverOptions(time_limit_s=30, num_workers=1)
DAY = date(2026, 11, 24)


@pytest.fixture(scope="session")
def places() -> Places:
    return Places()


def option(carrier: str, price: str, warehouse: str = "W", days: int = 2, service: str = "std") -> Option:
    return Option(warehouse, carrier, service, Decimal(price), days, DAY + timedelta(days=days))


def order(order_id: str, *options: Option, parcels: int = 1) -> Candidates:
    return Candidates(order_id, parcels, options)


def served_load(p, candidates: list[Candidates]) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    parcels = {c.order_id: c.parcels for c in candidates}
    load: dict[tuple[str, str], int] = {}
    for a in p.assignments:
        key = (a.option.carrier, a.option.warehouse)
        load[key] = load.get(key, 0) + parcels[a.order_id]
    return load


# --- capacity


def test_a_full_pickup_sends_the_order_that_loses_least_to_its_second_choice() -> None:
    # Greedy: o1 takes a (100), o2 finds a full and pays b (200) = 300.
    # Best: o1 moves to b (105) and o2 keeps a (100) = 205.
    orders = [order("o1", option("a", "100"), option("b", "105")), order("o2", option("a", "100"), option("b", "200"))]
    terms = Terms(capacities=(CarrierCapacity("a", "W", 1),))
    p = plan(orders, terms, ONE_WORKER)
    assert p.total_cost == Decimal("205.00")
    assert p.greedy.total_cost == Decimal("300.00")
    assert p.saving == Decimal("95.00")
    assert p.status is SolveStatus.OPTIMAL and p.gap == 0.0


def test_capacity_forces_the_second_cheapest_carrier_for_the_overflow() -> None:
    orders = [order(f"o{i}", option("a", "100"), option("b", "130"), option("c", "150")) for i in range(5)]
    terms = Terms(capacities=(CarrierCapacity("a", "W", 3),))
    p = plan(orders, terms, ONE_WORKER)
    assert p.total_cost == Decimal("560.00")  # 3 × 100 + 2 × 130
    assert served_load(p, orders) == {("a", "W"): 3, ("b", "W"): 2}


def test_a_capacity_counts_parcels_not_orders() -> None:
    # A 3-parcel order does not fit in a pickup with room for 2; it takes b.
    orders = [order("big", option("a", "300"), option("b", "390"), parcels=3), order("small", option("a", "100"))]
    terms = Terms(capacities=(CarrierCapacity("a", "W", 2),))
    p = plan(orders, terms, ONE_WORKER)
    assert p.total_cost == Decimal("490.00")


def test_a_capacity_at_one_warehouse_leaves_the_same_carrier_free_at_another() -> None:
    orders = [order(f"o{i}", option("a", "100", "MSK"), option("a", "120", "EKB")) for i in range(3)]
    terms = Terms(capacities=(CarrierCapacity("a", "MSK", 1),))
    assert plan(orders, terms, ONE_WORKER).total_cost == Decimal("340.00")  # 100 + 2 × 120


# --- discount tiers


def test_a_volume_tier_makes_consolidating_on_one_carrier_cheaper_than_greedy() -> None:
    # Each order: a 100, b 110. Greedy pays 4 × 100 = 400.
    # All four with b reach b's 4-parcel tier: 440 − 15 % = 440 − 66 = 374.
    # Three a and one b: 300 + 110 = 410 (no tier). So 374 is the optimum.
    orders = [order(f"o{i}", option("a", "100"), option("b", "110")) for i in range(4)]
    terms = Terms(tiers=(DiscountTier("b", 4, Decimal(15)),))
    p = plan(orders, terms, ONE_WORKER)
    assert p.status is SolveStatus.OPTIMAL
    assert p.greedy.total_cost == Decimal("400.00")
    assert p.total_cost == Decimal("374.00")
    assert p.saving == Decimal("26.00")
    assert [(d.carrier, d.parcels, d.amount) for d in p.discounts] == [("b", 4, Decimal("66.00"))]


def test_the_month_to_date_count_brings_a_tier_within_reach() -> None:
    # b has sent 498 parcels this month; ≥ 500 → −7 %. Orders: a 100, b 104.
    # All three with b: 312 − 21.84 = 290.16; two with b: 208 − 14.56 + 100 = 293.44; greedy 300.
    orders = [order(f"o{i}", option("a", "100"), option("b", "104")) for i in range(3)]
    terms = Terms(tiers=(DiscountTier("b", 500, Decimal(7)),), month_to_date={"b": 498})
    p = plan(orders, terms, ONE_WORKER)
    assert p.total_cost == Decimal("290.16")
    assert p.discounts[0].month_parcels == 501


def test_only_the_best_tier_reached_applies() -> None:
    # 2 parcels with b: the 1-parcel 5 % and the 2-parcel 10 % tiers are both reached; 10 % of 200.
    orders = [order(f"o{i}", option("b", "100")) for i in range(2)]
    tiers = (DiscountTier("b", 1, Decimal(5)), DiscountTier("b", 2, Decimal(10)))
    assert plan(orders, Terms(tiers=tiers), ONE_WORKER).total_cost == Decimal("180.00")


def test_a_discount_is_rounded_down_to_the_kopeck() -> None:
    # 7 % of 33.33 is 2.3331: the discount is 2.33.
    p = plan([order("o", option("b", "33.33"))], Terms(tiers=(DiscountTier("b", 1, Decimal(7)),)), ONE_WORKER)
    assert p.total_cost == Decimal("31.00")


def test_capacity_and_tiers_together() -> None:
    # 4 orders, a 100 / b 110; b's tier at 4 parcels is 15 %, but b collects only 3 a day.
    # The tier is out of reach, so: 4 × a = 400 (a has no capacity limit).
    orders = [order(f"o{i}", option("a", "100"), option("b", "110")) for i in range(4)]
    terms = Terms(capacities=(CarrierCapacity("b", "W", 3),), tiers=(DiscountTier("b", 4, Decimal(15)),))
    assert plan(orders, terms, ONE_WORKER).total_cost == Decimal("400.00")


# --- the value of a day


def test_the_day_value_trades_price_for_speed() -> None:
    # a: 100 in 5 days scores 100 + 5 × 20 = 200; b: 150 in 1 day scores 170.
    orders = [order("o", option("a", "100", days=5), option("b", "150", days=1))]
    p = plan(orders, Terms(day_value=Decimal(20)), ONE_WORKER)
    assert p.total_cost == Decimal("150.00") and p.objective == Decimal("170.00")
    assert p.greedy.objective == Decimal("170.00")


# --- unserved orders


def test_orders_beyond_capacity_are_unserved_with_the_full_pickup_named() -> None:
    orders = [order(f"o{i}", option("a", "100")) for i in range(3)]
    p = plan(orders, Terms(capacities=(CarrierCapacity("a", "W", 2),)), ONE_WORKER)
    assert p.total_cost == Decimal("200.00")
    assert len(p.unserved) == 1
    assert p.unserved[0].reason is UnservedReason.CAPACITY
    assert "a at W (2 of 2 parcels)" in p.unserved[0].detail


def test_the_plan_serves_as_many_orders_as_capacity_allows_even_at_a_higher_price() -> None:
    # Greedy sends o1 to a and leaves o2 (only a) unserved; the plan moves o1 to the dear b.
    orders = [order("o1", option("a", "100"), option("b", "900")), order("o2", option("a", "100"))]
    p = plan(orders, Terms(capacities=(CarrierCapacity("a", "W", 1),)), ONE_WORKER)
    assert [u.order_id for u in p.greedy.unserved] == ["o2"]
    assert p.unserved == () and p.total_cost == Decimal("1000.00")


async def test_deadlines_exclusions_and_unknown_places_leave_orders_out_with_their_reason(places: Places) -> None:
    fast = FakeCarrier("fast", price="300.00", days=2)  # arrives 26 Nov
    slow = FakeCarrier("slow", price="100.00", days=8)  # arrives 2 Dec
    engine = QuoteEngine([fast, slow], places, Settings())
    parcel = (Parcel(1000, 10, 10, 10),)
    orders = [
        Order("soon", Location(city="Новосибирск"), parcel, deadline=date(2026, 11, 27)),
        Order("whenever", Location(city="Новосибирск"), parcel),
        Order("too-soon", Location(city="Новосибирск"), parcel, deadline=date(2026, 11, 25)),
        Order("picky", Location(city="Новосибирск"), parcel, exclude=frozenset({"fast", "slow"})),
        Order("nowhere", Location(city="Qwzxyville"), parcel),
    ]
    p = await allocate(engine, orders, [Warehouse("MSK", Location(city="Москва"))], Terms(), ONE_WORKER)
    assert {a.order_id: a.option.carrier for a in p.assignments} == {"soon": "fast", "whenever": "slow"}
    assert p.total_cost == Decimal("400.00")
    reasons = {u.order_id: u.reason for u in p.unserved}
    assert reasons == {
        "too-soon": UnservedReason.DEADLINE,
        "picky": UnservedReason.EXCLUDED,
        "nowhere": UnservedReason.PLACE,
    }
    too_soon = next(u for u in p.unserved if u.order_id == "too-soon")
    assert "2026-11-26" in too_soon.detail  # the fastest date on offer


async def test_each_order_is_quoted_only_from_its_own_warehouses(places: Places) -> None:
    carrier = FakeCarrier("c")
    engine = QuoteEngine([carrier], places, Settings())
    warehouses = [Warehouse("MSK", Location(city="Москва")), Warehouse("EKB", Location(city="Екатеринбург"))]
    orders = [Order("o", Location(city="Омск"), (Parcel(1000, 10, 10, 10),), warehouses=("EKB",))]
    p = await allocate(engine, orders, warehouses, Terms(), ONE_WORKER)
    assert [r.origin.city for r in carrier.calls] == ["Yekaterinburg"]
    assert p.assignments[0].option.warehouse == "EKB"


# --- the two solvers and the brute force


def brute_force(candidates: list[Candidates], terms: Terms) -> tuple[int, Decimal]:
    """(most orders served, least cost among those) over every possible choice, tiers included."""
    best: tuple[int, Decimal] | None = None
    for choice in itertools.product(*[[None, *c.options] for c in candidates]):
        load: dict[tuple[str, str], int] = {}
        spend: dict[str, Decimal] = {}
        parcels: dict[str, int] = {}
        for c, o in zip(candidates, choice, strict=False):
            if o is not None:
                load[(o.carrier, o.warehouse)] = load.get((o.carrier, o.warehouse), 0) + c.parcels
                spend[o.carrier] = spend.get(o.carrier, Decimal(0)) + o.price
                parcels[o.carrier] = parcels.get(o.carrier, 0) + c.parcels
        if any(cap.max_parcels < load.get((cap.carrier, cap.warehouse), 0) for cap in terms.capacities):
            continue
        total = sum(spend.values(), Decimal(0))
        for carrier, amount in spend.items():
            month = terms.month_to_date.get(carrier, 0) + parcels[carrier]
            off = [
                (amount * t.percent / 100).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
                for t in terms.tiers
                if t.carrier == carrier and month >= t.min_parcels
            ]
            total -= max(off, default=Decimal(0))
        served = sum(o is not None for o in choice)
        if best is None or (-served, total) < (-best[0], best[1]):
            best = (served, total)
    assert best is not None
    return best


def random_instance(seed: int, n_orders: int, tiers: bool) -> tuple[list[Candidates], Terms]:
    rng = random.Random(seed)
    carriers, warehouses = ["a", "b", "c"], ["W1", "W2"]
    candidates = []
    for i in range(n_orders):
        pairs = rng.sample([(c, w) for c in carriers for w in warehouses], rng.randint(1, 3))
        options = tuple(option(c, f"{rng.randint(100, 400)}.{rng.randint(0, 99):02d}", w) for c, w in pairs)
        candidates.append(Candidates(f"o{i}", rng.choice([1, 1, 2]), options))
    capacities = tuple(
        CarrierCapacity(c, w, rng.randint(1, 3)) for c in carriers for w in warehouses if rng.random() < 0.7
    )
    tier_list: tuple[DiscountTier, ...] = ()
    if tiers:
        a_tier = DiscountTier("a", rng.randint(2, 5), Decimal(rng.choice(["5", "10", "12.5"])))
        tier_list = (a_tier, DiscountTier("b", 3, Decimal(8)))
    return candidates, Terms(capacities=capacities, tiers=tier_list, month_to_date={"a": rng.randint(0, 2)})


@pytest.mark.parametrize("seed", range(12))
def test_the_plan_equals_the_brute_force_optimum_on_small_instances(seed: int) -> None:
    candidates, terms = random_instance(seed, 7, tiers=seed % 2 == 0)
    served, cost = brute_force(candidates, terms)
    p = plan(candidates, terms, ONE_WORKER)
    assert (len(p.assignments), p.total_cost) == (served, cost)
    assert p.status is SolveStatus.OPTIMAL and p.bound == cost
    for (carrier, warehouse), load in served_load(p, candidates).items():
        cap = terms.capacity(carrier, warehouse)
        assert cap is None or load <= cap


@pytest.mark.parametrize("seed", range(5))
def test_min_cost_flow_and_cp_sat_agree_without_tiers(seed: int) -> None:
    candidates, terms = random_instance(100 + seed, 60, tiers=False)
    flow = plan(candidates, terms, ONE_WORKER, Method.FLOW)
    sat = plan(candidates, terms, ONE_WORKER, Method.CP_SAT)
    assert sat.method == "cp-sat" and sat.status is SolveStatus.OPTIMAL
    assert (len(flow.unserved), flow.objective) == (len(sat.unserved), sat.objective)
    assert (len(flow.unserved), flow.objective) <= (len(flow.greedy.unserved), flow.greedy.objective)


def test_an_order_the_flow_would_split_across_carriers_is_solved_whole() -> None:
    # Two parcels; a takes one more parcel today, b any number. A flow would send one parcel each way.
    orders = [order("pair", option("a", "100"), option("b", "150"), parcels=2)]
    p = plan(orders, Terms(capacities=(CarrierCapacity("a", "W", 1),)), ONE_WORKER)
    assert p.method == "cp-sat"
    assert [a.option.carrier for a in p.assignments] == ["b"] and p.total_cost == Decimal("150.00")


def test_flow_is_refused_when_tiers_apply() -> None:
    orders = [order("o", option("b", "100"))]
    with pytest.raises(ValueError):
        plan(orders, Terms(tiers=(DiscountTier("b", 1, Decimal(5)),)), ONE_WORKER, Method.FLOW)


# --- reading the CSV files


def test_bad_order_rows_are_reported_with_their_line_and_the_rest_are_read() -> None:
    lines = [
        "id,destination,weight_g,length_cm,width_cm,height_cm,parcels,warehouses,deadline,cod\n",
        "A1,Новосибирск,1200,30,20,10,,MSK,2026-12-05,no\n",
        "A2,Омск,-5,30,20,10,,,,\n",
        "A3,Омск,500,30,20,,,,,\n",
        "A1,Томск,500,30,20,10,,,,\n",
        "A4,Омск,500,30,20,10,,SPB,,\n",
        'A5,"55.75,37.62",500,30,20,10,3,MSK|EKB,2026-02-30,\n',
        "A6,123456,500,30,20,10,2,,,maybe\n",
        "A7,Омск,500,30,20,10,1,EKB,,yes\n",
    ]
    rows = read_orders(lines, {"MSK", "EKB"})
    assert [o.id for o in rows.items] == ["A1", "A7"]
    assert [(e.line, e.message.split(":")[0]) for e in rows.errors] == [
        (3, "weight_g"),
        (4, "height_cm"),
        (5, "repeats the order id of line 2"),
        (6, "warehouses"),
        (7, "deadline"),
        (8, "cod"),
    ]
    assert rows.items[0].deadline == date(2026, 12, 5) and rows.items[1].cod is True


def test_a_file_without_a_required_column_is_one_error_on_the_header() -> None:
    rows = read_orders(["id,destination,weight_g\n", "A1,Омск,100\n"])
    assert rows.items == ()
    assert [(e.line, e.message) for e in rows.errors] == [(1, "missing column(s): length_cm, width_cm, height_cm")]


def test_a_quoted_field_spanning_lines_keeps_later_line_numbers_right() -> None:
    lines = ["code,location\n", '"MSK","Москва,\n', 'центр"\n', "EKB,\n"]
    rows = read_warehouses(lines)
    assert [w.code for w in rows.items] == ["MSK"]
    assert [(e.line, e.message) for e in rows.errors] == [(4, "location: is required")]


def test_capacity_and_tier_files_reject_nonsense_rows() -> None:
    caps = read_capacities(["carrier,warehouse,max_parcels\n", "a,MSK,200\n", "b,MSK,lots\n", "a,MSK,5\n"])
    assert [c.max_parcels for c in caps.items] == [200]
    assert [e.line for e in caps.errors] == [3, 4]
    tiers = read_tiers(["carrier,min_parcels,percent\n", "a,500,7\n", "a,1000,120\n", "b,10,7.555\n"])
    assert tiers.items == (DiscountTier("a", 500, Decimal(7)),)
    assert [e.line for e in tiers.errors] == [3, 4]


# --- the command


def test_allocate_writes_one_row_per_good_order_and_exits_3_for_bad_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from router.cli.main import main

    orders = tmp_path / "orders.csv"
    orders.write_text(
        "id,destination,weight_g,length_cm,width_cm,height_cm,deadline\n"
        "A1,Новосибирск,1200,30,20,10,\n"
        "A2,Казань,-1,30,20,10,\n"
        "A3,Омск,800,20,20,10,2000-01-01\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan.csv"
    result = CliRunner().invoke(
        main, ["allocate", str(orders), "--warehouse", "MSK=Москва", "--out", str(out), "--workers", "1"]
    )
    assert result.exit_code == 3, result.output
    assert "orders.csv:3: weight_g" in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[:2] for line in lines[1:]] == [["A1", "assigned"], ["A3", "unserved"]]
    assert ",deadline," in lines[2]


@pytest.mark.parametrize("seed", range(5))
def test_greedy_ranks_options_as_a_lexicographic_sort_would(seed: int) -> None:
    import numpy as np

    from router.allocation.greedy import _rank

    rng = np.random.default_rng(seed)
    n = 2_000
    small = [rng.integers(0, 50, n), rng.integers(0, 5, n), rng.integers(0, 3, n)]
    assert (_rank(*small) == np.lexsort(small[::-1])).all()
    # Keys too wide to pack into one integer take the lexsort.
    wide = [rng.integers(0, 2**40, n), rng.integers(0, 2**30, n)]
    assert (_rank(*wide) == np.lexsort(wide[::-1])).all()


def test_greedy_breaks_a_price_tie_on_the_earlier_date_then_the_warehouse() -> None:
    from router.allocation.greedy import greedy_choice

    tied = order("o1", option("a", "300.00", "W2"), option("b", "300.00", "W1", days=3), option("a", "300.00", "W1"))
    choice, _ = greedy_choice([tied], Terms())
    assert choice == [2]


def _flatten_by_the_book(candidates: list[Candidates]) -> dict[str, list[object]]:
    """What flatten's arrays must hold, worked out option by option."""
    keys = sorted({(o.warehouse, o.carrier, o.service) for c in candidates for o in c.options})
    rows: dict[str, list[object]] = {"price": [], "days": [], "eta": [], "label": [], "pickup": []}
    for c in candidates:
        for o in c.options:
            rows["price"].append(o.price_kop)
            rows["days"].append(o.days)
            rows["eta"].append(o.eta_max_date.toordinal())
            rows["label"].append(keys.index((o.warehouse, o.carrier, o.service)))
            rows["pickup"].append((o.carrier, o.warehouse))
    return rows


@pytest.mark.parametrize("seed", range(4))
def test_flatten_numbers_options_as_one_option_at_a_time_would(seed: int) -> None:
    from router.allocation.flat import flatten

    rng = random.Random(seed)
    candidates = []
    for i in range(300):
        options = tuple(
            Option(rng.choice(["W2", "W1", "W10"]), rng.choice(["b", "a", "cc"]), rng.choice(["std", "exp"]),
                   Decimal(f"{rng.randint(100, 900)}.{rng.randint(0, 99):02d}"), days, DAY + timedelta(days=days + rng.randint(0, 2)))
            for days in (rng.randint(1, 6) for _ in range(rng.randint(0, 5)))
        )  # fmt: skip
        why = None if options else Unserved(f"o{i}", UnservedReason.NO_OPTION, "none")
        candidates.append(Candidates(f"o{i}", rng.randint(1, 3), options, why))
    capacities = (CarrierCapacity("a", "W1", 5), CarrierCapacity("a", "W1", 9), CarrierCapacity("cc", "W10", 2))
    f = flatten(candidates, Terms(capacities))
    expected = _flatten_by_the_book(candidates)
    assert f.price.tolist() == expected["price"] and f.days.tolist() == expected["days"]
    assert f.eta.tolist() == expected["eta"] and f.label.tolist() == expected["label"]
    assert [f.pickups[g] for g in f.group.tolist()] == expected["pickup"]
    assert f.orders.tolist() == [i for i, c in enumerate(candidates) if c.options]
    assert f.parcels.tolist() == [c.parcels for c in candidates if c.options]
    assert (
        dict(zip(f.pickups, f.capacity, strict=False))[("a", "W1")] == 5
    )  # the first capacity given, as Terms.capacity
    assert dict(zip(f.pickups, f.capacity, strict=False)).get(("b", "W2")) is None


@pytest.mark.parametrize("seed", range(6))
def test_costing_from_the_flat_arrays_equals_costing_option_by_option(seed: int) -> None:
    from router.allocation.costing import cost
    from router.allocation.flat import flatten

    candidates, terms = random_instance(200 + seed, 40, tiers=True)
    terms = Terms(terms.capacities, terms.tiers, terms.month_to_date, day_value=Decimal("12.5"))
    rng = random.Random(seed)
    f = flatten(candidates, terms)
    for _ in range(5):
        choice = [None if not c.options or rng.random() < 0.2 else rng.randrange(len(c.options)) for c in candidates]
        reasons = {i: "full" for i, k in enumerate(choice) if k is None and i % 2}
        assert cost(candidates, choice, terms, reasons, f) == cost(candidates, choice, terms, reasons)
    with pytest.raises(IndexError):
        cost(candidates, [-1 if c.options else None for c in candidates], terms, flat=f)


def test_a_plan_leaves_the_collector_as_it_found_it() -> None:
    import gc

    candidates, terms = random_instance(7, 20, tiers=False)
    assert gc.isenabled()
    plan(candidates, terms, ONE_WORKER)
    assert gc.isenabled()
    gc.disable()
    try:
        plan(candidates, terms, ONE_WORKER)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_plan_that_serves_nothing_writes_its_money_in_kopecks() -> None:
    # Found by schemathesis: a bound of Decimal(0) was written "0", which the document's pattern refuses.
    from decimal import Decimal

    from router.allocation.codec import plan_answer
    from router.allocation.model import Costing, Plan, SolveStatus

    zero = Decimal(0)
    nothing = Costing((), (), (), zero, zero, zero)
    plan = Plan((), (), (), zero, zero, nothing, SolveStatus.GREEDY, "cp-sat", zero, 0.001)
    answer = plan_answer(plan)
    assert (answer.total_cost, answer.objective, answer.bound) == ("0.00", "0.00", "0.00")


def test_when_greedy_serves_fewer_orders_the_report_compares_per_served_order_not_a_negative_saving() -> None:
    import io
    from datetime import date
    from decimal import Decimal

    from rich.console import Console

    from router.allocation.model import Assignment, Costing, Option, Plan, SolveStatus, Unserved, UnservedReason
    from router.cli.allocate import print_plan

    def served(order: str, price: str) -> Assignment:
        return Assignment(order, Option("MSK", "vestnik", "parcel", Decimal(price), 3, date(2026, 12, 10)))

    plan_orders = (served("a", "300"), served("b", "200"))
    greedy = Costing(
        (served("a", "100"),),
        (Unserved("b", UnservedReason.CAPACITY, "full"),),
        (),
        Decimal(100),
        Decimal(100),
        Decimal(100),
    )
    plan = Plan(plan_orders, (), (), Decimal(500), Decimal(500), greedy, SolveStatus.OPTIMAL, "min-cost-flow",
                Decimal(500), 0.01)  # fmt: skip
    out = io.StringIO()
    print_plan(Console(file=out, width=200), plan, [], None)
    text = out.getvalue()
    assert "Saving against greedy" not in text
    assert "serves 2 orders and greedy 1 (0 and 1 unserved)" in text
    assert "per served order 250.00 RUB against 100.00 RUB" in text
