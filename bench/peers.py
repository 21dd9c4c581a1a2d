"""Peers: the ten CDEK-format emulators of `bench/carriers.py`, quoted through karrio's SDK and through this service.

    .venv/bin/python bench/peers.py            # three rounds, ~3 minutes (and karrio's install, the first time)
    .venv/bin/python bench/peers.py --quick    # one short round, ~40 s

Both stacks ask the same ten emulators (`bench/carriers.py`'s `Emulators`: the lean CDEK API v2
emulator at 50 ± 20 ms, in two processes of their own) for the same kind of shipments, all ten a
quote, a token per carrier held for its lifetime:

1. karrio's SDK (PyPI `karrio`, pinned in `KARRIO`), installed by this script into a venv of its
   own (`bench/.peers-venv`, git-ignored), quoting through the CDEK-format connector of
   `bench/peers_karrio.py`, which is written on karrio's base classes and run as a subprocess of
   that venv's python: one gateway a carrier, `karrio.Rating.fetch(...).from_(*gateways)` a quote.
   Its CPU is the whole process's (its client threads included) over each phase. `Rating.fetch`
   runs each carrier's call in `asyncio.to_thread`, whose default pool holds the core count + 4
   threads: on a 2-core machine a quote's ten calls go out in two waves, hence its 1-client latency.
2. This service: `python -m router.cli serve` (one worker) on a free loopback port with a carriers
   TOML naming the ten, quoted with `POST /v1/quotes` (a new declared value every time, so no
   quote is served from the cache) by `bench/carriers.py`'s load generator from this process. Its
   CPU is the service process's, from /proc/<pid>/stat, over each phase.

Each round measures karrio, then the service: quotes/s and CPU per 10-carrier quote at 1 client
(closed loop, a fixed number of quotes) and at 32 concurrent clients (closed loop, a fixed time).
The table gives each cell's median over the rounds and the ratio of the two stacks.

What the figures leave out or favour: karrio runs in process, with no HTTP server in front of it,
while the service's figure includes parsing the client's request and rendering its answer. Both
log at their default level: karrio at INFO, a line for each carrier call, into a pipe this script
reads; the service one access line a request, into /dev/null. All of it shares the machine's
cores with the emulators, this process and any other work, which the table notes (other work, in
cores, from /proc/stat); quotes/s are lower bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.carriers import (  # noqa: E402
    CARRIERS,
    DEADLINE_S,
    JITTER_MS,
    LATENCY_MS,
    Emulators,
    body,
    cpu_s,
    for_quotes,
    for_seconds,
    free_port,
    load,
    machine_cpu_s,
    pct,
    wait_up,
)

KARRIO = "karrio==2026.1.32"
VENV = ROOT / "bench" / ".peers-venv"
DRIVER = ROOT / "bench" / "peers_karrio.py"
CLIENTS = 32
# Both stacks are held to these (issue 18): the service at a fifth of karrio's CPU a quote or less.
TARGET_CPU_RATIO = 5.0
TARGET_RPS = 200.0


@dataclass
class Phase:
    """One stack at one concurrency: what it did and what it cost."""

    quotes: int
    seconds: float
    cpu_s: float  # the stack's own process
    p50_ms: float
    p99_ms: float
    short: int  # quotes without an answer from every carrier
    other_cores: float  # cores kept busy by work outside the bench meanwhile

    @property
    def rps(self) -> float:
        return self.quotes / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.quotes * 1000


# ---------------------------------------------------------------- karrio


def karrio_python(requirement: str) -> Path:
    """The karrio venv's python, made and filled on first use (pip from PyPI, nothing else)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted = requirement.partition("==")[2]
    have = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('karrio'))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not have or (wanted and have != wanted):
        print(f"installing {requirement} into {VENV.relative_to(ROOT)}", file=sys.stderr, flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement], check=True
        )
    return python


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run_karrio(
    python: Path, endpoints: Path, bodies: Path, emulators: Emulators, one: int, seconds: float
) -> tuple[str, Phase, Phase]:
    """One run of the driver: a warm-up, `one` quotes at 1 client, `seconds` at 32 clients."""
    emulator_pids = [p.pid for p in emulators.procs]
    async with aiohttp.ClientSession() as http:
        asked_before = await emulators.calculator_requests(http)
    machine_before, _ = machine_cpu_s()
    emulators_before = sum(cpu_s(p) for p in emulator_pids)
    children_before, mine_before = children_cpu_s(), time.process_time()
    started = time.monotonic()
    # A bare environment and a scratch directory: karrio looks for plugins in the working
    # directory, and nothing of this project's venv should reach karrio's python.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "KARRIO_"))}
    command = [str(python), str(DRIVER), str(endpoints), str(bodies), "--one", str(one), "--clients", str(CLIENTS)]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--seconds", str(seconds)],
        cwd=endpoints.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120 + one + seconds,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the karrio driver failed ({done.returncode}):\n{done.stderr[-3000:]}")
    elapsed = time.monotonic() - started
    machine, _ = machine_cpu_s()
    bench = (
        children_cpu_s()
        - children_before
        + sum(cpu_s(p) for p in emulator_pids)
        - emulators_before
        + time.process_time()
        - mine_before
    )
    # Over the driver's whole run, its start and warm-up too: it reports its phases' CPU, not its start's.
    other = max(0.0, machine - machine_before - bench) / elapsed
    report = json.loads(done.stdout)
    async with aiohttp.ClientSession() as http:
        asked = [a - b for a, b in zip(await emulators.calculator_requests(http), asked_before, strict=True)]
    # Every quote with rates from all ten asked each emulator; a short one may have timed out first.
    whole = sum(report[p]["quotes"] - report[p]["short"] for p in ("warm", "one", "many"))
    if min(asked) < whole:
        raise SystemExit(f"an emulator answered {min(asked)} calculator calls for karrio's {whole} whole quotes")

    def phase(p: dict[str, Any]) -> Phase:
        return Phase(p["quotes"], p["seconds"], p["cpu_s"], p["p50_ms"], p["p99_ms"], p["short"], other)

    one_client, many = phase(report["one"]), phase(report["many"])
    print(
        f"karrio {report['karrio']}: 1 client {one_client.rps:.1f} quotes/s, {one_client.cpu_ms:.1f} ms CPU a quote; "
        f"{CLIENTS} clients {many.rps:.1f} quotes/s, {many.cpu_ms:.1f} ms; other work {other:.2f} cores",
        file=sys.stderr,
        flush=True,
    )
    return report["karrio"], one_client, many


# ---------------------------------------------------------------- this service


async def run_ours(
    url: str, pid: int, emulators: Emulators, clients: int, done: Callable[[int], bool], seed: int
) -> Phase:
    emulator_pids = [p.pid for p in emulators.procs]
    async with aiohttp.ClientSession() as http:
        asked_before = await emulators.calculator_requests(http)
    cpu_before = cpu_s(pid)
    emulators_before = sum(cpu_s(p) for p in emulator_pids)
    mine_before = time.process_time()
    machine_before, _ = machine_cpu_s()
    samples, elapsed = await load(url, clients, done, seed=seed)
    machine, _ = machine_cpu_s()
    used = cpu_s(pid) - cpu_before
    bench = used + sum(cpu_s(p) for p in emulator_pids) - emulators_before + time.process_time() - mine_before
    async with aiohttp.ClientSession() as http:
        asked = [a - b for a, b in zip(await emulators.calculator_requests(http), asked_before, strict=True)]
    answered = sum(1 for s in samples if s.status in (200, 201))
    if answered < len(samples):
        statuses = sorted({s.status for s in samples})
        raise SystemExit(f"{len(samples) - answered} of {len(samples)} quotes answered with a status in {statuses}")
    # Uncached means every quote asked every carrier: each emulator counts its own calls.
    if min(asked) < answered:
        raise SystemExit(f"an emulator answered {min(asked)} calculator calls for {answered} quotes: not uncached")
    ms = [s.ms for s in samples]
    short = sum(1 for s in samples if s.errors)
    phase = Phase(
        len(samples),
        elapsed,
        used,
        statistics.median(ms),
        pct(ms, 99),
        short,
        max(0.0, machine - machine_before - bench) / elapsed,
    )
    print(
        f"service, {clients} client(s): {phase.rps:.1f} quotes/s, {phase.cpu_ms:.2f} ms CPU a quote; "
        f"other work {phase.other_cores:.2f} cores",
        file=sys.stderr,
        flush=True,
    )
    return phase


def start_service(config: Path, state: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "CARRIER_ROUTER_CONFIG": str(config),
        "CARRIER_ROUTER_DEADLINE_S": str(DEADLINE_S),
        "CARRIER_ROUTER_CARRIER_TIMEOUT_S": str(DEADLINE_S),
        "CARRIER_ROUTER_STATE": state,  # no API keys: the open loopback service
    }
    env.pop("REDIS_URL", None)  # the memory store, as bench/carriers.py runs one worker
    proc = subprocess.Popen(
        [sys.executable, "-m", "router.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------- the table


@dataclass
class Summary:
    """One stack at one concurrency over the rounds: each figure's median, the counts' totals."""

    cpu_ms: float
    rps: float
    p50_ms: float
    p99_ms: float
    other_cores: float
    quotes: int
    short: int
    rps_by_round: list[float]
    cpu_ms_by_round: list[float]

    @classmethod
    def of(cls, phases: list[Phase]) -> Summary:
        def med(f: Callable[[Phase], float]) -> float:
            return statistics.median(f(p) for p in phases)

        return cls(
            med(lambda p: p.cpu_ms),
            med(lambda p: p.rps),
            med(lambda p: p.p50_ms),
            med(lambda p: p.p99_ms),
            med(lambda p: p.other_cores),
            sum(p.quotes for p in phases),
            sum(p.short for p in phases),
            [p.rps for p in phases],
            [p.cpu_ms for p in phases],
        )


def table(version: str, karrio: tuple[list[Phase], list[Phase]], ours: tuple[list[Phase], list[Phase]]) -> str:
    def row(name: str, one: Summary, many: Summary, cpu_format: str) -> str:
        note = (
            f"{one.quotes:,} + {many.quotes:,} quotes, {one.short + many.short} short of a carrier; "
            f"latency p50/p99 {one.p50_ms:.0f}/{one.p99_ms:.0f} ms at 1 client, "
            f"{many.p50_ms:.0f}/{many.p99_ms:.0f} ms at {CLIENTS}"
            + (
                f"; by round at {CLIENTS} clients: quotes/s {', '.join(f'{x:.0f}' for x in many.rps_by_round)}, "
                f"CPU ms a quote {', '.join(f'{x:{cpu_format}}' for x in many.cpu_ms_by_round)}"
                if len(many.rps_by_round) > 1
                else ""
            )
            + f"; other work {many.other_cores:.2f} cores"
        )
        return (
            f"| {name} | {one.cpu_ms:{cpu_format}} | {one.rps:.1f} | {many.cpu_ms:{cpu_format}} | {many.rps:.0f} "
            f"| {note} |"
        )

    k1, k32 = Summary.of(karrio[0]), Summary.of(karrio[1])
    o1, o32 = Summary.of(ours[0]), Summary.of(ours[1])
    cpu_ratio = k32.cpu_ms / o32.cpu_ms
    targets = (
        f"targets: ours ≤ 1/{TARGET_CPU_RATIO:.0f} of karrio's CPU a quote at {CLIENTS} clients "
        f"({'met' if cpu_ratio >= TARGET_CPU_RATIO else 'NOT met'}); ours ≥ {TARGET_RPS:.0f} quotes/s at "
        f"{CLIENTS} clients ({'met' if o32.rps >= TARGET_RPS else 'NOT met'})"
    )
    header = (
        "| stack | CPU ms a quote, 1 client | quotes/s, 1 client | CPU ms a quote, 32 clients | quotes/s, 32 clients "
        "| note |"
    )
    ratios = (
        f"| karrio ÷ ours (CPU), ours ÷ karrio (quotes/s) | {k1.cpu_ms / o1.cpu_ms:.1f}× | {o1.rps / k1.rps:.2f}× "
        f"| {cpu_ratio:.1f}× | {o32.rps / k32.rps:.1f}× | {targets} |"
    )
    return "\n".join(
        [
            header,
            "|---|---:|---:|---:|---:|---|",
            row(f"karrio {version} (SDK in process, threads)", k1, k32, ".1f"),
            row("carrier-router serve (1 worker, over HTTP)", o1, o32, ".2f"),
            ratios,
        ]
    )


# ---------------------------------------------------------------- main


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short round")
    parser.add_argument("--rounds", type=int, help="karrio-then-service rounds (default 3, 1 with --quick)")
    parser.add_argument("--karrio", default=KARRIO, help=f"pip requirement for karrio's venv (default {KARRIO})")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    one, seconds = (30, 4.0) if args.quick else (100, 10.0)
    python = karrio_python(args.karrio)
    load_at_start = os.getloadavg()[0]
    started = time.strftime("%H:%M", time.gmtime())
    emulators = Emulators.start(2)
    karrio: tuple[list[Phase], list[Phase]] = ([], [])
    ours: tuple[list[Phase], list[Phase]] = ([], [])
    version = ""
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            endpoints = Path(tmp) / "endpoints.json"
            endpoints.write_text(json.dumps(emulators.endpoints))
            bodies = Path(tmp) / "bodies.jsonl"
            rng = random.Random(5)
            bodies.write_text("".join(json.dumps(body(rng, n), ensure_ascii=False) + "\n" for n in range(2000)))
            config, credentials = emulators.config(Path(tmp))
            os.environ.update(credentials)
            proc, url = start_service(config, tmp)
            await wait_up(url)
            await load(url, 4, for_quotes(40), seed=1)  # tokens, connections, first-call imports
            # Small seeds: `body` makes its declared values from the seed, and the API caps them.
            for r in range(rounds):
                version, k1, k32 = await run_karrio(python, endpoints, bodies, emulators, one, seconds)
                karrio[0].append(k1)
                karrio[1].append(k32)
                ours[0].append(await run_ours(url, proc.pid, emulators, 1, for_quotes(one), seed=2 + 2 * r))
                ours[1].append(await run_ours(url, proc.pid, emulators, CLIENTS, for_seconds(seconds), seed=3 + 2 * r))
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=20)
            emulators.stop()
    print(
        f"{CARRIERS} CDEK-format emulators at {LATENCY_MS:.0f} ± {JITTER_MS:.0f} ms; {rounds} round(s) from "
        f"{started} UTC, each {one} quotes at 1 client and {seconds:.0f} s at {CLIENTS} clients a stack; medians; "
        f"{os.cpu_count()} cores, load average before/after {load_at_start:.2f}/{os.getloadavg()[0]:.2f}\n"
    )
    print(table(version, karrio, ours))


if __name__ == "__main__":
    uvloop.run(main())
