"""Booking through a real `carrier-router serve --workers 2` on PostgreSQL and Redis, against the
CDEK emulator in a process of its own, each figure beside its baseline in the same run.

    .venv/bin/python bench/shipments.py              # every figure, 1,000 bookings a run, about 8 minutes
    .venv/bin/python bench/shipments.py --quick      # 200 bookings a run, 100 labels, about 2.5 minutes
    .venv/bin/python bench/shipments.py --bookings 500 --labels 200 --clients 32

Figures:

A  one quote, then 100 concurrent `POST /v1/shipments` with ONE Idempotency-Key (a CDEK
   courier offer, `cdek:137`): carrier orders the emulator holds for that shipment's number,
   and distinct answer bodies. Both must be 1.
B  `--bookings` bookings, each its own quote (made beforehand) and key, `--clients` at once:
   shipments lost (answered 201 and missing from `GET /v1/shipments`, or never `booked`),
   duplicated carrier orders (the emulator's orders per number), and p50/p99 from the request
   to the carrier's number (until the shipment is `booked` with its tracking number; an answer
   still `booking` is followed with `GET /v1/shipments/{id}`). Baseline in the same run: as
   many orders made straight through `carriers.cdek.booking.CdekBooking` against the same
   emulator, create then follow until booked, as many at once, pausing between looks as long
   as the service's booking job does (`Shipper`'s `follow_s`).
C  B again, one of the two workers killed with SIGKILL halfway. A client whose request dies
   with the worker sends it again with the same key, as the API asks.
D  a batch PDF of `--labels` labels (`POST /v1/labels`, a4) for as many booked shipments of a
   rate-card partner (`magistral:door`, booked at once): time and size; baseline in the same run,
   the same labels one `GET /v1/shipments/{id}/label?format=a4` after another.

The emulator runs as `python -m carriers.sandbox` (orders decided 0.2 s after they are made,
its default) and the service reads a carriers TOML that names it by URL and credential variables,
as a real account is configured. PostgreSQL is the machine's server (`--postgres`, a database
made for the run and dropped after it); Redis is a `redis-server` of the run on a free port.
Prints markdown tables; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402
from load import ROOT, Check, Redis, Service, free_port, pct, reap_all  # noqa: E402

from carriers.api import Secret  # noqa: E402
from carriers.booking import CarrierOrder, Contact, Item, OrderParcel, OrderStatus  # noqa: E402
from carriers.cdek.booking import CdekBooking  # noqa: E402
from carriers.cdek.client import CdekClient  # noqa: E402
from router.core.models import DeliveryType, Place  # noqa: E402
from router.shipping.shipper import Shipper  # noqa: E402

# The pause the service's booking job takes before it looks at an order the carrier has not
# decided yet; the baseline pauses as long, so the two differ by what lies around the calls.
FOLLOW_S = float(inspect.signature(Shipper).parameters["follow_s"].default)
LEASE_S = float(inspect.signature(Shipper).parameters["lease_s"].default)
CLIENT_TIMEOUT_S = 30.0
SETTLE_BOUND_S = 120.0  # how long a client follows a shipment still `booking` (a lease is 30 s)

TO_A_DOOR: dict[str, Any] = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск", "address": "ул. Ленина, 1"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}
RECIPIENT = {"name": "Анна Петрова", "phone": "8 (913) 123-45-67", "email": "anna@example.ru"}
SENDER = {"name": "Склад Москва", "phone": "+7 495 123-45-67", "company": "Магазин"}
ITEMS = [{"name": "Кружка", "sku": "MUG-1", "quantity": 2, "unit_price": "450.00", "weight_g": 400}]
CDEK_OFFER = "cdek:137"  # склад-дверь: a door address, no office to look up
PARTNER_OFFER = "magistral:door"


# ---------------------------------------------------------------- what the run starts


def cpu_s(pids: list[int]) -> float:
    """User and system CPU the processes have spent so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Emulator:
    """`python -m carriers.sandbox` in its own process group; its URL and credentials read from what it prints."""

    def __init__(self, workdir: Path) -> None:
        self.log = workdir / "sandbox.log"
        argv = [sys.executable, "-m", "carriers.sandbox", "--cdek-port", str(free_port())]
        self.proc = load.spawn([*argv, "--courier-port", str(free_port())], self.log)
        self.url = self.client_id = self.client_secret = ""

    async def wait_up(self, within_s: float = 60.0) -> None:
        stop = time.monotonic() + within_s
        while time.monotonic() < stop:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self.proc.returncode}; see {self.log}")
            text = self.log.read_text(errors="replace")
            url = re.search(r"CDEK v2 emulator:\s+(\S+)", text)
            creds = re.search(r"CDEK_CLIENT_ID=(\S+) CDEK_CLIENT_SECRET=(\S+)", text)
            if url and creds:
                self.url = load.loopback_only(url.group(1))
                self.client_id, self.client_secret = creds.groups()
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the emulator printed no URL within {within_s:.0f} s; see {self.log}")

    def booking(self, http: aiohttp.ClientSession) -> CdekBooking:
        """The adapter straight at this emulator, as the service's is."""
        client = CdekClient(
            http, client_id=Secret(self.client_id), client_secret=Secret(self.client_secret), base_url=self.url
        )
        return CdekBooking(client)

    async def orders(self, http: aiohttp.ClientSession) -> Counter[str]:
        """Carrier orders the emulator holds, per our number (the shipment id)."""
        async with http.get(self.url + "/_sandbox/orders") as r:
            listed = orjson.loads(await r.read())
        return Counter(str(o["number"]) for o in listed["orders"])

    async def count(self, http: aiohttp.ClientSession, number: str) -> int:
        async with http.get(self.url + "/_sandbox/orders", params={"number": number}) as r:
            return int(orjson.loads(await r.read())["count"])

    def stop(self) -> None:
        load.end_group(self.proc, grace_s=5)
        if self.proc in load._started:
            load._started.remove(self.proc)


def carriers_toml(path: Path, emulator_url: str) -> None:
    """The bundled rate cards and one CDEK-format account, by URL and credential variables only."""
    path.write_text(
        "[[carriers]]\n"
        'kind = "ratecard"\n'
        f"path = {orjson.dumps(str(ROOT / 'data' / 'carriers')).decode()}\n"
        "\n"
        "[[carriers]]\n"
        'kind = "cdek"\n'
        'code = "cdek"\n'
        f'base_url = "{emulator_url}"\n'
        'client_id_env = "CDEK_CLIENT_ID"\n'
        'client_secret_env = "CDEK_CLIENT_SECRET"\n'
        "tariffs = [136, 137]\n"
        "timeout_s = 5\n",
        encoding="utf-8",
    )


class Database:
    """A database of this run on the machine's PostgreSQL, dropped at the end."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.name = "carrier_router_bench_" + secrets.token_hex(4)
        self.url = f"{self.server}/{self.name}"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.server + "/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.name}"')

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# ---------------------------------------------------------------- clients


@dataclass
class Booking:
    """One client's booking, from its first request to the carrier's number."""

    key: str
    shipment_id: str | None = None
    status: str | None = None
    tracking_number: str | None = None
    first_status: str | None = None  # of the first 201
    seconds: float | None = None  # request to `booked` with a number
    sent_at: float = 0.0  # wall clock, to set beside the service's own times of its carrier calls
    done_at: float = 0.0
    resent: int = 0  # requests sent again with the same key after a connection error or a 5xx
    error: str | None = None  # why it has no shipment


@dataclass
class Run:
    name: str
    bookings: list[Booking] = field(default_factory=list)
    wall_s: float = 0.0
    note: str = ""
    listed: set[str] = field(default_factory=set)
    orders: Counter[str] = field(default_factory=Counter)
    phases: str = ""
    cpu_ms: float | None = None  # CPU a booking cost the service's processes, or the bench process (baseline)


async def phases(http: aiohttp.ClientSession, url: str, bookings: list[Booking], sample: int = 200) -> str:
    """Where a booking's time goes, medians over a sample, from the calls each shipment keeps:
    request to the create call, create to the call that read the number, number to the answer."""
    to_create, to_number, to_answer = [], [], []
    for b in [b for b in bookings if b.seconds is not None][:sample]:
        async with http.get(f"{url}/v1/shipments/{b.shipment_id}") as r:
            calls = orjson.loads(await r.read()).get("calls", [])
        at = {c["operation"]: datetime.fromisoformat(c["at"].replace("Z", "+00:00")).timestamp() for c in calls}
        numbered = [c for c in calls if (c.get("detail") or {}).get("tracking_number")]
        if "create" not in at or not numbered:
            continue
        read_at = datetime.fromisoformat(numbered[0]["at"].replace("Z", "+00:00")).timestamp()
        read_at += numbered[0]["duration_ms"] / 1000
        to_create.append((at["create"] - b.sent_at) * 1000)
        to_number.append((read_at - at["create"]) * 1000)
        to_answer.append((b.done_at - read_at) * 1000)
    if not to_create:
        return ""
    return (
        f"medians over {len(to_create)} bookings: request to the create call {pct(to_create, 50):,.0f} ms, "
        f"create to the call that read the number {pct(to_number, 50):,.0f} ms, "
        f"number read to the client's answer {pct(to_answer, 50):,.0f} ms"
    )


def shipment_body(quote_id: str, offer: str, n: int) -> dict[str, Any]:
    return {
        "quote_id": quote_id,
        "offer_id": offer,
        "order_number": f"B-{n}",
        "recipient": RECIPIENT,
        "sender": SENDER,
        "items": ITEMS,
    }


async def make_quotes(http: aiohttp.ClientSession, url: str, n: int, clients: int, offer: str, salt: int) -> list[str]:
    """`n` quotes, each a cache miss (its own declared value), every one offering `offer`."""
    quotes: list[str] = [""] * n
    todo = iter(range(n))

    async def client() -> None:
        for i in todo:
            body = {**TO_A_DOOR, "declared_value": str(1000 + salt + i)}
            async with http.post(url + "/v1/quotes", json=body) as r:
                answer = orjson.loads(await r.read())
                if r.status not in (200, 201):
                    raise RuntimeError(f"quote answered {r.status}: {answer}")
            if not any(o["id"] == offer for o in answer["offers"]):
                raise RuntimeError(
                    f"quote {answer['quote_id']} has no {offer} offer: {[o['id'] for o in answer['offers']]}"
                )
            quotes[i] = answer["quote_id"]

    await asyncio.gather(*(client() for _ in range(clients)))
    return quotes


async def book(http: aiohttp.ClientSession, url: str, quote_id: str, offer: str, n: int) -> Booking:
    """Book as a careful client does: the same key again after a lost answer, then follow to the number."""
    booking = Booking(key=secrets.token_hex(16))
    body = orjson.dumps(shipment_body(quote_id, offer, n))
    headers = {"Idempotency-Key": booking.key, "Content-Type": "application/json"}
    started = time.monotonic()
    booking.sent_at = time.time()
    until = started + SETTLE_BOUND_S
    shipment: dict[str, Any] | None = None
    while shipment is None:
        try:
            async with http.post(url + "/v1/shipments", data=body, headers=headers) as r:
                answer = await r.read()
                if r.status == 201:
                    shipment = orjson.loads(answer)
                    break
                if r.status < 500 and r.status != 429:
                    booking.error = f"{r.status}: {answer[:200].decode(errors='replace')}"
                    return booking
                problem = str(r.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            problem = type(exc).__name__
        if time.monotonic() >= until:
            booking.error = f"no 201 within {SETTLE_BOUND_S:.0f} s (last: {problem})"
            return booking
        booking.resent += 1
        await asyncio.sleep(0.2)
    booking.shipment_id = str(shipment["id"])
    booking.first_status = booking.status = str(shipment["status"])
    pause = 0.05
    while shipment["status"] == "booking" and time.monotonic() < until:
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 0.5)
        try:
            async with http.get(f"{url}/v1/shipments/{booking.shipment_id}") as r:
                if r.status == 200:
                    shipment = orjson.loads(await r.read())
        except (aiohttp.ClientError, TimeoutError):
            pass  # a worker going away; the shipment is read again after the pause
    booking.status = str(shipment["status"])
    booking.tracking_number = shipment.get("tracking_number")
    if booking.status == "booked" and booking.tracking_number:
        booking.seconds = time.monotonic() - started
        booking.done_at = time.time()
    return booking


async def book_all(
    url: str, quotes: list[str], offer: str, clients: int, halfway: Any = None
) -> tuple[list[Booking], float]:
    """Every quote booked, `clients` at a time; `halfway()` is called once half of them have started."""
    results: list[Booking | None] = [None] * len(quotes)
    todo = iter(range(len(quotes)))
    half = len(quotes) // 2
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:

        async def client() -> None:
            for i in todo:
                if i == half and halfway is not None:
                    halfway()
                results[i] = await book(http, url, quotes[i], offer, i)

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall_s = time.monotonic() - started
    return [b for b in results if b is not None], wall_s


async def listed_shipments(http: aiohttp.ClientSession, url: str) -> dict[str, str]:
    """Every shipment `GET /v1/shipments` lists, page by page, with its status."""
    found: dict[str, str] = {}
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        async with http.get(url + "/v1/shipments", params=params) as r:
            page = orjson.loads(await r.read())
            if r.status != 200:
                raise RuntimeError(f"GET /v1/shipments answered {r.status}: {page}")
        found.update({s["id"]: s["status"] for s in page["shipments"]})
        cursor = page.get("next_cursor")
        if not cursor:
            return found


# ---------------------------------------------------------------- the baseline: CdekBooking straight


def carrier_order(number: str, n: int) -> CarrierOrder:
    moscow = Place(55.7558, 37.6173, "RU", "Москва", "RU-MOW", "Europe/Moscow", "101000", "ул. Складская, 5")
    novosibirsk = Place(55.0084, 82.9357, "RU", "Новосибирск", "RU-NVS", "Asia/Novosibirsk", "630000", "ул. Ленина, 1")
    item = Item("Кружка", "MUG-1", 2, Decimal("450.00"), 400)
    return CarrierOrder(
        number=number,
        service="137",
        delivery_type=DeliveryType.COURIER,
        origin=moscow,
        destination=novosibirsk,
        sender=Contact("Склад Москва", "+74951234567", company="Магазин"),
        recipient=Contact("Анна Петрова", "+79131234567", email="anna@example.ru"),
        parcels=(OrderParcel("1", 1200, 30, 20, 10, (item,)),),
        ship_date=date.today(),
        shop_order_number=f"B-{n}",
        declared_value_rub=Decimal(900),
    )


async def direct_bookings(emulator: Emulator, n: int, clients: int) -> Run:
    run = Run(f"baseline: `CdekBooking` straight, {clients} at once")
    prefix = "direct-" + secrets.token_hex(3) + "-"
    todo = iter(range(n))
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
        api = emulator.booking(http)

        async def worker() -> None:
            for i in todo:
                booking = Booking(key=f"{prefix}{i}", shipment_id=f"{prefix}{i}")
                started = time.monotonic()
                state = await api.create(carrier_order(booking.key, i))
                booking.first_status = state.status.value
                while state.status is OrderStatus.PENDING:
                    await asyncio.sleep(FOLLOW_S)
                    state = await api.follow(state.carrier_ref)
                booking.status, booking.tracking_number = state.status.value, state.tracking_number
                if state.status is OrderStatus.BOOKED and state.tracking_number:
                    booking.seconds = time.monotonic() - started
                run.bookings.append(booking)

        started, cpu_before = time.monotonic(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(clients)))
        run.wall_s = time.monotonic() - started
        run.cpu_ms = (time.process_time() - cpu_before) * 1000 / max(1, n)
        counts = await emulator.orders(http)
    run.orders = Counter({k: v for k, v in counts.items() if k.startswith(prefix)})
    return run


# ---------------------------------------------------------------- figures


async def figure_a(service: Service, emulator: Emulator, twins: int) -> list[Check]:
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
        (quote_id,) = await make_quotes(http, service.url, 1, 1, CDEK_OFFER, salt=0)
        body = orjson.dumps(shipment_body(quote_id, CDEK_OFFER, 0))
        headers = {"Idempotency-Key": secrets.token_hex(16), "Content-Type": "application/json"}

        async def post() -> tuple[int, bytes, bool]:
            async with http.post(service.url + "/v1/shipments", data=body, headers=headers) as r:
                return r.status, await r.read(), r.headers.get("Idempotent-Replayed") == "true"

        started = time.monotonic()
        answers = await asyncio.gather(*(post() for _ in range(twins)))
        wall_s = time.monotonic() - started
        statuses = Counter(status for status, _, _ in answers)
        bodies = {answer for _, answer, _ in answers}
        replayed = sum(r for _, _, r in answers)
        made = [orjson.loads(a) for s, a, _ in answers if s == 201]
        ids = {m["id"] for m in made}
        orders = {i: await emulator.count(http, i) for i in ids}
    shown = ", ".join(f"{n} × {s}" for s, n in statuses.most_common())
    first = made[0] if made else {}
    return [
        Check(
            f"A: {twins} concurrent `POST /v1/shipments`, one key: answers",
            f"{twins} × 201",
            f"{shown} ({replayed} replayed) in {wall_s:.2f} s; shipment {first.get('status')} "
            f"with number {first.get('tracking_number')}",
            statuses == Counter({201: twins}),
        ),
        Check("A: shipments made", "1", str(len(ids)), len(ids) == 1),
        Check("A: distinct answer bodies", "1", str(len(bodies)), len(bodies) == 1),
        Check(
            "A: carrier orders for the shipment's number (emulator)",
            "1",
            ", ".join(str(n) for n in orders.values()) or "no shipment",
            list(orders.values()) == [1],
        ),
    ]


async def service_run(
    name: str, service: Service, emulator: Emulator, quotes: list[str], clients: int, kill: bool
) -> Run:
    run = Run(name)
    killed: dict[str, float] = {}

    def kill_one() -> None:
        victim = service.workers()[0]
        killed["at"] = time.monotonic()
        killed["pid"] = victim
        os.kill(victim, signal.SIGKILL)  # a worker of the service this run started

    pids = service.pids()
    cpu_before = cpu_s(pids)
    run.bookings, run.wall_s = await book_all(service.url, quotes, CDEK_OFFER, clients, kill_one if kill else None)
    if not kill:  # a killed worker takes its CPU count with it
        run.cpu_ms = (cpu_s(pids) - cpu_before) * 1000 / max(1, len(quotes))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)) as http:
        listed = await listed_shipments(http, service.url)
        ids = {b.shipment_id for b in run.bookings if b.shipment_id}
        run.listed = {i for i in ids if i in listed}
        counts = await emulator.orders(http)
        if not kill:
            run.phases = await phases(http, service.url, run.bookings)
    run.orders = Counter({k: v for k, v in counts.items() if k in ids})
    if kill:
        run.note = f"worker {killed.get('pid')} killed with SIGKILL after {len(quotes) // 2} bookings had started"
    return run


@dataclass
class Figures:
    lost: int
    duplicated: int
    orders: int
    shipments: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    answered_booking: int
    resent: int
    waited_lease: int
    not_booked: Counter[str]


def figures(run: Run, service: bool) -> Figures:
    made = [b for b in run.bookings if b.shipment_id]
    lost = sum(1 for b in made if b.seconds is None or (service and b.shipment_id not in run.listed))
    lost += sum(1 for b in run.bookings if not b.shipment_id)  # asked and never given a shipment
    ms = [b.seconds * 1000 for b in made if b.seconds is not None]
    return Figures(
        lost=lost,
        duplicated=sum(n - 1 for n in run.orders.values() if n > 1),
        orders=sum(run.orders.values()),
        shipments=len(made),
        p50_ms=pct(ms, 50),
        p99_ms=pct(ms, 99),
        max_ms=max(ms, default=float("nan")),
        answered_booking=sum(1 for b in made if b.first_status in ("booking", "pending")),
        resent=sum(b.resent for b in run.bookings),
        waited_lease=sum(1 for m in ms if m >= LEASE_S * 1000),
        not_booked=Counter(b.error or b.status or "?" for b in run.bookings if b.seconds is None),
    )


def booking_table(runs: list[tuple[Run, Figures, bool]]) -> str:
    out = [
        "| run | bookings | lost | duplicated carrier orders | carrier orders / shipments "
        "| answered still booking | p50 ms | p99 ms | max ms | bookings/s | CPU per booking |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run, f, service in runs:
        out.append(
            f"| {run.name} | {len(run.bookings):,} | {f.lost} | {f.duplicated} | {f.orders:,} / {f.shipments:,} "
            f"| {f.answered_booking if service else '—'} | {f.p50_ms:,.0f} | {f.p99_ms:,.0f} | {f.max_ms:,.0f} "
            f"| {len(run.bookings) / run.wall_s:,.1f} "
            f"| {'' if run.cpu_ms is None else f'{run.cpu_ms:.1f} ms'} |"
        )
    return "\n".join(out)


def booking_checks(run: Run, f: Figures, tag: str) -> list[Check]:
    checks = [
        Check(f"{tag}: shipments lost", "0", f"{f.lost} of {len(run.bookings):,}", f.lost == 0),
        Check(f"{tag}: duplicated carrier orders", "0", str(f.duplicated), f.duplicated == 0),
        Check(
            f"{tag}: carrier orders == shipments",
            "equal",
            f"{f.orders:,} / {f.shipments:,}",
            f.orders == f.shipments,
        ),
    ]
    if f.not_booked:
        shown = "; ".join(f"{n} × {why}" for why, n in f.not_booked.most_common(3))
        checks.append(Check(f"{tag}: bookings without a number", "none", shown, False))
    return checks


async def figure_d(service: Service, n: int, clients: int, rounds: int) -> tuple[str, list[Check]]:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:
        quotes = await make_quotes(http, service.url, n, clients, PARTNER_OFFER, salt=500_000)
    made, _ = await book_all(service.url, quotes, PARTNER_OFFER, clients)
    ids = [b.shipment_id for b in made if b.shipment_id and b.status == "booked"]
    checks = [Check(f"D: {PARTNER_OFFER} shipments booked for labels", str(n), str(len(ids)), len(ids) == n)]
    async with aiohttp.ClientSession(timeout=timeout) as http:
        batch: list[tuple[float, int]] = []
        pages = 0
        for _ in range(rounds):
            started = time.monotonic()
            async with http.post(service.url + "/v1/labels", json={"shipment_ids": ids, "format": "a4"}) as r:
                pdf = await r.read()
                if r.status != 200:
                    raise RuntimeError(f"POST /v1/labels answered {r.status}: {pdf[:300]!r}")
            batch.append((time.monotonic() - started, len(pdf)))
            pages = pdf_pages(pdf)
        single_bytes, single_pages, failed = 0, 0, 0
        started = time.monotonic()
        for shipment_id in ids:
            async with http.get(f"{service.url}/v1/shipments/{shipment_id}/label", params={"format": "a4"}) as r:
                pdf = await r.read()
                if r.status != 200:
                    failed += 1
                single_bytes += len(pdf)
        singles_s = time.monotonic() - started
        single_pages = len(ids)  # one label, one page each
    checks.append(Check("D: single-label GETs answered 200", str(len(ids)), str(len(ids) - failed), failed == 0))
    times = sorted(s for s, _ in batch)
    median_s = times[len(times) // 2]
    spread = f" ({times[0]:.2f}–{times[-1]:.2f} s over {rounds})" if rounds > 1 else ""
    table = "\n".join(
        [
            "| labels | how | time | PDF size | pages |",
            "|---|---|---:|---:|---:|",
            f"| {len(ids)} | `POST /v1/labels`, a4, one PDF | {median_s:.2f} s{spread} "
            f"| {batch[0][1] / 1024:,.0f} KB | {pages} |",
            f"| {len(ids)} | baseline: `GET /v1/shipments/{{id}}/label?format=a4`, one after another "
            f"| {singles_s:.2f} s ({singles_s / max(1, len(ids)) * 1000:.1f} ms each) "
            f"| {single_bytes / 1024:,.0f} KB in all | {single_pages} |",
        ]
    )
    return table, checks


def pdf_pages(pdf: bytes) -> int:
    try:
        from pypdf import PdfReader
    except ImportError:
        return 0
    return len(PdfReader(io.BytesIO(pdf)).pages)


# ---------------------------------------------------------------- main


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 bookings a run and 100 labels")
    parser.add_argument("--bookings", type=int, default=None, help="bookings in B and C (default 1,000)")
    parser.add_argument("--labels", type=int, default=None, help="labels in D's batch (default 500, at most 500)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients in B, C and D (default 16)")
    parser.add_argument("--twins", type=int, default=100, help="concurrent requests with one key in A (default 100)")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432",
        help="the PostgreSQL server a database of the run is made on (default the machine's, user postgres)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the service's and emulator's logs (prints where)")
    args = parser.parse_args()
    bookings = args.bookings or (200 if args.quick else 1000)
    labels = args.labels or (100 if args.quick else 500)
    if not 1 <= labels <= 500:
        parser.error("--labels from 1 to 500 (a batch holds at most 500)")
    if not 2 <= bookings <= 20_000 or not 1 <= args.clients <= 256:
        parser.error("--bookings from 2 to 20,000, --clients from 1 to 256")
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool):
            parser.error(f"{tool} is needed on PATH")
    workdir = Path(tempfile.mkdtemp(prefix="carrier-router-shipments-"))
    load_at_start = os.getloadavg()[0]
    checks: list[Check] = []
    tables: list[str] = []
    database = Database(args.postgres)
    await database.create()
    redis = Redis(workdir)
    emulator = Emulator(workdir)
    service: Service | None = None
    try:
        await redis.start()
        await emulator.wait_up()
        config = workdir / "carriers.toml"
        carriers_toml(config, emulator.url)
        env = {
            "DATABASE_URL": database.url,
            "CARRIER_ROUTER_CONFIG": str(config),
            "CDEK_CLIENT_ID": emulator.client_id,
            "CDEK_CLIENT_SECRET": emulator.client_secret,
        }
        service = Service(workdir, "--workers", "2", "--redis-url", redis.url, env=env)
        await service.wait_up(listening=2)

        print(f"… A: {args.twins} requests with one key", file=sys.stderr, flush=True)
        checks += await figure_a(service, emulator, args.twins)

        print(f"… B and C: {2 * bookings:,} quotes", file=sys.stderr, flush=True)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)) as http:
            quotes_b = await make_quotes(http, service.url, bookings, args.clients, CDEK_OFFER, salt=1)
            quotes_c = await make_quotes(http, service.url, bookings, args.clients, CDEK_OFFER, salt=1 + bookings)
        print(f"… B: {bookings:,} bookings, {args.clients} clients", file=sys.stderr, flush=True)
        b = await service_run(
            f"service, `serve --workers 2`, {args.clients} clients", service, emulator, quotes_b, args.clients, False
        )
        print(f"… B baseline: {bookings:,} orders through CdekBooking", file=sys.stderr, flush=True)
        base = await direct_bookings(emulator, bookings, args.clients)
        print(f"… C: {bookings:,} bookings, a worker killed halfway", file=sys.stderr, flush=True)
        c = await service_run(
            "service, one of two workers killed with SIGKILL halfway", service, emulator, quotes_c, args.clients, True
        )
        fb, fbase, fc = figures(b, True), figures(base, False), figures(c, True)
        tables.append(booking_table([(b, fb, True), (base, fbase, False), (c, fc, True)]))
        tables.append(
            f"Request to carrier number, the service against `CdekBooking` straight: "
            f"p50 {fb.p50_ms / fbase.p50_ms:.2f}×, p99 {fb.p99_ms / fbase.p99_ms:.2f}×. "
            f"Both wait {FOLLOW_S:g} s before looking again at an order the emulator has not decided "
            f"(it decides 0.2 s after the order). C: {c.note}; the jobs it held wait for their "
            f"{LEASE_S:.0f}-s lease to run out before the other worker takes them: {fc.waited_lease} "
            f"bookings took longer than the lease; "
            f"{fc.resent} requests were sent again with the same key."
            + (f" B, {b.phases}." if b.phases else "")
            + " CPU per booking: the service's processes (workers, supervisor) for the service rows, the bench"
            f" process for the baseline. Load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f}"
            f" at the end, on {os.cpu_count()} cores."
        )
        checks += booking_checks(b, fb, "B")
        checks += booking_checks(base, fbase, "B baseline")
        checks += booking_checks(c, fc, "C")

        print(f"… D: {labels} labels", file=sys.stderr, flush=True)
        table, more = await figure_d(service, labels, args.clients, rounds=1 if args.quick else 3)
        tables.append(table)
        checks += more
    finally:
        if service is not None:
            service.stop()
        emulator.stop()
        redis.close()
        reap_all()
        await database.drop()
        leave(workdir, args.keep)
    return report(tables, checks)


def leave(workdir: Path, keep: bool) -> None:
    """The run's files kept for a look (`--keep`), or removed."""
    if keep:
        print(f"logs kept in {workdir}", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def report(tables: list[str], checks: list[load.Check]) -> int:
    """Every table, then the checks; 1 when a target was missed."""
    for table in tables:
        print(table)
        print()
    print(load.check_table(checks))
    return 1 if any(c.ok is False for c in checks) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
