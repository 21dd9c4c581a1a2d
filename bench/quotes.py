"""Quote engine and HTTP API figures, each beside a baseline measured in the same run.

    .venv/bin/python bench/quotes.py                          # everything, ~2 minutes
    .venv/bin/python bench/quotes.py --quick                  # shorter runs
    .venv/bin/python bench/quotes.py --baseline /tmp/base     # in-process and HTTP beside another checkout
    .venv/bin/python bench/quotes.py --http-only --hits-only --concurrency 16,64 \
        --redis-url redis://127.0.0.1:6379/14 --baseline /tmp/base   # cache hits, one worker on Redis

1. In-process engine time per quote over the demo network (cache miss), against the bare
   carriers called one after another (the work no engine can avoid): the ratio is our overhead.
2. HTTP `POST /v1/quotes` against a running service started here on a free loopback port:
   requests/s, p50 and p99 at 1, 16 and 64 concurrent clients, cache hits and misses; each
   measured three times (medians reported), taking turns with `--baseline`'s service if given.
   The load generator is a separate process on the same two cores, so these are lower bounds;
   it runs on uvloop, as the service does, to take as little of them as it can. With
   `--redis-url` each service (one worker) keeps its quotes in that Redis, under a prefix of
   its own that is emptied afterwards; without it, in its own memory.
3. One carrier hanging: every answer's latency against the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carriers.registry import load_carriers  # noqa: E402
from router.core.models import Location, Parcel, Policy, RateRequest, Shipment  # noqa: E402
from router.core.settings import Settings  # noqa: E402
from router.quoting.engine import QuoteEngine  # noqa: E402
from router.quoting.places import Places  # noqa: E402

CITIES = [
    "Москва",
    "Санкт-Петербург",
    "Новосибирск",
    "Екатеринбург",
    "Казань",
    "Нижний Новгород",
    "Челябинск",
    "Самара",
    "Омск",
    "Ростов-на-Дону",
    "Уфа",
    "Красноярск",
    "Пермь",
    "Воронеж",
    "Волгоград",
    "Краснодар",
    "Тюмень",
    "Томск",
    "Барнаул",
    "Иркутск",
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
    cpu_us: float | None = None  # the service's CPU per request: what a loaded machine moves least


def cpu_s(pid: int) -> float:
    """User and system CPU of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
        request = RateRequest(s, origin, dest, s.ship_at or datetime.now(UTC))
        t = time.perf_counter()
        for c in carriers:
            await c.quote(request)
        bare.append((time.perf_counter() - t) * 1000)
    ratio = statistics.median(ours) / statistics.median(bare)
    return [
        Row(
            f"engine quote, {len(carriers)} carriers, miss",
            n,
            statistics.median(ours),
            pct(ours, 99),
            note=f"{ratio:.2f}× the bare carriers",
        ),
        Row("baseline: bare carriers in sequence", n, statistics.median(bare), pct(bare, 99)),
    ]


# Run in a checkout's own interpreter, so each tree quotes with its own code and its own bench loop.
_ENGINE_IN = """
import asyncio, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import quotes
rows = asyncio.run(quotes.bench_engine(int(sys.argv[2])))
print(json.dumps([[r.p50_ms, r.p99_ms] for r in rows[:1]]))
"""


def bench_engine_beside(baseline: Path, n: int, repeat: int) -> list[Row]:
    """The in-process quote, this checkout and `baseline` taking turns, each in a fresh process of
    its own venv; the medians of each tree's runs, p99 beside p99."""
    trees = {"this checkout": ROOT, f"baseline {baseline.name}": baseline}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for _ in range(repeat):
        for name, tree in trees.items():
            python = tree / ".venv" / "bin" / "python"
            out = subprocess.run(
                [str(python), "-c", _ENGINE_IN, str(tree), str(n)], capture_output=True, text=True, check=True
            ).stdout
            p50, p99 = json.loads(out.strip().splitlines()[-1])[0]
            runs[name].append((p50, p99))
    rows = []
    for name, measured in runs.items():
        p50 = statistics.median(m[0] for m in measured)
        p99 = statistics.median(m[1] for m in measured)
        spread = ", ".join(f"{m[1]:.2f}" for m in measured)
        rows.append(
            Row(f"engine quote, {name} ({repeat} runs in turn)", n * repeat, p50, p99, note=f"p99 by run {spread} ms")
        )
    ours, theirs = rows
    ours.note += f"; p99 {ours.p99_ms / theirs.p99_ms:.2f}× the baseline's"
    return rows


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


# Never-seen declared values across every run against a service, so a "miss" is never a hit.
_fresh = itertools.count()


async def load(url: str, concurrency: int, seconds: float, miss: bool, pid: int | None = None) -> Row:
    rng = random.Random(concurrency)
    base = {
        "origin": {"city": "Москва"},
        "destination": {"city": "Новосибирск"},
        "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
    }
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.monotonic() < stop:
            body = dict(base)
            if miss:
                body["declared_value"] = f"{next(_fresh)}.{rng.randint(10, 99)}"
            t = time.perf_counter()
            async with http.post(url + "/v1/quotes", json=body) as r:
                await r.read()
                if r.status not in (200, 201):
                    errors += 1
            latencies.append((time.perf_counter() - t) * 1000)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=CLIENT_TIMEOUT) as http:
        async with http.post(url + "/v1/quotes", json=base) as r:  # prime the hit path
            await r.read()
        started, cpu_before = time.monotonic(), cpu_s(pid) if pid else 0.0
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed, cpu = time.monotonic() - started, (cpu_s(pid) - cpu_before if pid else None)
    return Row(
        f"HTTP {'miss' if miss else 'hit'}, {concurrency} clients",
        len(latencies),
        statistics.median(latencies),
        pct(latencies, 99),
        rps=len(latencies) / elapsed,
        note=f"{errors} errors",
        cpu_us=cpu / len(latencies) * 1e6 if cpu is not None and latencies else None,
    )


def combined(name: str, runs: list[Row]) -> Row:
    """Medians over repeated runs: one unlucky second on a shared machine moves a median less than a mean."""
    rates = [r.rps or 0.0 for r in runs]
    errors = sum(int(r.note.split()[0]) for r in runs)
    cpus = [r.cpu_us for r in runs if r.cpu_us is not None]
    cpu = f"; service CPU {statistics.median(cpus):,.0f} µs a request" if cpus else ""
    return Row(
        name,
        sum(r.n for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        rps=statistics.median(rates),
        note=f"{errors} errors; req/s {min(rates):,.0f}–{max(rates):,.0f} over {len(runs)} runs{cpu}",
        cpu_us=statistics.median(cpus) if cpus else None,
    )


def start_service(root: Path, redis_url: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "CARRIER_ROUTER_CACHE_TTL_S": "600"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["CARRIER_ROUTER_REDIS_PREFIX"] = f"bench:{port}:"
    # A checkout with a venv of its own runs on it: its own dependencies, not this one's.
    python = root / ".venv" / "bin" / "python"
    proc = subprocess.Popen(
        [str(python) if python.exists() else sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def empty_prefixes(redis_url: str, urls: list[str]) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        for url in urls:
            prefix = f"bench:{url.rsplit(':', 1)[1]}:"
            for key in client.scan_iter(match=prefix + "*", count=1000):
                client.delete(key)
    finally:
        client.close()


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


async def bench_http(
    seconds: float,
    repeat: int,
    baseline: Path | None,
    redis_url: str | None = None,
    concurrencies: tuple[int, ...] = (1, 16, 64),
    kinds: tuple[bool, ...] = (False, True),
) -> list[Row]:
    """Each measurement `repeat` times; with a baseline checkout, its service takes turns with ours."""
    trees = {"": ROOT, **({f"baseline {baseline.name}: ": baseline} if baseline else {})}
    services = {label: start_service(root, redis_url) for label, root in trees.items()}
    where = " on Redis" if redis_url else ""
    rows = []
    try:
        for proc, url in services.values():
            await wait_up(url, proc)
        for concurrency in concurrencies:
            for miss in kinds:
                runs: dict[str, list[Row]] = {label: [] for label in services}
                for _ in range(repeat):
                    for label, (proc, url) in services.items():
                        runs[label].append(await load(url, concurrency, seconds, miss, proc.pid))
                found = {label: combined(label + runs[label][0].name + where, runs[label]) for label in services}
                if baseline:
                    ours, theirs = found[""], found[f"baseline {baseline.name}: "]
                    ours.note += f"; {(ours.rps or 0) / (theirs.rps or 1):.2f}× the baseline's req/s"
                    if ours.cpu_us and theirs.cpu_us:
                        ours.note += f", {ours.cpu_us / theirs.cpu_us:.2f}× its CPU a request"
                rows += found.values()
    finally:
        for proc, _ in services.values():
            stop_service(proc)
        if redis_url:
            empty_prefixes(redis_url, [url for _, url in services.values()])
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
    return [
        Row(
            f"one carrier hanging, deadline {deadline_s * 1000:.0f} ms",
            n,
            statistics.median(lat),
            pct(lat, 99),
            note=f"worst {max(lat):.1f} ms = deadline + {over:.1f} ms",
        )
    ]


def table(rows: list[Row]) -> str:
    out = ["| measurement | n | req/s | p50 ms | p99 ms | note |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        rps = f"{r.rps:,.0f}" if r.rps is not None else ""
        out.append(f"| {r.name} | {r.n:,} | {rps} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | {r.note} |")
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None, help="runs of each HTTP measurement (default 3; 1 quick)")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="another checkout (e.g. `git worktree add /tmp/base <commit>`): its service is measured in turn with ours",
    )
    parser.add_argument(
        "--redis-url", default=None, help="the services keep their quotes in this Redis (one worker each)"
    )
    parser.add_argument("--http-only", action="store_true", help="only the HTTP measurements")
    parser.add_argument("--hits-only", action="store_true", help="only cache hits over HTTP")
    parser.add_argument("--concurrency", default="1,16,64", help="concurrent HTTP clients, comma-separated")
    args = parser.parse_args()
    # router/cli.py before router/ was split into packages, router/cli/ since.
    cli = args.baseline / "router" / "cli" if args.baseline else None
    if cli is not None and not (cli.is_dir() or cli.with_suffix(".py").is_file()):
        parser.error(f"{args.baseline} is not a carrier-router checkout")
    repeat = args.repeat or (1 if args.quick else 3)
    if not 1 <= repeat <= 10:
        parser.error("--repeat from 1 to 10")
    concurrencies = tuple(int(c) for c in args.concurrency.split(","))
    rows = []
    if not args.http_only:
        rows += await bench_engine(500 if args.quick else 3000)
        if args.baseline:
            rows += bench_engine_beside(args.baseline, 500 if args.quick else 3000, repeat)
        rows += await bench_hanging(10 if args.quick else 30, 0.5)
    kinds = (False,) if args.hits_only else (False, True)
    rows += await bench_http(3 if args.quick else 5, repeat, args.baseline, args.redis_url, concurrencies, kinds)
    print(table(rows))


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
