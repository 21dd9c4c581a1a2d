"""What a held quote costs the memory store, beside holding its JSON as it is, in the same run.

    .venv/bin/python bench/store_memory.py                        # 20,000 quotes, ~20 s
    .venv/bin/python bench/store_memory.py --quick                # 5,000 quotes, 1 run
    .venv/bin/python bench/store_memory.py --baseline /tmp/base   # also another checkout, in turns

Quotes are made as `POST /v1/quotes` makes them (the demo network's engine and the quote book,
every one a cache miss, so each leaves its quote and its cache entry). Per quote held: the
store's tables with every key and value object in them (`sys.getsizeof`, so without the
allocator's rounding; the process's RSS says little here, as the heap left by loading the demo
network absorbs the first tens of megabytes). The baseline is the same quotes' JSON read back and
held in a plain dict under the same keys (what a cache keeping the bytes as they come holds).
Sizes, not times: a run is repeatable (`--repeat` gives the spread of several anyway). Each run
is a fresh process; `--baseline DIR` runs the same in one importing DIR's code.

The quotes held are the memory store's growth under load (`bench/load.py steady` reports it as
RSS growth): held for their guarantee and a day after, up to the store's bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITIES = ["Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород", "Самара", "Омск"]


async def measure(n: int) -> dict[str, float]:
    # Imported here: the process's sys.path names the checkout being measured.
    from carriers.registry import load_carriers
    from router.core.models import Location, Parcel, Policy, Shipment
    from router.core.settings import Settings
    from router.quoting.book import QuoteBook
    from router.quoting.engine import QuoteEngine
    from router.quoting.places import Places
    from router.store import MemoryStore

    settings = Settings()
    engine = QuoteEngine(load_carriers(settings, None), Places(), settings)
    store = MemoryStore()
    book = QuoteBook(store, settings)
    rng = random.Random(7)

    def shipment() -> Shipment:
        a, b = rng.sample(CITIES, 2)
        parcel = Parcel(rng.randint(100, 20000), rng.randint(10, 60), rng.randint(10, 40), rng.randint(5, 30))
        return Shipment(Location(city=a), Location(city=b), (parcel,), Decimal(rng.randint(0, 2_000_000)) / 100)

    ids = []
    for _ in range(n):
        made = await book.create(engine, shipment(), Policy(), owner="open")
        if made.cached:
            raise SystemExit("a quote came from the cache: every one must be new")
        ids.append(json.loads(made.body)["quote_id"])
    try:
        from router.store.packing import unpack_quote
    except ImportError:  # a tree from before quotes were packed

        def unpack_quote(kept: bytes) -> bytes:
            return kept

    plain = {"quote:" + i: unpack_quote(await store.get("quote:" + i)) for i in ids}  # type: ignore[arg-type]
    return {
        "store_b": held_bytes(store) / len(ids),
        "plain_b": held_bytes(plain) / len(ids),
        "json_b": sum(map(len, plain.values())) / len(plain),  # type: ignore[arg-type]
    }


def held_bytes(holder: object) -> int:
    """The tables a store keeps its entries in, with every key and value object in them, each
    counted once; whatever the store's own layout (the baseline's may differ)."""
    tables = [holder] if isinstance(holder, dict) else [t for t in vars(holder).values() if isinstance(t, dict)]
    seen: set[int] = set()
    total = 0
    for table in tables:
        total += sys.getsizeof(table)
        for obj in (o for kv in table.items() for o in kv):
            if id(obj) not in seen:
                seen.add(id(obj))
                total += sys.getsizeof(obj)
    return total


def run(tree: Path, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(n)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("CARRIER_ROUTER_")}, "PYTHONPATH": str(tree)},
    )
    if out.returncode:
        raise SystemExit(f"{tree}: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--quotes", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--baseline", type=Path, default=None, metavar="DIR")
    parser.add_argument("--measure", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        sys.path.insert(0, str(Path.cwd()))
        print(json.dumps(asyncio.run(measure(args.measure))))
        return
    if args.baseline and not (args.baseline / "router" / "store.py").is_file():
        parser.error(f"{args.baseline} is not a carrier-router checkout")
    n = args.quotes or (5000 if args.quick else 20000)
    repeat = args.repeat or 1
    trees = [("this tree", ROOT)] + ([(f"baseline {args.baseline}", args.baseline)] if args.baseline else [])
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    for _ in range(repeat):
        for name, tree in trees:
            runs[name].append(run(tree, n))
    print("| tree | quotes held | store bytes a quote | its JSON held as is | JSON length |")
    print("|---|---:|---:|---:|---:|")
    for name, results in runs.items():
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        spread = (
            f" ({min(r['store_b'] for r in results):,.0f}-{max(r['store_b'] for r in results):,.0f})"
            if len(results) > 1
            else ""
        )
        print(
            f"| {name} | {n:,} | {med['store_b']:,.0f} B{spread} | "
            f"{med['plain_b']:,.0f} B ({med['store_b'] / med['plain_b']:.2f}×) | {med['json_b']:,.0f} B |"
        )


if __name__ == "__main__":
    main()
