"""Outcome import and the track record's cost on the quote path.

    .venv/bin/python bench/outcomes.py                 # 1,000,000 outcomes, Redis at 127.0.0.1:6379/15
    .venv/bin/python bench/outcomes.py --rows 200000 --quotes 500

1. Import: a CSV of N synthetic outcomes (3 % of ends as coordinates) through the same path as
   `carrier-router outcomes import`, kept in the records (a SQLite file, or `--database-url`)
   and counted into Redis; then the same file again, where every row is a known shipment; then
   into the memory store alone, without the records. Reports rows/s, the Redis memory the track record took and its keys.
2. Quotes: the in-process engine over the demo network with and without the track record
   (demo outcomes imported), interleaved, p50/p99 per quote: on lanes the worker has quoted
   before (the steady state: no store read on the quote path), and on a lane new to the worker
   (one blocking store read).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carriers.registry import load_carriers
from router.core.calendar import add_working_days, is_working_day
from router.core.models import Location, Parcel, Policy, Shipment
from router.core.settings import Settings
from router.history.archive import OutcomeArchive
from router.history.outcome_files import parse_csv
from router.history.outcomes import COLUMNS
from router.history.track_record import TrackRecord
from router.quoting.engine import QuoteEngine
from router.quoting.wiring import bundled_places
from router.records import Database, open_database
from router.store import MemoryStore, RedisStore, Store

CITIES = [
    "Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород",
    "Челябинск", "Самара", "Омск", "Ростов-на-Дону", "Уфа", "Красноярск", "Пермь", "Воронеж",
    "Волгоград", "Краснодар", "Тюмень", "Томск", "Барнаул", "Иркутск",
]  # fmt: skip


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def write_outcomes(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    places = bundled_places()
    resolved = [places.resolve(Location(city=c), "city") for c in CITIES]
    regions = [p.region or f"{p.country}-?" for p in resolved]
    points = [f'"{p.lat:.4f},{p.lon:.4f}"' for p in resolved]
    pairs = [(c.code, s.code) for c in load_carriers(Settings(), None) for s in c.info().services]
    first = date(2026, 1, 12)
    days = [first + timedelta(days=i) for i in range(300) if is_working_day(first + timedelta(days=i))]
    with path.open("w", encoding="utf-8") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i in range(rows):
            carrier, service = rnd.choice(pairs)
            o, d = rnd.randrange(len(CITIES)), rnd.randrange(len(CITIES))
            origin = points[o] if rnd.random() < 0.03 else regions[o]
            destination = points[d] if rnd.random() < 0.03 else regions[d]
            ship = rnd.choice(days)
            promised = add_working_days(ship, 3 + (o + d) % 6)
            roll = rnd.random()
            if roll < 0.004:
                status, delivered = "lost", ""
            elif roll < 0.03:
                status, delivered = "returned", ""
            else:
                status = "damaged" if roll < 0.032 else "delivered"
                delivered = (
                    add_working_days(ship, 2 + (o + d) % 6 + int(rnd.expovariate(1.2))).isoformat() + "T14:00:00+03:00"
                )
            complaint = "yes" if rnd.random() < 0.003 else "no"
            f.write(
                f"b{i},{carrier},{service},{origin},{destination},{ship.isoformat()}T10:00:00+03:00,"
                f"{promised.isoformat()},{delivered},{status},{complaint}\n"
            )


async def timed_import(store: Store, path: Path, records: Database | None = None) -> tuple[float, int, int, int]:
    record = TrackRecord(store, places=bundled_places, archive=OutcomeArchive(records) if records else None)
    started = time.perf_counter()
    with path.open("rb") as f:
        report = await record.record(parse_csv(f))
    return time.perf_counter() - started, report.imported, report.duplicates, report.rejected


def redis_memory(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def drop(url: str, prefix: str) -> int:
    client = redis.Redis.from_url(url)
    n = 0
    for key in client.scan_iter(match=prefix + "*", count=10_000):
        client.delete(key)
        n += 1
    client.close()
    return n


async def bench_import(rows: int, url: str, database_url: str | None) -> None:
    bundled_places()  # built once per process in the service too; not an import cost
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outcomes.csv"
        started = time.perf_counter()
        write_outcomes(path, rows)
        print(
            f"generated {rows:,} outcomes ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        print(f"\n{'import':<34}{'s':>8}{'rows/s':>12}{'imported':>11}{'known':>11}{'rejected':>10}")

        prefix = f"bench:{uuid.uuid4().hex}:"
        before = redis_memory(url)
        store = RedisStore(url, prefix=prefix)
        try:
            async with open_database(database_url or f"sqlite:///{tmp}/records.sqlite3") as records:
                for label in ("records and Redis, new file", "records and Redis, same again"):
                    elapsed, imported, known, rejected = await timed_import(store, path, records)
                    print(
                        f"{label:<34}{elapsed:>8.1f}{rows / elapsed:>12,.0f}{imported:>11,}{known:>11,}{rejected:>10,}"
                    )
                    if label.endswith("new file"):
                        grown = redis_memory(url) - before
        finally:
            await store.close()
            keys = drop(url, prefix)
        print(
            f"  Redis memory for the track record: {grown / 1e6:.1f} MB in {keys:,} keys "
            f"(of which shipment-id digests: 65,536 buckets)"
        )

        elapsed, imported, known, rejected = await timed_import(MemoryStore(), path)
        print(
            f"{'memory store alone, new file':<34}{elapsed:>8.1f}{rows / elapsed:>12,.0f}{imported:>11,}{known:>11,}{rejected:>10,}"
        )


async def bench_quotes(quotes: int, url: str) -> None:
    settings = Settings()
    places = bundled_places()
    carriers = load_carriers(settings, None)
    rnd = random.Random(2)
    shipments = []
    for _ in range(quotes):
        a, b = rnd.sample(CITIES, 2)
        shipments.append(Shipment(Location(city=a), Location(city=b), (Parcel(rnd.randint(200, 8000), 30, 20, 10),)))

    async def run(engine: QuoteEngine, shipment: Shipment) -> float:
        started = time.perf_counter()
        await engine.quote(shipment, Policy())
        return (time.perf_counter() - started) * 1000

    print(f"\n{'quote, per quote (ms)':<44}{'p50':>8}{'p99':>8}{'Δp50':>8}{'Δp99':>8}")
    prefix = f"bench:{uuid.uuid4().hex}:"
    redis_store = RedisStore(url, prefix=prefix)
    try:
        for backend, store in (("memory", MemoryStore()), ("Redis", redis_store)):
            loaded = TrackRecord(store, places=lambda: places)
            with (ROOT / "data" / "demo" / "outcomes.csv").open("rb") as f:
                await loaded.record(parse_csv(f))
            bare = QuoteEngine(carriers, places, settings)
            record = TrackRecord(store)
            warm = QuoteEngine(carriers, places, settings, record=record)
            for s in shipments:  # every lane once: the steady state of a worker that has quoted it before
                await run(warm, s)
            rows: dict[str, list[float]] = {"without": [], "warm": [], "cold": []}
            for s in shipments:
                rows["without"].append(await run(bare, s))
                rows["warm"].append(await run(warm, s))
                # A worker that has never quoted this lane: one blocking store read.
                cold = QuoteEngine(carriers, places, settings, record=TrackRecord(store))
                rows["cold"].append(await run(cold, s))
            await record.close()
            base = (pct(rows["without"], 50), pct(rows["without"], 99))
            print(f"{'without the track record':<44}{base[0]:>8.2f}{base[1]:>8.2f}")
            for mode, label in (("warm", "lane quoted before"), ("cold", "lane new to the worker")):
                got = (pct(rows[mode], 50), pct(rows[mode], 99))
                name = f"with it: {backend}, {label}"
                print(f"{name:<44}{got[0]:>8.2f}{got[1]:>8.2f}{got[0] - base[0]:>8.2f}{got[1] - base[1]:>8.2f}")
    finally:
        await redis_store.close()
        drop(url, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quotes", type=int, default=2000)
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--database-url", default=None, help="records database (default: a SQLite file)")
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    # A synthetic million suspends plenty of carriers; the bench reports figures, not those.
    logging.getLogger("router.history.track_record").setLevel(logging.ERROR)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.skip_import:
        asyncio.run(bench_import(args.rows, args.redis_url, args.database_url))
    asyncio.run(bench_quotes(args.quotes, args.redis_url))


if __name__ == "__main__":
    main()
