"""Allocation figures: solver time and cost against the greedy baseline measured in the same run.

    .venv/bin/python bench/allocation.py            # everything, a few minutes
    .venv/bin/python bench/allocation.py --quick    # smaller instances

1. Synthetic days (15 carriers × 3 warehouses, binding daily capacities): the min-cost flow at
   2,000 / 10,000 / 100,000 orders, and CP-SAT on the same tier-free instance where it is
   practical (the two must agree); then the same days with volume-discount tiers on five
   carriers (CP-SAT, its proof or gap under the time limit).
2. The demo network: orders quoted by the real engine from three warehouses, capacities and
   tiers from data/demo scaled to the batch; quoting time shown apart from solving.

Each row: wall time of the plan, its cost, greedy's cost and unserved orders, the saving in
percent of greedy, and the proof status or gap. The timed span is `router.allocation.plan`: the
options flattened to arrays, the greedy baseline, the model, the solve(s), and the plan priced
and explained (what `POST /v1/allocations` and `allocate` do after quoting). Quoting is not in
it: the synthetic days come with their options, and on the demo network the quoting time (every
order from each of its warehouses through the quote engine) is shown apart. With --repeat the
time is the median of that many plans, and the worst beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router.allocation import (
    Candidates,
    CarrierCapacity,
    DiscountTier,
    Method,
    Option,
    Plan,
    SolverOptions,
    Terms,
    gather_candidates,
    plan,
)
from router.allocation.orders import (
    open_text,
    read_capacities,
    read_orders,
    read_tiers,
    read_warehouses,
)

DAY = date(2026, 11, 24)
CARRIERS = [f"c{i:02d}" for i in range(15)]
WAREHOUSES = ["W1", "W2", "W3"]


def synthetic(n: int, seed: int, tiers: bool) -> tuple[list[Candidates], Terms]:
    rng = random.Random(seed)
    base = {c: rng.uniform(150, 350) for c in CARRIERS}
    per_km = {c: rng.uniform(0.05, 0.25) for c in CARRIERS}
    speed = {c: rng.uniform(400, 1200) for c in CARRIERS}
    candidates = []
    for i in range(n):
        km = {w: rng.uniform(20, 4000) for w in WAREHOUSES}
        options = []
        for w in rng.sample(WAREHOUSES, rng.randint(1, 3)):
            for c in CARRIERS:
                if rng.random() < 0.55:
                    price = Decimal(f"{base[c] + per_km[c] * km[w] + rng.uniform(-20, 20):.2f}")
                    days = 1 + int(km[w] / speed[c])
                    options.append(Option(w, c, "std", price, days, DAY + timedelta(days=days)))
        candidates.append(Candidates(f"o{i}", 1, tuple(options)))
    # About 85 % of the day fits: the cheap pickups fill up and some orders must go unserved.
    share = 0.85 * n / (len(CARRIERS) * len(WAREHOUSES))
    capacities = tuple(
        CarrierCapacity(c, w, max(1, int(share * rng.uniform(0.3, 1.7)))) for c in CARRIERS for w in WAREHOUSES
    )
    tier_list: tuple[DiscountTier, ...] = ()
    month: dict[str, int] = {}
    if tiers:
        for c in CARRIERS[:5]:
            month[c] = 20 * n
            # Within reach of a day's parcels, but only if the carrier is given more than its share.
            tier_list += (
                DiscountTier(c, month[c] + int(n * 0.06), Decimal(5)),
                DiscountTier(c, month[c] + int(n * 0.10), Decimal(9)),
            )
    return candidates, Terms(capacities, tier_list, month)


def row(name: str, p: Plan, extra: str = "", times: list[float] | None = None) -> str:
    g = p.greedy
    saving = p.saving / g.total_cost * 100 if g.total_cost else Decimal(0)
    proof = "optimal" if p.status.value == "OPTIMAL" else f"{p.status.value.lower()}, gap {p.gap:.4%}"
    wall = f"{p.wall_time_s:.2f} s"
    if times and len(times) > 1:
        wall = f"{statistics.median(times):.2f} s (worst {max(times):.2f} s, {len(times)} runs)"
    return (
        f"| {name} | {p.method} | {wall}{extra} | {p.total_cost:,.0f} | {len(p.unserved):,} "
        f"| {g.total_cost:,.0f} | {len(g.unserved):,} | {saving:.2f} % | {proof} |"
    )


def demo(n: int, options: SolverOptions) -> list[str]:
    from carriers.registry import load_carriers
    from router.core.settings import Settings
    from router.quoting.engine import QuoteEngine
    from router.quoting.places import Places
    from router.rerating.demo_data import write_demo_orders

    data = ROOT / "data" / "demo"
    buffer = io.StringIO()
    write_demo_orders(buffer, n, seed=11)
    orders = read_orders(io.StringIO(buffer.getvalue())).items
    warehouses = read_warehouses(open_text(data / "warehouses.csv")).items
    scale = n / 500
    capacities = tuple(
        CarrierCapacity(c.carrier, c.warehouse, int(c.max_parcels * scale))
        for c in read_capacities(open_text(data / "capacity.csv")).items
    )
    tiers = read_tiers(open_text(data / "tiers.csv")).items
    settings = Settings()
    engine = QuoteEngine(load_carriers(settings), Places(), settings)
    started = time.perf_counter()
    candidates = asyncio.run(gather_candidates(engine, orders, warehouses))
    quoting = time.perf_counter() - started
    free = plan(candidates, Terms(capacities), options)
    rows = [row(f"demo network, {n:,} orders", free, f" (+{quoting:.1f} s quoting)")]
    # The month so far puts magistral and vestnik a day's share below their first tier.
    month = {"magistral": 5000 - int(0.2 * n), "vestnik": 3000 - int(0.2 * n)}
    with_tiers = plan(candidates, Terms(capacities, tiers, month), options)
    rows.append(row(f"demo network, {n:,} orders, tiers", with_tiers))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="plans per tier-free size, for the median")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--gap", type=float, default=0.001, help="relative gap at which to stop (default 0.1 %%)")
    args = parser.parse_args()
    options = SolverOptions(time_limit_s=args.time_limit, relative_gap=args.gap)
    sizes = [2_000, 10_000] if args.quick else [2_000, 10_000, 100_000]

    print("| instance | method | time | cost, RUB | unserved | greedy, RUB | greedy unserved | saving | proof |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        candidates, terms = synthetic(n, seed=n, tiers=False)
        plans = [plan(candidates, terms, options, Method.FLOW) for _ in range(args.repeat)]
        flow = plans[0]
        times = [p.wall_time_s for p in plans]
        print(row(f"{n:,} orders × 15 carriers × 3 warehouses", flow, times=times), flush=True)
        if n <= 10_000:
            sat = plan(candidates, terms, options, Method.CP_SAT)
            same = (len(sat.unserved), sat.objective) == (len(flow.unserved), flow.objective)
            verdict = "reaches the flow's optimum" if same else f"flow optimum {flow.objective:,.0f}"
            print(row(f"same, CP-SAT alone from greedy ({verdict})", sat), flush=True)
    for n in sizes[:2]:
        candidates, terms = synthetic(n, seed=n, tiers=True)
        print(row(f"{n:,} orders, tiers on 5 carriers", plan(candidates, terms, options)), flush=True)
    for line in demo(500 if args.quick else 2_000, options):
        print(line, flush=True)


if __name__ == "__main__":
    main()
