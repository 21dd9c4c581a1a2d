"""Quote engine and HTTP API figures, each beside a baseline measured in the same run.

    .venv/bin/python bench/quotes.py            # everything, ~2 minutes
    .venv/bin/python bench/quotes.py --quick    # shorter runs

1. In-process engine time per quote over the demo network (cache miss), against the bare
   carriers called one after another (the work no engine can avoid): the ratio is our overhead.
2. HTTP `POST /v1/quotes` against a running service started here on a free loopback port:
   requests/s, p50 and p99 at 1, 16 and 64 concurrent clients, cache hits and misses.
   The load generator is a separate process on the same two cores, so these are lower bounds;
   it runs on uvloop, as the service does, to take as little of them as it can.
3. One carrier hanging: every answer's latency against the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carriers.registry import load_carriers  # noqa: E402
from router.models import Location, Parcel, Policy, RateRequest, Shipment  # noqa: E402
from router.places import Places  # noqa: E402
from router.quoting import QuoteEngine  # noqa: E402
from router.settings import Settings  # noqa: E402

CITIES = [
    "Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород",
    "Челябинск", "Самара", "Омск", "Ростов-на-Дону", "Уфа", "Красноярск", "Пермь", "Воронеж",
    "Волгоград", "Краснодар", "Тюмень", "Томск", "Барнаул", "Иркутск",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def shipment(rng: random.Random) -> Shipment:
    a, b = rng.sample(CITIES, 2)
    return Shipment(
        Location(city=a),
        Location(city=b),
        (Parcel(rng.randint(100, 20000), rng.randint(10, 60), rng.randint(10, 40), rng.randint(5, 30)),),
        declared_value=Decimal(rng.randint(0, 20000)),
        cod=rng.random() < 0.3,
    )


@dataclass
class Row:
    name: str
    n: int
    p50_ms: float
    p99_ms: float
    rps: float | None = None
    note: str = ""


async def bench_engine(n: int) -> list[Row]:
    settings = Settings()
    places = Places()
    carriers = load_carriers(settings, None)
    engine = QuoteEngine(carriers, places, settings)
    rng = random.Random(7)
    shipments = [shipment(rng) for _ in range(n)]
    for s in shipments[:50]:  # warm caches (holidays per year, zone trees)
        await engine.quote(s, Policy())
    ours, bare = [], []
    for s in shipments:
        t = time.perf_counter()
        await engine.quote(s, Policy())
        ours.append((time.perf_counter() - t) * 1000)
        origin, dest = engine.resolve(s)
        request = RateRequest(s, origin, dest, s.ship_at or datetime.now(timezone.utc))
        t = time.perf_counter()
        for c in carriers:
            await c.quote(request)
        bare.append((time.perf_counter() - t) * 1000)
    ratio = statistics.median(ours) / statistics.median(bare)
    return [
        Row(f"engine quote, {len(carriers)} carriers, miss", n, statistics.median(ours), pct(ours, 99),
            note=f"{ratio:.2f}× the bare carriers"),
        Row("baseline: bare carriers in sequence", n, statistics.median(bare), pct(bare, 99)),
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=15)


async def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(f"the service exited with {proc.returncode}")
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("service did not start")


async def load(url: str, concurrency: int, seconds: float, miss: bool) -> Row:
    rng = random.Random(concurrency)
    base = {
        "origin": {"city": "Москва"},
        "destination": {"city": "Новосибирск"},
        "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
    }
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.monotonic() < stop:
            body = dict(base)
            if miss:  # a never-seen declared value makes a new cache key every time
                body["declared_value"] = f"{next(counter)}.{rng.randint(10, 99)}"
            t = time.perf_counter()
            async with http.post(url + "/v1/quotes", json=body) as r:
                await r.read()
                if r.status not in (200, 201):
                    errors += 1
            latencies.append((time.perf_counter() - t) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=CLIENT_TIMEOUT) as http:
        async with http.post(url + "/v1/quotes", json=base) as r:  # prime the hit path
            await r.read()
        started = time.monotonic()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return Row(
        f"HTTP {'miss' if miss else 'hit'}, {concurrency} clients",
        len(latencies),
        statistics.median(latencies),
        pct(latencies, 99),
        rps=len(latencies) / elapsed,
        note=f"{errors} errors",
    )


async def bench_http(seconds: float) -> list[Row]:
    port = free_port()
    env = {**os.environ, "CARRIER_ROUTER_CACHE_TTL_S": "600"}
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        await wait_up(url, proc)
        for concurrency in (1, 16, 64):
            for miss in (False, True):
                rows.append(await load(url, concurrency, seconds, miss))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    return rows


async def bench_hanging(n: int, deadline_s: float) -> list[Row]:
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.router.fakes import FakeCarrier

    settings = Settings(deadline_s=deadline_s, carrier_timeout_s=deadline_s)
    places = Places()
    carriers = [*load_carriers(settings, None), FakeCarrier("stuck", behaviour="hang")]
    engine = QuoteEngine(carriers, places, settings)
    rng = random.Random(3)
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        quote = await engine.quote(shipment(rng), Policy())
        lat.append((time.perf_counter() - t) * 1000)
        assert quote.offers and quote.errors
    over = max(lat) - deadline_s * 1000
    return [Row(f"one carrier hanging, deadline {deadline_s * 1000:.0f} ms", n, statistics.median(lat),
                pct(lat, 99), note=f"worst {max(lat):.1f} ms = deadline + {over:.1f} ms")]


def table(rows: list[Row]) -> str:
    out = ["| measurement | n | req/s | p50 ms | p99 ms | note |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        rps = f"{r.rps:,.0f}" if r.rps is not None else ""
        out.append(f"| {r.name} | {r.n:,} | {rps} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.note} |")
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = await bench_engine(500 if args.quick else 3000)
    rows += await bench_hanging(10 if args.quick else 30, 0.5)
    rows += await bench_http(3 if args.quick else 10)
    print(table(rows))


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
