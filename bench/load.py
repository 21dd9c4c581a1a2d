"""Load and fault runs against a real `carrier-router serve`, each fault phase beside the calm
phase before it in the same run.

    .venv/bin/python bench/load.py                       # the default scenarios, about 8 minutes
    .venv/bin/python bench/load.py --quick               # the same, short phases: about 2.5 minutes
    .venv/bin/python bench/load.py steady redis-outage   # some of them

Scenarios (64 concurrent clients unless `--clients`):

steady          the demo network as `carrier-router serve` runs it (one process, quotes in memory):
                mostly cache misses (varied cities, weights, values), some cache hits, some
                `GET /v1/quotes/{id}`, some `GET /v1/pickup-points`. One client alone first (the
                baseline), then 60 s closed loop (64 clients back to back), then 60 s open loop
                (`--rate` requests a second arriving at random, at most 64 in flight). Errors,
                p50/p99, requests/s, and the service's RSS at start, after warm-up and at the end.
steady-workers  the same against `serve --workers 2` on a Redis of this run: two cores, two workers.
steady-redis    (not in the default set) one process on a Redis of this run.
redis-outage    `--redis-url` at a Redis started here on a free port; mid-run it is stopped for
                10 s and started again. Failed quotes, and whether quotes made before the outage
                (and during it) are still served, byte for byte, once it is back.
carrier-hanging `serve --sandbox` with the CDEK emulator told to hang: every quote's latency
                against the deadline, and the other carriers' offers still in every answer.
worker-restart  `serve --workers 2` on that Redis; one worker is killed with SIGKILL mid-run
                and the supervisor starts another: failed requests, and quotes made before the
                kill still served.

Traffic goes to 127.0.0.1 only. Every request loop stops at its phase's end or after a fixed
number of requests, whichever comes first; every wait has a bound, and each scenario is cut off
at twice its nominal length plus two minutes. The service and each Redis run in their own process
groups, are ended on the way out (Ctrl-C, SIGTERM, SIGHUP or an error included) and get SIGTERM
from the kernel if this process dies without a word (Linux). The Redis is this run's own, never the
machine's shared one on 6379. The load generator is a separate process on the same cores as the
service, so the figures are lower bounds. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import ctypes
import gc
import ipaddress
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import aiohttp
import orjson
import uvloop

ROOT = Path(__file__).resolve().parent.parent
SHARED_REDIS_PORT = 6379
# Far above what two cores can serve: a ceiling that stops a loop even if the clock misbehaves.
MAX_RPS = 20_000
CLIENT_TIMEOUT_S = 15.0
DEADLINE_S = 2.0  # Settings.deadline_s, the whole fan-out
DEADLINE_SLACK_MS = 50.0

# (city, lat, lon): quote ends, and where the pickup-point lookups are centred.
CITIES = [
    ("Москва", 55.7558, 37.6173),
    ("Санкт-Петербург", 59.9386, 30.3141),
    ("Новосибирск", 55.0084, 82.9357),
    ("Екатеринбург", 56.8389, 60.6057),
    ("Казань", 55.7887, 49.1221),
    ("Нижний Новгород", 56.3269, 44.0059),
    ("Челябинск", 55.1644, 61.4368),
    ("Самара", 53.2001, 50.15),
    ("Омск", 54.9885, 73.3242),
    ("Ростов-на-Дону", 47.2357, 39.7015),
    ("Уфа", 54.7388, 55.9721),
    ("Красноярск", 56.0153, 92.8932),
    ("Пермь", 58.0105, 56.2502),
    ("Воронеж", 51.672, 39.1843),
    ("Волгоград", 48.708, 44.5133),
    ("Краснодар", 45.0355, 38.9753),
    ("Тюмень", 57.1522, 65.5272),
    ("Томск", 56.4977, 84.9744),
    ("Барнаул", 53.3606, 83.7636),
    ("Иркутск", 52.2978, 104.2964),
]
MIX = {"quote-miss": 60, "quote-hit": 15, "get-quote": 15, "pickup-points": 10}
HOT_BODIES = 8
MAX_BACKLOG = 10_000


# ---------------------------------------------------------------- figures


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Sample(NamedTuple):
    """A tuple of atoms, which the collector stops tracking: a run keeps hundreds of thousands."""

    phase: str
    kind: str
    ms: float
    error: str | None  # None when the answer was the expected one


@dataclass
class Row:
    name: str
    n: int
    errors: int
    rps: float | None
    p50_ms: float
    p99_ms: float
    max_ms: float
    note: str = ""


@dataclass
class Check:
    name: str
    target: str
    measured: str
    ok: bool | None  # None: reported, no target


def rows_for(scenario: str, samples: list[Sample], phases: list[tuple[str, float]], note: dict[str, str]) -> list[Row]:
    rows = []
    for phase, seconds in phases:
        mine = [s for s in samples if s.phase == phase]
        if not mine:
            continue
        lat = [s.ms for s in mine]
        errors = Counter(s.error for s in mine if s.error)
        detail = ", ".join(f"{n} {e}" for e, n in errors.most_common(4))
        rows.append(
            Row(
                f"{scenario} · {phase}",
                len(mine),
                sum(errors.values()),
                len(mine) / seconds if seconds > 0 else None,
                pct(lat, 50),
                pct(lat, 99),
                max(lat),
                "; ".join(x for x in (note.get(phase, ""), detail) if x),
            )
        )
    return rows


def table(rows: list[Row]) -> str:
    out = [
        "| scenario · phase | requests | errors | req/s | p50 ms | p99 ms | max ms | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        rps = f"{r.rps:,.0f}" if r.rps is not None else ""
        out.append(
            f"| {r.name} | {r.n:,} | {r.errors:,} | {rps} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.note} |"
        )
    return "\n".join(out)


def check_table(checks: list[Check]) -> str:
    out = ["| check | target | measured | |", "|---|---|---|---|"]
    mark = {True: "✓", False: "✗", None: ""}
    out += [f"| {c.name} | {c.target} | {c.measured} | {mark[c.ok]} |" for c in checks]
    return "\n".join(out)


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    assert port != SHARED_REDIS_PORT
    return port


def loopback_only(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if not ipaddress.ip_address(host).is_loopback:
        raise SystemExit(f"refusing to send load to {host}: loopback only")
    return url


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo and len(pids) < 256:
        p = todo.pop()
        pids.append(p)
        todo += children(p)
    return pids


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def listeners(port: int) -> int:
    """Sockets listening on `port` (SO_REUSEPORT lets several workers hold one)."""
    count = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        count += 1
        except OSError:
            pass
    return count


_PR_SET_PDEATHSIG = 1
_started: list[subprocess.Popen[bytes]] = []  # every process this run started, each the leader of its own group


def _die_with_us() -> None:
    """In the child before exec: SIGTERM when this run's process dies, even by SIGKILL (Linux)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """A child in its own process group (its workers too), tied to this process's life.

    Started from the main thread only: the kernel's parent-death signal follows the thread that
    forked, and a pool thread may end before the run does."""
    assert threading.current_thread() is threading.main_thread()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_us,
        )
    _started.append(proc)
    return proc


def end_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM, up to `grace_s` to finish, then SIGKILL to whatever is left of its group; never waits unbounded."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # workers and helpers that outlived their leader
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        print(f"process {proc.pid} did not exit after SIGKILL", file=sys.stderr)


def reap_all() -> None:
    """Every group this run started, ended: on the way out of main, and at exit after a second Ctrl-C."""
    while _started:
        proc = _started.pop()
        end_group(proc, grace_s=0 if proc.poll() is not None else 5)


class Service:
    """`carrier-router serve` in its own process group, with a private state directory (no keys: open on loopback).

    `tree`: serve another checkout's code (the tree before a change) with this venv; `state`: a
    state directory prepared beforehand (keys created in it); `env`: more environment (DATABASE_URL)."""

    def __init__(
        self,
        workdir: Path,
        *flags: str,
        tree: Path = ROOT,
        state: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = loopback_only(f"http://127.0.0.1:{self.port}")
        self.log_path = workdir / f"serve-{self.port}.log"
        if state is None:
            state = workdir / f"state-{self.port}"
            state.mkdir()
        self.state = state
        environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL" and not k.startswith("CARRIER_ROUTER_")}
        environ.update(env or {})
        environ["CARRIER_ROUTER_STATE"] = str(state)
        if tree != ROOT:
            environ["PYTHONPATH"] = str(tree)
        self.proc = spawn(
            [sys.executable, "-m", "router.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port), *flags],
            self.log_path,
            environ,
            cwd=tree,
        )
        self.pid = self.proc.pid

    def pids(self) -> list[int]:
        return tree(self.pid)

    def workers(self) -> list[int]:
        return [p for p in children(self.pid) if "spawn_main" in cmdline(p)]

    def rss_mb(self) -> float:
        return sum(rss_kb(p) for p in self.pids()) / 1024

    async def held_mb(self) -> float | None:
        """What the service's memory store holds, by its own count (`/healthz`); None on Redis."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            async with http.get(self.url + "/healthz") as r:
                memory = (await r.json())["store"].get("memory")  # None also from a service before it said
        return None if memory is None else memory["bytes"] / 1024 / 1024

    async def wait_up(self, listening: int = 1, within_s: float = 90.0) -> None:
        stop = time.monotonic() + within_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < stop:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the service exited with {self.proc.returncode}; see {self.log_path}")
                if listeners(self.port) >= listening:
                    try:
                        async with http.get(self.url + "/healthz") as r:
                            if r.status == 200:
                                return
                    except (aiohttp.ClientError, TimeoutError):
                        pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the service did not answer within {within_s:.0f} s; see {self.log_path}")

    def log_lines(self, msg: str) -> list[dict[str, object]]:
        found = []
        for raw in self.log_path.read_bytes().splitlines():
            if raw.startswith(b"{"):
                try:
                    entry = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if entry.get("msg") == msg:
                    found.append(entry)
        return found

    def served_ms(self, method: str | None, route: str | None, since: float, until: float) -> list[float]:
        """The service's own time for each request it logged between two wall-clock moments (None: any)."""
        found = []
        for entry in self.log_lines("request"):
            if method in (None, entry.get("method")) and route in (None, entry.get("route")):
                at = datetime.fromisoformat(str(entry["ts"])).timestamp()
                if since <= at < until:
                    found.append(float(entry["ms"]))  # type: ignore[arg-type]
        return found

    def stop(self) -> None:
        # The supervisor passes SIGTERM on to its workers; in-flight requests get the service's own
        # grace (15 s) and a little more before the group is killed.
        end_group(self.proc, grace_s=20)
        if self.proc in _started:
            _started.remove(self.proc)


class Redis:
    """A private redis-server on a free loopback port, a child of this run; the shared one on 6379 is never touched."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = workdir / f"redis-{self.port}"
        self.dir.mkdir()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def _cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.port != SHARED_REDIS_PORT
        return subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    async def start(self) -> None:
        assert self.port != SHARED_REDIS_PORT and self.proc is None
        self.proc = spawn(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--dbfilename",
                "dump.rdb",
            ],
            self.dir / "redis.log",
        )
        for _ in range(200):
            if self.proc.poll() is not None:
                break
            if (await asyncio.to_thread(self._cli, "ping")).stdout.strip() == "PONG":
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not answer; see {self.dir / 'redis.log'}")

    async def used_mb(self) -> float:
        """Redis's own count of the memory its data takes (INFO's used_memory)."""
        info = (await asyncio.to_thread(self._cli, "info", "memory")).stdout
        return (
            next(int(line.split(":")[1]) for line in info.splitlines() if line.startswith("used_memory:")) / 1024 / 1024
        )

    def shutdown(self, save: bool) -> None:
        """Stop it; with `save` its data is written first and loaded by the next `start`."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        self._cli("shutdown", "save" if save else "nosave")
        end_group(proc, grace_s=10)  # SHUTDOWN returns once the data is written; this only reaps
        if proc in _started:
            _started.remove(proc)

    def close(self) -> None:
        self.shutdown(save=False)


# ---------------------------------------------------------------- load


def quote_body(rng: random.Random) -> dict[str, object]:
    (a, *_), (b, *_) = rng.sample(CITIES, 2)
    return {
        "origin": {"city": a},
        "destination": {"city": b},
        "parcels": [
            {
                "weight_g": rng.randint(100, 20_000),
                "length_cm": rng.randint(10, 60),
                "width_cm": rng.randint(10, 40),
                "height_cm": rng.randint(5, 30),
            }
        ],
        # Kopecks make a new cache key on practically every request.
        "declared_value": f"{rng.randint(0, 20_000)}.{rng.randint(0, 99):02d}",
        "cod": rng.random() < 0.3,
    }


class Made(NamedTuple):
    quote_id: str
    body: bytes
    phase: str
    done_at: float  # monotonic: when its answer arrived


class Load:
    """Concurrent clients with one shared clock and phase; every sample is tagged with the phase it started in.

    Closed loop (the default): each client sends its next request as soon as the last one is
    answered, so the service is kept saturated and latency is mostly queueing. Open loop
    (`rate_per_s`): requests arrive at that mean rate (Poisson) whatever the service does, at most
    `clients` in flight; a request's time counts from when it was due, so one that waited for a
    free client is charged for the wait.
    """

    def __init__(
        self, url: str, clients: int, mix: dict[str, int] | None = None, seed: int = 7, rate_per_s: float | None = None
    ) -> None:
        self.url = loopback_only(url)
        self.clients = clients
        self.mix = mix or MIX
        self.rng = random.Random(seed)
        self.rate_per_s = rate_per_s
        self.phase = "start"
        self.samples: list[Sample] = []
        self.made: list[Made] = []
        self.hot = [quote_body(random.Random(1000 + i)) for i in range(HOT_BODIES)]
        self.inspect: Callable[[str, bytes], str | None] | None = None  # extra check of quote answers
        self.backlog_max = 0  # open loop: the most arrivals that waited for a free client
        self._stop = asyncio.Event()
        self._budget = 0
        self._due: asyncio.Queue[float] = asyncio.Queue(maxsize=MAX_BACKLOG)

    def stop(self) -> None:
        self._stop.set()

    async def run(self, control: Callable[[], Awaitable[None]], bound_s: float) -> None:
        """Clients run until `control` returns (or `bound_s` passes, or the request budget is spent)."""
        self._budget = int(bound_s * MAX_RPS)
        # Earlier phases' samples and quotes stay alive till the report; out of the collector's sight,
        # its full passes stay short and do not stall this generator's reading of answers.
        gc.collect()
        gc.freeze()
        connector = aiohttp.TCPConnector(limit=self.clients)
        timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            tasks = [asyncio.create_task(self._client(http, i)) for i in range(self.clients)]
            if self.rate_per_s:
                tasks.append(asyncio.create_task(self._arrivals(self.rate_per_s)))
            try:
                async with asyncio.timeout(bound_s):
                    await control()
            finally:
                self._stop.set()
                # In-flight requests end within the client timeout; then whatever is left is cancelled and reaped.
                await asyncio.wait(tasks, timeout=CLIENT_TIMEOUT_S + 5)
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=5)

    async def _arrivals(self, rate_per_s: float) -> None:
        rng = random.Random(self.rng.random())
        due = time.perf_counter()
        while not self._stop.is_set():
            due += rng.expovariate(rate_per_s)
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                self._due.put_nowait(due)
            except asyncio.QueueFull:
                # Far more waiting than `clients` can serve in a timeout: count it as lost, do not grow.
                self.samples.append(Sample(self.phase, "quote-miss", 0.0, "generator backlog full"))
            self.backlog_max = max(self.backlog_max, self._due.qsize())

    async def _next_due(self) -> float | None:
        if not self.rate_per_s:
            return time.perf_counter()
        while not self._stop.is_set():
            try:
                return await asyncio.wait_for(self._due.get(), timeout=0.2)
            except TimeoutError:
                continue
        return None

    async def _client(self, http: aiohttp.ClientSession, index: int) -> None:
        rng = random.Random(self.rng.random())
        kinds, weights = list(self.mix), list(self.mix.values())
        while not self._stop.is_set() and self._budget > 0:
            due = await self._next_due()
            if due is None:
                return
            self._budget -= 1
            kind = rng.choices(kinds, weights)[0]
            if kind == "get-quote" and not self.made:
                kind = "quote-miss"
            phase = self.phase
            error = await self._one(http, rng, kind, phase)
            self.samples.append(Sample(phase, kind, (time.perf_counter() - due) * 1000, error))
            if error and error.startswith("conn"):
                await asyncio.sleep(0.05)  # a refused connection returns at once; do not spin

    async def _one(self, http: aiohttp.ClientSession, rng: random.Random, kind: str, phase: str) -> str | None:
        try:
            if kind in ("quote-miss", "quote-hit"):
                body = quote_body(rng) if kind == "quote-miss" else rng.choice(self.hot)
                async with http.post(self.url + "/v1/quotes", json=body) as r:
                    raw = await r.read()
                    if r.status not in (200, 201):
                        return f"{r.status}"
                    if r.status == 201:
                        self.made.append(Made(orjson.loads(raw)["quote_id"], raw, phase, time.monotonic()))
                    return self.inspect(phase, raw) if self.inspect else None
            if kind == "get-quote":
                made = rng.choice(self.made)
                async with http.get(f"{self.url}/v1/quotes/{made.quote_id}") as r:
                    raw = await r.read()
                    if r.status != 200:
                        return f"{r.status} reading a quote made {'before' if made.phase != phase else 'in'} this phase"
                    return None if raw == made.body else "quote changed"
            _, lat, lon = rng.choice(CITIES)
            async with http.get(f"{self.url}/v1/pickup-points?lat={lat}&lon={lon}&limit=20") as r:
                await r.read()
                return None if r.status == 200 else f"{r.status}"
        except (aiohttp.ClientConnectionError, ConnectionError) as exc:
            return f"conn: {type(exc).__name__}"
        except TimeoutError:
            return f"client timeout ({CLIENT_TIMEOUT_S:.0f} s)"

    async def reread(self, made: list[Made], within_s: float = 60.0) -> Counter[str]:
        """Read quotes back, a few at a time: how many came back unchanged, and what the others got.

        Bounded: what is not read within `within_s` is counted as such, never waited for."""
        outcome: Counter[str] = Counter()
        todo = list(made)

        async def reader(http: aiohttp.ClientSession) -> None:
            while todo:
                m = todo.pop()
                try:
                    async with http.get(f"{self.url}/v1/quotes/{m.quote_id}") as r:
                        raw = await r.read()
                        if r.status != 200:
                            outcome[f"{r.status}"] += 1
                        else:
                            outcome["same" if raw == m.body else "changed"] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome[type(exc).__name__] += 1

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            readers = [asyncio.create_task(reader(http)) for _ in range(8)]
            done, pending = await asyncio.wait(readers, timeout=within_s)
            for task in pending:
                task.cancel()
            await asyncio.wait(readers, timeout=5)
        if todo or pending:
            outcome[f"not read within {within_s:.0f} s"] += len(made) - sum(outcome.values())
        return outcome


async def warm_up(load: Load, seconds: float) -> None:
    """Cold caches (the first quote of a city pair, the sandbox's token) are not what a phase measures."""
    load.phase = "warm-up"
    await asyncio.sleep(seconds)


def warm_errors(load: Load) -> dict[str, str]:
    bad = Counter(s.error for s in load.samples if s.phase == "warm-up" and s.error)
    return {"before": "warm-up errors: " + ", ".join(f"{n} {e}" for e, n in bad.items())} if bad else {}


def sample_of(made: list[Made], since: float, until: float, n: int = 300) -> list[Made]:
    """Up to `n` quotes whose answers arrived between the two moments."""
    mine = [m for m in made if since <= m.done_at < until]
    return random.Random(5).sample(mine, min(n, len(mine)))


def readback(what: str, outcome: Counter[str], n: int, expected: bool = True) -> Check:
    """Quotes handed out earlier, read back: all `n` with the same body, when `expected`."""
    rest = ", ".join(f"{k} {v}" for k, v in outcome.items() if k != "same")
    return Check(
        what,
        f"all {n}" if expected else "reported (Redis kept no data)",
        f"{outcome['same']}/{n} same body" + (f" ({rest})" if rest else ""),
        outcome["same"] == n if expected else None,
    )


# ---------------------------------------------------------------- scenarios


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


def kind_rows(name: str, phase: str, samples: list[Sample]) -> list[Row]:
    rows = []
    for kind in MIX:
        mine = [s for s in samples if s.kind == kind]
        if mine:
            lat = [s.ms for s in mine]
            rows.append(
                Row(
                    f"{name} · {phase} · {kind}",
                    len(mine),
                    sum(1 for s in mine if s.error),
                    None,
                    pct(lat, 50),
                    pct(lat, 99),
                    max(lat),
                )
            )
    return rows


async def steady(
    workdir: Path,
    quick: bool,
    clients: int,
    rate_per_s: float,
    workers: int = 1,
    with_redis: bool = False,
    duration_s: float | None = None,
) -> Result:
    alone_s, warm_s, run_s = (2.0, 3.0, 10.0) if quick else (5.0, 10.0, 60.0)
    run_s = duration_s or run_s
    redis = Redis(workdir) if with_redis or workers > 1 else None
    flags: list[str] = []
    if redis:
        await redis.start()
        flags += ["--redis-url", redis.url]
    if workers > 1:
        flags += ["--workers", str(workers)]
    service = Service(workdir, *flags)
    name = "steady" + (f" --workers {workers}" if workers > 1 else "") + (" +Redis" if redis else "")
    result = Result()
    try:
        await service.wait_up(listening=workers)
        rss_start = service.rss_mb()
        # The same mix from one client: the service's own latency, without queueing.
        alone = Load(service.url, 1, seed=11)
        await alone.run(lambda: asyncio.sleep(alone_s), alone_s + 30)
        alone.samples = [Sample("1 client", s.kind, s.ms, s.error) for s in alone.samples]

        closed_phase = f"{clients} clients, closed loop"
        open_phase = f"{rate_per_s:,.0f}/s offered, ≤ {clients} in flight"
        rss: dict[str, float] = {}
        held: dict[str, float | None] = {}
        spans: dict[str, float] = {}
        wall: dict[str, tuple[float, float]] = {}
        closed = Load(service.url, clients)

        async def closed_control() -> None:
            closed.phase = "warm-up"
            await asyncio.sleep(warm_s)
            rss["warm"], held["warm"] = service.rss_mb(), await service.held_mb()
            if redis:
                held["redis warm"] = await redis.used_mb()
            closed.phase = closed_phase
            t, wall[closed_phase] = time.monotonic(), (time.time(), 0.0)
            await asyncio.sleep(run_s)
            spans[closed_phase] = time.monotonic() - t
            wall[closed_phase] = (wall[closed_phase][0], time.time())
            closed.stop()

        await closed.run(closed_control, warm_s + run_s + 60)
        rss["closed"], held["closed"] = service.rss_mb(), await service.held_mb()
        if redis:
            held["redis closed"] = await redis.used_mb()

        opened = Load(service.url, clients, seed=13, rate_per_s=rate_per_s)

        async def open_control() -> None:
            opened.phase = open_phase
            t, started = time.monotonic(), time.time()
            await asyncio.sleep(run_s)
            spans[open_phase] = time.monotonic() - t
            wall[open_phase] = (started, time.time())
            opened.stop()

        await opened.run(open_control, run_s + 60)
        rss["open"] = service.rss_mb()

        result.rows += rows_for(
            name, alone.samples, [("1 client", alone_s)], {"1 client": "baseline: same mix, one client"}
        )
        for load, phase in ((closed, closed_phase), (opened, open_phase)):
            measured = [s for s in load.samples if s.phase == phase]
            kinds = Counter(s.kind for s in measured)
            mix_note = ", ".join(f"{k} {kinds[k] * 100 / max(1, len(measured)):.0f} %" for k in MIX)
            if load is opened:
                mix_note += f"; most arrivals waiting for a client: {opened.backlog_max}"
            # The service's own time (its access log: from the handler's start to its answer) tells
            # its work apart from queueing in the kernel, the loop and the generator on shared cores.
            own = service.served_ms(None, None, *wall[phase])
            if own:
                mix_note += f"; the service's own time p50 {pct(own, 50):.1f} / p99 {pct(own, 99):.1f} ms"
            result.rows += rows_for(name, load.samples, [(phase, spans[phase])], {phase: mix_note})
            result.rows += kind_rows(name, phase, measured)
            lat = [s.ms for s in measured]
            errors = sum(1 for s in measured if s.error)
            result.checks += [
                Check(f"{name}: errors, {run_s:.0f} s at {phase}", "0", f"{errors} of {len(measured):,}", errors == 0),
                Check(
                    f"{name}: p99 at {phase}",
                    "< 100 ms",
                    f"{pct(lat, 99):.1f} ms (p50 {pct(lat, 50):.1f}, {len(measured) / spans[phase]:,.0f} req/s)",
                    pct(lat, 99) < 100,
                ),
            ]
        growth = (rss["closed"] - rss["warm"]) / rss["warm"] * 100
        new_quotes = sum(1 for m in closed.made if m.phase == closed_phase)
        per_quote = (rss["closed"] - rss["warm"]) * 1024 / max(1, new_quotes)
        where = "quotes held in the process (memory store, up to 256 MB)"
        if redis:
            in_redis = held["redis closed"] - held["redis warm"]  # type: ignore[operator]
            where = f"quotes held in Redis, whose own memory grew {in_redis:+.1f} MB, {in_redis * 1024 / max(1, new_quotes):.2f} kB a quote"
        result.checks.append(
            Check(
                f"{name}: RSS growth over the {run_s:.0f} s closed loop",
                "< 10 %",
                f"{growth:+.1f} % ({rss_start:.0f} MB at start → {rss['warm']:.0f} warm → {rss['closed']:.0f} → "
                f"{rss['open']:.0f} after the open loop; {per_quote:.1f} kB per new quote, {new_quotes:,} made; {where})",
                growth < 10,
            )
        )
        if held["warm"] is not None and held["closed"] is not None:
            # The memory store holds every quote for its guarantee, up to its bound: growth by
            # design, which rises with the machine's speed. What its own count leaves over is a leak.
            stored = held["closed"] - held["warm"]
            beyond = (rss["closed"] - rss["warm"] - stored) / rss["warm"] * 100
            result.checks.append(
                Check(
                    f"{name}: RSS growth beyond what the memory store counts as held",
                    "< 10 %",
                    f"{beyond:+.1f} % (the store's count grew {stored:+.1f} MB, {stored * 1024 / max(1, new_quotes):.2f} "
                    f"kB per new quote; RSS {rss['closed'] - rss['warm']:+.1f} MB)",
                    beyond < 10,
                )
            )
    finally:
        service.stop()
        if redis:
            redis.close()
    return result


async def redis_outage(workdir: Path, quick: bool, clients: int, save: bool, workers: int = 1) -> Result:
    warm_s, before_s, down_s, after_s = (2.0, 4.0, 4.0, 4.0) if quick else (5.0, 15.0, 10.0, 15.0)
    redis = Redis(workdir)
    await redis.start()
    service = Service(workdir, "--redis-url", redis.url, *(["--workers", str(workers)] if workers > 1 else []))
    result = Result()
    try:
        await service.wait_up(listening=workers)
        load = Load(service.url, clients)
        spans: dict[str, float] = {}
        moments: dict[str, float] = {}

        async def control() -> None:
            await warm_up(load, warm_s)
            t = time.monotonic()
            load.phase = "before"
            await asyncio.sleep(before_s)
            load.phase = "Redis down"
            spans["before"], t = time.monotonic() - t, time.monotonic()
            moments["down"] = t
            await asyncio.to_thread(redis.shutdown, save)
            await asyncio.sleep(max(0.0, down_s - (time.monotonic() - t)))
            await redis.start()
            load.phase = "after"
            spans["Redis down"], t = time.monotonic() - t, time.monotonic()
            moments["up"] = t
            await asyncio.sleep(after_s)
            spans["after"] = time.monotonic() - t
            load.stop()

        await load.run(control, warm_s + before_s + down_s + after_s + 60)
        quotes = [s for s in load.samples if s.kind.startswith("quote")]
        failed = Counter(s.error for s in quotes if s.error)
        earlier = sample_of(load.made, 0, moments["down"])
        during = sample_of(load.made, moments["down"], moments["up"])
        later = sample_of(load.made, moments["up"], time.monotonic())
        back_before = await load.reread(earlier)
        back_during = await load.reread(during)
        back_later = await load.reread(later)
        how = "saved, restarted with its data" if save else "shutdown nosave, restarted empty"
        result.rows += rows_for(
            "redis-outage",
            load.samples,
            [(p, spans[p]) for p in ("before", "Redis down", "after")],
            {"Redis down": f"Redis {how}", **warm_errors(load)},
        )
        result.checks += [
            Check(
                f"redis-outage: failed quotes (POST), Redis down {down_s:.0f} s",
                "0",
                f"{sum(failed.values())} of {len(quotes)}"
                + (f" ({', '.join(f'{n} {e}' for e, n in failed.items())})" if failed else ""),
                not failed,
            ),
            readback("redis-outage: quotes made before, read after Redis is back", back_before, len(earlier), save),
            readback(
                f"redis-outage: quotes made while Redis was down, read after ({workers} worker{'s' if workers > 1 else ''})",
                back_during,
                len(during),
            ),
            readback("redis-outage: quotes made after Redis came back, read at the end", back_later, len(later)),
        ]
    finally:
        service.stop()
        redis.close()
    return result


async def carrier_hanging(workdir: Path, quick: bool, clients: int) -> Result:
    warm_s, before_s, hang_s, after_s = (3.0, 3.0, 6.0, 3.0) if quick else (5.0, 10.0, 30.0, 10.0)
    service = Service(workdir, "--sandbox")
    result = Result()
    try:
        await service.wait_up()
        where = service.log_lines("sandbox emulators listening")
        if not where:
            raise RuntimeError(f"the service did not log where the sandbox listens; see {service.log_path}")
        cdek = loopback_only(str(where[-1]["cdek_url"]))
        load = Load(service.url, clients, mix={"quote-miss": 85, "quote-hit": 15})
        offers_missing = Counter[str]()
        cdek_errors = Counter[tuple[str, str]]()

        def inspect(phase: str, raw: bytes) -> str | None:
            quote = orjson.loads(raw)
            others = [e for e in quote["errors"] if e["carrier"] != "cdek"]
            for e in quote["errors"]:
                if e["carrier"] == "cdek":
                    cdek_errors[phase, e["kind"]] += 1
            if others:
                offers_missing[phase] += 1
                return "other carriers failed: " + ", ".join(f"{e['carrier']} {e['kind']}" for e in others)
            if not quote["offers"]:
                offers_missing[phase] += 1
                return "no offers"
            return None

        load.inspect = inspect
        spans: dict[str, float] = {}
        wall: dict[str, float] = {}

        async def control() -> None:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
                await warm_up(load, warm_s)
                t = time.monotonic()
                load.phase = "before"
                await asyncio.sleep(before_s)
                async with http.post(cdek + "/_sandbox/faults", json={"hang": True}) as r:
                    assert r.status == 200, await r.text()
                load.phase = "CDEK hanging"
                spans["before"], t = time.monotonic() - t, time.monotonic()
                wall["hang"] = time.time()
                await asyncio.sleep(hang_s)
                wall["released"] = time.time()
                async with http.delete(cdek + "/_sandbox/faults") as r:
                    assert r.status == 200, await r.text()
                load.phase = "after"
                spans["CDEK hanging"], t = time.monotonic() - t, time.monotonic()
                await asyncio.sleep(after_s)
                spans["after"] = time.monotonic() - t
                load.stop()

        await load.run(control, warm_s + before_s + hang_s + after_s + 60)
        hanging = [s for s in load.samples if s.phase == "CDEK hanging"]
        lat = [s.ms for s in hanging]
        limit = DEADLINE_S * 1000 + DEADLINE_SLACK_MS
        late = sum(1 for x in lat if x > limit)
        # Quotes logged in the window whose answer took the service longer than the deadline allows.
        own = service.served_ms("POST", "/v1/quotes", wall["hang"], wall["released"])
        own_late = sum(1 for x in own if x > limit)
        notes = warm_errors(load)
        for phase in ("before", "CDEK hanging", "after"):
            cdek = ", ".join(f"{n} {kind}" for (p, kind), n in cdek_errors.most_common() if p == phase) or "none"
            notes[phase] = "; ".join(x for x in (notes.get(phase), f"cdek in errors[]: {cdek}") if x)
        result.rows += rows_for(
            "carrier-hanging",
            load.samples,
            [(p, spans[p]) for p in ("before", "CDEK hanging", "after")],
            notes,
        )
        result.checks += [
            Check(
                "carrier-hanging: slowest quote, the service's own time (its access log)",
                f"≤ deadline + {DEADLINE_SLACK_MS:.0f} ms = {limit:.0f} ms",
                f"max {max(own):.0f} ms, p99 {pct(own, 99):.0f} ms; {own_late} of {len(own)} later",
                own_late == 0,
            ),
            Check(
                "carrier-hanging: slowest quote as the client saw it (adds queueing on a busy machine)",
                f"≤ {limit:.0f} ms",
                f"max {max(lat):.0f} ms, p99 {pct(lat, 99):.0f} ms; {late} of {len(lat)} later",
                late == 0,
            ),
            Check(
                "carrier-hanging: answers without the other carriers' offers",
                "0",
                f"{offers_missing['CDEK hanging']} of {len(lat)}",
                offers_missing["CDEK hanging"] == 0,
            ),
            Check(
                "carrier-hanging: errors of any kind while CDEK hangs",
                "0",
                f"{sum(1 for s in hanging if s.error)}",
                not any(s.error for s in hanging),
            ),
        ]
    finally:
        service.stop()
    return result


async def worker_restart(workdir: Path, quick: bool, clients: int) -> Result:
    warm_s, before_s, after_s, respawn_bound_s = (2.0, 4.0, 4.0, 60.0) if quick else (5.0, 10.0, 15.0, 60.0)
    redis = Redis(workdir)
    await redis.start()
    service = Service(workdir, "--workers", "2", "--redis-url", redis.url)
    result = Result()
    try:
        await service.wait_up(listening=2)
        load = Load(service.url, clients)
        spans: dict[str, float] = {}
        events: dict[str, object] = {}

        async def control() -> None:
            await warm_up(load, warm_s)
            t = time.monotonic()
            load.phase = "before"
            await asyncio.sleep(before_s)
            victim = service.workers()[0]
            events["kill"] = time.monotonic()
            os.kill(victim, signal.SIGKILL)  # a child of the service started above
            events["victim"] = victim
            load.phase = "kill → respawn"
            spans["before"], t = time.monotonic() - t, time.monotonic()
            while listeners(service.port) >= 2 and time.monotonic() - t < 5:
                await asyncio.sleep(0.01)
            while listeners(service.port) < 2 and time.monotonic() - t < respawn_bound_s:
                await asyncio.sleep(0.05)
            spans["kill → respawn"], t = time.monotonic() - t, time.monotonic()
            events["workers"] = service.workers()
            load.phase = "after"
            await asyncio.sleep(after_s)
            spans["after"] = time.monotonic() - t
            load.stop()

        await load.run(control, warm_s + before_s + after_s + respawn_bound_s + 60)
        earlier = sample_of(load.made, 0, float(events["kill"]))  # type: ignore[arg-type]
        back = await load.reread(earlier)
        failed = [s for s in load.samples if s.error]
        quotes_failed = [s for s in failed if s.kind.startswith("quote")]
        respawned = listeners(service.port) >= 2 and events["victim"] not in events["workers"]
        result.rows += rows_for(
            "worker-restart",
            load.samples,
            [(p, spans[p]) for p in ("before", "kill → respawn", "after")],
            {
                "kill → respawn": f"SIGKILL to worker {events['victim']}; "
                f"back listening after {spans['kill → respawn']:.1f} s",
                **warm_errors(load),
            },
        )
        result.checks += [
            Check(
                "worker-restart: supervisor started a new worker",
                f"within {respawn_bound_s:.0f} s",
                f"{spans['kill → respawn']:.1f} s" if respawned else "no",
                respawned,
            ),
            Check(
                "worker-restart: failed requests (in flight on the killed worker)",
                "reported",
                f"{len(failed)} of {len(load.samples)} ({len(quotes_failed)} quotes): "
                + ", ".join(f"{n} {e}" for e, n in Counter(s.error for s in failed).most_common(3)),
                None,
            ),
            Check(
                "worker-restart: failed requests after the new worker listens",
                "0",
                f"{sum(1 for s in failed if s.phase == 'after')}",
                not any(s.phase == "after" for s in failed),
            ),
            readback("worker-restart: quotes made before the kill, read after", back, len(earlier)),
        ]
    finally:
        service.stop()
        redis.close()
    return result


SCENARIOS = ("steady", "steady-workers", "redis-outage", "carrier-hanging", "worker-restart")
EXTRA_SCENARIOS = ("steady-redis",)  # one process on Redis: where the Redis round trips go, without a second worker
# The nominal length of each scenario in seconds (full, quick); every one is cut off at twice that plus two minutes.
NOMINAL_S = {
    "steady": (140, 30),
    "steady-workers": (140, 30),
    "steady-redis": (140, 30),
    "redis-outage": (60, 20),
    "carrier-hanging": (70, 25),
    "worker-restart": (60, 25),
}


async def scenario(name: str, workdir: Path, args: argparse.Namespace) -> Result:
    if name.startswith("steady"):
        workers = 2 if name == "steady-workers" else 1
        return await steady(
            workdir, args.quick, args.clients, args.rate, workers, name == "steady-redis", args.duration
        )
    if name == "redis-outage":
        return await redis_outage(workdir, args.quick, args.clients, save=not args.redis_nosave)
    if name == "carrier-hanging":
        return await carrier_hanging(workdir, args.quick, args.clients)
    return await worker_restart(workdir, args.quick, args.clients)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="any of " + ", ".join(SCENARIOS + EXTRA_SCENARIOS) + " (default: " + ", ".join(SCENARIOS) + ")",
    )
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run of about two minutes")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument(
        "--rate",
        type=float,
        default=400.0,
        help="steady: requests a second offered in the open-loop phase (default 400, issue #2's miss rate)",
    )
    parser.add_argument(
        "--redis-nosave",
        action="store_true",
        help="redis-outage: stop Redis with `shutdown nosave` (it comes back empty) instead of saving first",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="steady: seconds of each measured phase (default 60)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the service and Redis logs (prints where)")
    args = parser.parse_args()
    unknown = [s for s in args.scenarios if s not in SCENARIOS + EXTRA_SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; one of {', '.join(SCENARIOS + EXTRA_SCENARIOS)}")
    if args.duration is not None and not 1 <= args.duration <= 600:
        parser.error("--duration from 1 to 600 seconds")
    if not 1 <= args.clients <= 512:
        parser.error("--clients from 1 to 512")
    if not 1 <= args.rate <= 5000:
        parser.error("--rate from 1 to 5000 a second")
    names = args.scenarios or list(SCENARIOS)
    if any(n != "steady" and n != "carrier-hanging" for n in names) and any(
        not shutil.which(tool) for tool in ("redis-server", "redis-cli")
    ):
        parser.error("every scenario but steady and carrier-hanging needs redis-server and redis-cli on PATH")
    result = Result()
    with tempfile.TemporaryDirectory(prefix="carrier-router-load-") as tmp:
        workdir = Path(tempfile.mkdtemp(prefix="carrier-router-load-")) if args.keep else Path(tmp)
        if args.keep:
            print(f"service and Redis logs kept in {workdir}", file=sys.stderr)
        try:
            for name in names:
                nominal = NOMINAL_S[name][1 if args.quick else 0]
                if args.duration and name.startswith("steady"):
                    nominal = 20 + 2 * args.duration
                print(f"… {name} (about {nominal:.0f} s)", file=sys.stderr, flush=True)
                try:
                    async with asyncio.timeout(2 * nominal + 120):
                        part = await scenario(name, workdir, args)
                except TimeoutError:
                    result.checks.append(
                        Check(f"{name}: finished", f"within {2 * nominal + 120:.0f} s", "cut off", False)
                    )
                    continue
                result.rows += part.rows
                result.checks += part.checks
        finally:
            reap_all()
    print(table(result.rows))
    print()
    print(check_table(result.checks))
    return 1 if any(c.ok is False for c in result.checks) else 0


def run() -> int:
    atexit.register(reap_all)  # a second Ctrl-C can cut the clean-up short; this one still runs
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        # Ctrl-C cancels the run (the Runner's own handler); SIGTERM and SIGHUP do the same, so
        # `timeout` or a closed terminal still stops the service and Redis this run started.
        loop = runner.get_loop()
        main_task: list[asyncio.Task[int]] = []

        def cancel() -> None:
            if main_task:
                main_task[0].cancel()

        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, cancel)

        async def start() -> int:
            main_task.append(asyncio.current_task())  # type: ignore[arg-type]
            return await main()

        try:
            return runner.run(start())
        except (asyncio.CancelledError, KeyboardInterrupt):
            print("stopped; every process this run started has been ended", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(run())
