"""API-carrier figures: ten CDEK-format emulators at 50 ± 20 ms, each baseline measured in the same run.

    .venv/bin/python bench/carriers.py            # everything, ~1.5 minutes
    .venv/bin/python bench/carriers.py --quick    # shorter runs
    .venv/bin/python bench/carriers.py --throughput-only --repeat 5   # the 32-client phase five times

The emulators run in their own processes (`--emulator-procs`, five carriers each by default),
on the bare-asyncio CDEK emulator (`carriers.sandbox.lean`: the same wire format, pricing and
faults as the sandbox's aiohttp app, at a fraction of its CPU; `--emulators aiohttp` for that one);
the service runs as `carrier-router serve` on a free loopback port with a generated carriers
TOML naming the ten; this process is the load generator. All of it shares the machine's cores,
so throughputs are lower bounds. The load generator is test harness, not the system under test:
its clients post over kept-alive connections of their own through a bare asyncio protocol
(`_ClientConnection`, a third of aiohttp's client CPU a quote) and read answers with orjson.

1. Quote latency against the slowest carrier: the engine in this process, with the service's
   adapters and breakers, quoting sequentially; each carrier call is timed, so every quote is
   compared with its own slowest carrier. Then the same through HTTP, one client.
2. Uncached quotes/s through HTTP at 32 concurrent clients (a new declared value every time),
   with the CPU each part of the bench spent a quote and what other work on the machine took
   meanwhile (from /proc/stat), as the machine is shared; `--repeat N` runs it N times in a
   row and gives the median run (of an odd N) and the spread.
3. One carrier hanging: every quote's latency while its breaker is still closed (each waits out
   the deadline) and after it opens (the carrier is not asked; its last good answer may show).
4. Token requests per 1,000 quotes, counted by the emulators, against a client that fetches a
   token for every call, as the carrier's reference proxy does, run here for the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datetime import UTC

from carriers.api import Secret  # noqa: E402
from carriers.cdek.carrier import CdekCarrier  # noqa: E402
from carriers.cdek.client import CdekClient  # noqa: E402
from carriers.registry import load_carriers  # noqa: E402
from router.core.models import CarrierInfo, CarrierQuote, Location, Parcel, Policy, RateRequest, Shipment  # noqa: E402
from router.core.settings import Settings  # noqa: E402
from router.quoting.breaker import guard_carriers  # noqa: E402
from router.quoting.engine import QuoteEngine  # noqa: E402
from router.quoting.last_good import LastGood  # noqa: E402
from router.quoting.places import Places  # noqa: E402
from router.store import MemoryStore  # noqa: E402

CARRIERS = 10
LATENCY_MS, JITTER_MS = 50.0, 20.0
DEADLINE_S = 1.0
# Few enough that the machine is not saturated, so the latencies show the engine, not a queue.
HANG_CLIENTS = 4
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
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- the emulators' own process


async def serve_emulators(first: int, count: int, seed: int, kind: str) -> None:
    from aiohttp import web

    from carriers.sandbox.cdek import create_cdek_app
    from carriers.sandbox.faults import Faults, SandboxState
    from carriers.sandbox.lean import start_lean_cdek

    runners, leans, states, listening = [], [], [], []
    for i in range(first, first + count):
        state = SandboxState(seed + i)
        state.set_faults(Faults(latency_ms=LATENCY_MS, jitter_ms=JITTER_MS))
        client_id, client_secret = f"bench-{i}", secrets.token_urlsafe(12)
        if kind == "lean":
            lean = await start_lean_cdek(client_id, client_secret, state=state)
            leans.append(lean)
            url = f"http://127.0.0.1:{lean.port}"
        else:
            runner = web.AppRunner(
                create_cdek_app(client_id, client_secret, state=state), access_log=None, shutdown_timeout=1.0
            )
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            url = f"http://{host}:{port}"
            runners.append(runner)
        listening.append({"url": url, "client_id": client_id, "client_secret": client_secret})
        states.append(state)
    print(json.dumps(listening), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for state in states:
        state.release.set()
    for lean in leans:
        await lean.close()
    for runner in runners:
        await runner.cleanup()


@dataclass
class Emulators:
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    endpoints: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def start(cls, procs: int, kind: str = "lean") -> Emulators:
        emulators = cls()
        per = -(-CARRIERS // procs)
        for first in range(0, CARRIERS, per):
            proc = subprocess.Popen(
                [sys.executable, __file__, "--serve-emulators", str(first), str(min(per, CARRIERS - first)), kind],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            emulators.procs.append(proc)
            assert proc.stdout is not None
            emulators.endpoints += json.loads(proc.stdout.readline())
        return emulators

    def config(self, directory: Path) -> tuple[Path, dict[str, str]]:
        """The carriers TOML naming every emulator, and the environment holding their credentials."""
        lines, env = [], {}
        for i, e in enumerate(self.endpoints, start=1):
            env[f"BENCH_CDEK{i}_ID"], env[f"BENCH_CDEK{i}_SECRET"] = e["client_id"], e["client_secret"]
            lines += [
                "[[carriers]]",
                'kind = "cdek"',
                f'code = "cdek{i}"',
                f'name = "CDEK-format emulator {i}"',
                f'base_url = "{e["url"]}"',
                f'client_id_env = "BENCH_CDEK{i}_ID"',
                f'client_secret_env = "BENCH_CDEK{i}_SECRET"',
                f"timeout_s = {DEADLINE_S}",
                "tariffs = [136, 137, 139, 368]",
                "",
            ]
        path = directory / "bench-carriers.toml"
        path.write_text("\n".join(lines))
        return path, env

    async def tokens(self, http: aiohttp.ClientSession) -> int:
        total = 0
        for e in self.endpoints:
            async with http.get(e["url"] + "/_sandbox/stats") as r:
                total += (await r.json())["token_requests"]
        return total

    async def calculator_requests(self, http: aiohttp.ClientSession) -> list[int]:
        """Calculator calls each emulator has answered so far."""
        counts = []
        for e in self.endpoints:
            async with http.get(e["url"] + "/_sandbox/stats") as r:
                counts.append((await r.json())["requests"].get("/v2/calculator/tarifflist", 0))
        return counts

    async def fault(self, http: aiohttp.ClientSession, index: int, body: dict[str, Any] | None) -> None:
        url = self.endpoints[index]["url"] + "/_sandbox/faults"
        async with http.post(url, json=body) if body else http.delete(url) as r:
            assert r.status == 200, await r.text()

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=10)


# ---------------------------------------------------------------- load


# The hanging-carrier run asks for these lanes only, all quoted once beforehand, so a carrier
# that fails has a last good answer to show for them.
LANES = [("Москва", "Казань"), ("Москва", "Новосибирск"), ("Санкт-Петербург", "Екатеринбург"), ("Самара", "Пермь")]


def lane_body(rng: random.Random, n: int) -> dict[str, Any]:
    a, b = LANES[n % len(LANES)]
    return {
        "origin": {"city": a},
        "destination": {"city": b},
        "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
        # New every time (no cached quote), always in the same declared-value band (same lane).
        "declared_value": f"{1000 + n % 1000}.{rng.randint(10, 99)}",
    }


def body(rng: random.Random, n: int) -> dict[str, Any]:
    a, b = rng.sample(CITIES, 2)
    return {
        "origin": {"city": a},
        "destination": {"city": b},
        "parcels": [
            {
                "weight_g": rng.randint(200, 15000),
                "length_cm": rng.randint(10, 50),
                "width_cm": rng.randint(10, 40),
                "height_cm": rng.randint(5, 30),
            }
        ],
        # A never-seen declared value: a new quote-cache key every time.
        "declared_value": f"{n}.{rng.randint(10, 99)}",
    }


@dataclass
class Sample:
    """One answer, reduced to what the rows need: whole quotes kept by the thousand would make
    this process's garbage collector pause for longer than the latencies it is timing."""

    at: float
    ms: float
    status: int
    errors: list[dict[str, Any]] | None  # the quote's carrier errors; None for a non-2xx
    stale: bool = False  # some offer was a last good answer


def sample(at: float, ms: float, status: int, raw: bytes) -> Sample:
    if status not in (200, 201):
        return Sample(at, ms, status, None)
    quote = orjson.loads(raw)
    return Sample(at, ms, status, quote["errors"], any(o.get("stale") for o in quote["offers"]))


class _ClientConnection(asyncio.Protocol):
    """One kept-alive connection of the load generator: a request out, its whole answer back.

    It reads only what the service sends (a status line, headers, a Content-Length body) and
    fails loudly on anything else; aiohttp's client did the same job at three to four times
    the CPU a quote, on the cores the service is measured on."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._buffer = bytearray()
        self._status = 0
        self._body_at = -1  # where the current answer's body starts, once its head is in
        self._length = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError(f"the service closed the connection: {exc}"))

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if self._body_at < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(buffer[:end]).split(b"\r\n")
            self._status = int(lines[0].split(b" ", 2)[1])
            length = None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                self._fail(f"an answer without Content-Length: {lines[0]!r}")
                return
            self._body_at, self._length = end + 4, length
        end = self._body_at + self._length
        if len(buffer) < end:
            return
        body = bytes(buffer[self._body_at : end])
        if len(buffer) > end:
            self._fail("bytes past the answer")
            return
        buffer.clear()
        self._body_at = -1
        assert self.answer is not None
        self.answer.set_result((self._status, body))

    def _fail(self, why: str) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.close()

    def post(self, head: bytes, body: bytes) -> asyncio.Future[tuple[int, bytes]]:
        if self.transport is None:
            raise ConnectionError("connection closed")
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.answer


async def load(
    url: str,
    concurrency: int,
    done: Callable[[int], bool],
    seed: int,
    make: Callable[[random.Random, int], dict[str, Any]] = body,
) -> tuple[list[Sample], float]:
    """Closed-loop clients posting new quotes until `done(quotes so far)`, each on a kept-alive
    connection of its own (`_ClientConnection`)."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    numbers = iter(range(seed * 10**6, 10**9))
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"POST /v1/quotes HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n".encode()
    loop = asyncio.get_running_loop()

    async def client() -> None:
        _, conn = await loop.create_connection(_ClientConnection, host, port)
        try:
            while not done(len(samples)):
                payload = orjson.dumps(make(rng, next(numbers)))
                started = time.perf_counter()
                status, raw = await conn.post(head, payload)
                ms = (time.perf_counter() - started) * 1000
                samples.append(sample(time.monotonic(), ms, status, raw))
        finally:
            if conn.transport is not None:
                conn.transport.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return samples, time.monotonic() - started


def for_seconds(seconds: float) -> Callable[[int], bool]:
    stop = time.monotonic() + seconds
    return lambda _: time.monotonic() >= stop


def for_quotes(count: int) -> Callable[[int], bool]:
    return lambda n: n >= count


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("service did not start")


# ---------------------------------------------------------------- measurements


@dataclass
class Row:
    name: str
    n: int
    p50_ms: float | None
    p99_ms: float | None
    rps: float | None = None
    target: str = ""
    note: str = ""


class Timed:
    """A carrier whose every call is timed into the current quote's list."""

    def __init__(self, carrier: Any, calls: list[float]) -> None:
        self._carrier = carrier
        self._calls = calls
        self.code = carrier.code
        self.remote: bool = carrier.remote

    def info(self) -> CarrierInfo:
        return self._carrier.info()  # type: ignore[no-any-return]

    async def quote(self, request: RateRequest) -> CarrierQuote:
        started = time.perf_counter()
        try:
            return await self._carrier.quote(request)  # type: ignore[no-any-return]
        finally:
            self._calls.append((time.perf_counter() - started) * 1000)

    def quote_sync(self, request: RateRequest) -> None:
        return None  # every call goes through `quote`, to be timed

    def close(self) -> None:
        self._carrier.close()


async def bench_slowest(settings: Settings, n: int) -> list[Row]:
    places = Places()
    rng = random.Random(11)
    calls: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, limit_per_host=20)) as http:
        store = MemoryStore()
        carriers = [Timed(c, calls) for c in guard_carriers(load_carriers(settings, http), store)]
        engine = QuoteEngine(carriers, places, settings, last_good=LastGood(store))
        quotes, slowest, over = [], [], []
        for i in range(n + 20):
            a, b = rng.sample(CITIES, 2)
            shipment = Shipment(
                Location(city=a),
                Location(city=b),
                (Parcel(rng.randint(200, 15000), 30, 20, 10),),
                declared_value=Decimal(rng.randint(0, 20000)),
            )
            calls.clear()
            started = time.perf_counter()
            quote = await engine.quote(shipment, Policy())
            ms = (time.perf_counter() - started) * 1000
            if i < 20 or quote.errors:  # warm-up: tokens, connections, holiday tables
                continue
            quotes.append(ms)
            slowest.append(max(calls))
            over.append(ms - max(calls))
    return [
        Row("slowest of the 10 carriers, per quote", len(slowest), statistics.median(slowest), pct(slowest, 99)),
        Row(
            "engine quote, 10 API carriers, in process",
            len(quotes),
            statistics.median(quotes),
            pct(quotes, 99),
            target="p99 ≤ slowest p99 + 10 ms",
            note=f"p99 − slowest p99 = {pct(quotes, 99) - pct(slowest, 99):+.1f} ms; "
            f"per quote over its own slowest: p50 {statistics.median(over):.2f}, p99 {pct(over, 99):.2f} ms",
        ),
    ]


async def bench_tokens_baseline(endpoint: dict[str, str], settings: Settings, n: int) -> Row:
    class TokenPerCall(CdekClient):
        async def _bearer(self) -> str:
            token, _ = await self._fetch_token()
            return token

    places = Places()
    async with aiohttp.ClientSession() as http:
        args = dict(
            client_id=Secret(endpoint["client_id"]),
            client_secret=Secret(endpoint["client_secret"]),
            base_url=endpoint["url"],
        )
        proxy = TokenPerCall(http, **args)  # type: ignore[arg-type]
        ours = CdekClient(http, **args)  # type: ignore[arg-type]
        shipment = Shipment(Location(city="Москва"), Location(city="Казань"), (Parcel(1200, 30, 20, 10),))
        origin, destination = (
            places.resolve(shipment.origin, "origin"),
            places.resolve(shipment.destination, "destination"),
        )
        from datetime import datetime

        request = RateRequest(shipment, origin, destination, datetime.now(UTC))
        for client in (proxy, ours):
            carrier = CdekCarrier(client, timeout_s=settings.carrier_timeout_s)
            await asyncio.gather(*(carrier.quote(request) for _ in range(n)))
    return Row(
        "baseline: a token fetched for every call",
        n,
        None,
        None,
        note=f"{proxy.token_requests / n * 1000:,.0f} token requests per 1,000 quotes "
        f"(the cached client, same {n} quotes: {ours.token_requests})",
    )


def latency_row(
    name: str, samples: list[Sample], elapsed: float | None = None, target: str = "", note: str = ""
) -> Row:
    ms = [s.ms for s in samples]
    bad = sum(1 for s in samples if s.status not in (200, 201))
    partial = sum(1 for s in samples if s.errors)
    extra = f"{bad} non-2xx, {partial} with carrier errors" + (f"; {note}" if note else "")
    return Row(
        name,
        len(ms),
        statistics.median(ms),
        pct(ms, 99),
        rps=len(ms) / elapsed if elapsed else None,
        target=target,
        note=extra,
    )


def carrier_error(s: Sample, carrier: str) -> dict[str, Any] | None:
    return next((e for e in s.errors or () if e["carrier"] == carrier), None)


async def breaker_state(http: aiohttp.ClientSession, url: str, carrier: str) -> str | None:
    async with http.get(url + "/v1/carriers") as r:
        listed = (await r.json())["carriers"]
    return next(c["health"]["breaker"] for c in listed if c["code"] == carrier)


async def bench_hanging(url: str, emulators: Emulators, seconds: float) -> list[Row]:
    """Hang cdek1; load until its breaker opens (half the calls of a sliding 5 s window), then on."""
    await load(url, 1, for_quotes(len(LANES)), seed=4, make=lane_body)
    async with aiohttp.ClientSession() as http:
        await emulators.fault(http, 0, {"hang": True})
        opened = asyncio.Event()

        async def watch() -> None:
            while await breaker_state(http, url, "cdek1") != "open":
                await asyncio.sleep(0.2)
            opened.set()

        watcher = asyncio.create_task(watch())
        hang_started = time.monotonic()
        closed, _ = await load(
            url, HANG_CLIENTS, lambda _: opened.is_set() or time.monotonic() - hang_started > 60, seed=5, make=lane_body
        )
        took = time.monotonic() - hang_started
        watcher.cancel()
        after, _ = await load(url, HANG_CLIENTS, for_seconds(seconds), seed=6, make=lane_body)
        await emulators.fault(http, 0, {"latency_ms": LATENCY_MS, "jitter_ms": JITTER_MS})
    waited = [s for s in closed if (e := carrier_error(s, "cdek1")) and e["kind"] == "timeout"]
    turned_away = [s for s in after if (e := carrier_error(s, "cdek1")) and "circuit open" in e["message"]]
    stale = sum(1 for s in turned_away if s.stale)
    return [
        latency_row(
            "cdek1 hanging, breaker closed: quotes wait out the deadline",
            waited,
            target=f"p99 ≤ deadline + 50 ms = {DEADLINE_S * 1000 + 50:.0f} ms",
            note=f"{HANG_CLIENTS} clients; the breaker opened after {took:.1f} s",
        ),
        latency_row(
            "cdek1 hanging, breaker open: not asked",
            turned_away,
            target="p99 < 100 ms",
            note=f"{HANG_CLIENTS} clients; {stale} showed cdek1's last good answer, marked stale",
        ),
    ]


def cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (the workers under `serve --workers N`)."""
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found += process_tree(int(child))
    return found


def machine_cpu_s() -> tuple[float, float]:
    """CPU seconds the whole machine has spent busy, and those the hypervisor took (steal), so far."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


@dataclass
class Run:
    """One 32-client phase: its answers and what each part of the bench spent on them."""

    samples: list[Sample]
    elapsed_s: float
    cpu_s: dict[str, float]  # by part: service, emulators, load generator
    other_cores: float  # cores kept busy by work outside the bench in the meantime
    steal_cores: float  # cores the hypervisor gave to someone else

    @property
    def rps(self) -> float:
        return len(self.samples) / self.elapsed_s

    def ms_per_quote(self, part: str) -> float:
        return self.cpu_s[part] / len(self.samples) * 1000


async def throughput_run(url: str, pids: dict[str, list[int]], emulators: Emulators, seconds: float, seed: int) -> Run:
    async with aiohttp.ClientSession() as http:
        asked_before = await emulators.calculator_requests(http)
    before = {role: sum(cpu_s(p) for p in ps) for role, ps in pids.items()}
    load_before = time.process_time()
    machine_before, steal_before = machine_cpu_s()
    samples, elapsed = await load(url, 32, for_seconds(seconds), seed=seed)
    used = {role: sum(cpu_s(p) for p in ps) - before[role] for role, ps in pids.items()}
    used["load generator"] = time.process_time() - load_before
    machine, steal = machine_cpu_s()
    async with aiohttp.ClientSession() as http:
        asked = [a - b for a, b in zip(await emulators.calculator_requests(http), asked_before, strict=False)]
    # Uncached means every quote asked every carrier: each emulator counts its own calls.
    answered = sum(1 for s in samples if s.status in (200, 201))
    if min(asked) < answered:
        raise SystemExit(f"an emulator answered {min(asked)} calculator calls for {answered} quotes: not uncached")
    other = max(0.0, machine - machine_before - sum(used.values())) / elapsed
    run = Run(samples, elapsed, used, other, (steal - steal_before) / elapsed)
    print(
        f"32 clients: {run.rps:.0f} quotes/s; CPU ms a quote: "
        + ", ".join(f"{part} {run.ms_per_quote(part):.2f}" for part in used)
        + f"; other work {run.other_cores:.2f} cores, steal {run.steal_cores:.2f}",
        file=sys.stderr,
        flush=True,
    )
    return run


def throughput_rows(runs: list[Run]) -> list[Row]:
    """The median run as the row, and with several runs one more row giving their spread."""
    ranked = sorted(runs, key=lambda r: r.rps)
    median = ranked[(len(ranked) - 1) // 2]
    per_quote = ", ".join(f"{part} {median.ms_per_quote(part):.1f}" for part in median.cpu_s)
    answered = sum(1 for s in median.samples if s.status in (200, 201))
    rows = [
        latency_row(
            "HTTP quote, 32 clients, uncached" + (f" (median of {len(runs)} runs)" if len(runs) > 1 else ""),
            median.samples,
            median.elapsed_s,
            target="≥ 300 quotes/s",
            note=f"CPU ms per quote: {per_quote}; the bench's processes kept {sum(median.cpu_s.values()) / median.elapsed_s:.2f} "
            f"of 2 cores busy, other work {median.other_cores:.2f} (steal {median.steal_cores:.2f}); "
            f"every emulator answered a calculator call for each of the {answered:,} quotes",
        )
    ]
    if len(runs) > 1:
        rps = [r.rps for r in runs]
        service = [r.ms_per_quote("service") for r in runs]
        rows.append(
            Row(
                f"HTTP quote, 32 clients, uncached: {len(runs)} runs in a row",
                sum(len(r.samples) for r in runs),
                None,
                None,
                rps=statistics.median(rps),
                target="≥ 300 quotes/s in every run",
                note=f"quotes/s {min(rps):,.0f} to {max(rps):,.0f} ({', '.join(f'{x:,.0f}' for x in rps)}); "
                f"service CPU ms a quote {min(service):.2f} to {max(service):.2f}; "
                f"{sum(x >= 300 for x in rps)} of {len(runs)} runs at 300/s or more",
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    def ms(v: float | None) -> str:
        return "" if v is None else f"{v:.1f}"

    out = ["| measurement | n | quotes/s | p50 ms | p99 ms | target | note |", "|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        rps = f"{r.rps:,.0f}" if r.rps is not None else ""
        out.append(f"| {r.name} | {r.n:,} | {rps} | {ms(r.p50_ms)} | {ms(r.p99_ms)} | {r.target} | {r.note} |")
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--emulator-procs", type=int, default=2)
    parser.add_argument(
        "--emulators",
        choices=("lean", "aiohttp"),
        default="lean",
        help="lean: the bare-asyncio emulator (carriers.sandbox.lean); aiohttp: the sandbox's own app",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run the 32-client phase N times in a row; the table gives the median run and the spread",
    )
    parser.add_argument("--throughput-only", action="store_true", help="only the 32-client phase (with its warm-up)")
    parser.add_argument(
        "--workers", type=int, default=1, help="service workers; with more than one, a redis-server of its own"
    )
    args = parser.parse_args()
    seconds = 4.0 if args.quick else 10.0
    load_at_start = os.getloadavg()[0]  # other work on the machine shows in every figure
    emulators = Emulators.start(args.emulator_procs, args.emulators)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        config, credentials = emulators.config(Path(tmp))
        os.environ.update(credentials)
        settings = Settings(config_path=config, deadline_s=DEADLINE_S, carrier_timeout_s=DEADLINE_S)
        proc = None
        redis_port: int | None = None
        try:
            if not args.throughput_only:
                rows += await bench_slowest(settings, 100 if args.quick else 300)
            port = free_port()
            env = {
                **os.environ,
                "CARRIER_ROUTER_CONFIG": str(config),
                "CARRIER_ROUTER_DEADLINE_S": str(DEADLINE_S),
                "CARRIER_ROUTER_CARRIER_TIMEOUT_S": str(DEADLINE_S),
                "CARRIER_ROUTER_STATE": tmp,  # no API keys: the open loopback service
            }
            env.pop("REDIS_URL", None)
            if args.workers > 1:
                redis_port = free_port()
                subprocess.run(
                    [
                        "redis-server",
                        "--port",
                        str(redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "yes",
                        "--dir",
                        tmp,
                        "--pidfile",
                        f"{tmp}/redis.pid",
                    ],
                    check=True,
                    capture_output=True,
                )
                env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            proc = subprocess.Popen(
                [sys.executable, "-m", "router.cli", "serve", "--port", str(port), "--workers", str(args.workers)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
            await wait_up(url)
            async with aiohttp.ClientSession() as http:
                tokens_before = await emulators.tokens(http)
            warm, _ = await load(url, 4, for_quotes(40), seed=1)
            one: list[Sample] = []
            if not args.throughput_only:
                one, _ = await load(url, 1, for_quotes(100 if args.quick else 300), seed=2)
                rows.append(
                    latency_row(
                        "HTTP quote, 1 client, uncached",
                        one,
                        target="p99 ≤ slowest p99 + 10 ms (in-process figure above)",
                    )
                )
            pids = {"service": process_tree(proc.pid), "emulators": [p.pid for p in emulators.procs]}
            runs = [
                await throughput_run(url, pids, emulators, seconds, seed=3 if i == 0 else 10 + i)
                for i in range(args.repeat)
            ]
            rows += throughput_rows(runs)
            async with aiohttp.ClientSession() as http:
                tokens = await emulators.tokens(http) - tokens_before
            quoted = len(warm) + len(one) + sum(len(r.samples) for r in runs)
            rows.append(
                Row(
                    "token requests per 1,000 quotes, per carrier",
                    quoted,
                    None,
                    None,
                    target="1 (vs 1,000)",
                    note=f"{tokens / CARRIERS / quoted * 1000:.2f}: {tokens} token requests by the service "
                    f"for {quoted:,} quotes to {CARRIERS} carriers, one per carrier per token lifetime "
                    f"(an hour in the sandbox) and worker ({args.workers})",
                )
            )
            if not args.throughput_only:
                rows += await bench_hanging(url, emulators, seconds)
                rows.append(await bench_tokens_baseline(emulators.endpoints[1], settings, 100 if args.quick else 200))
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=20)
            if redis_port is not None:
                subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], capture_output=True)
            emulators.stop()
    print(
        f"{CARRIERS} CDEK-format emulators at {LATENCY_MS:.0f} ± {JITTER_MS:.0f} ms, deadline {DEADLINE_S * 1000:.0f} ms, "
        f"{os.cpu_count()} cores; load average before/after {load_at_start:.2f}/{os.getloadavg()[0]:.2f}\n"
    )
    print(table(rows))


if __name__ == "__main__":
    # uvloop, as the service serves on it: the emulators and the load generator share its cores.
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-emulators":
        uvloop.run(serve_emulators(int(sys.argv[2]), int(sys.argv[3]), seed=7, kind=sys.argv[4]))
    else:
        uvloop.run(main())
