"""Tracking through a real `carrier-router serve --workers 2` on PostgreSQL and Redis: CDEK's status
calls in, the shop's signed webhooks out, and polling, against the CDEK emulator in a process of its own.

    .venv/bin/python bench/tracking.py              # 1,000 shipments, 100,000 status calls, 10,000 polled
    .venv/bin/python bench/tracking.py --quick      # 200 shipments, 10,000 status calls, 1,000 polled
    .venv/bin/python bench/tracking.py --shipments 500 --events 50000 --senders 16
    .venv/bin/python bench/tracking.py --only 3 --polled 1000 --watch 90 --limit 300

Figures:

1  `--shipments` CDEK door shipments (`cdek:137`) booked through the service, a webhook endpoint
   of the shop (an aiohttp receiver in this process that checks every signature), then `--events`
   `ORDER_STATUS` calls as CDEK makes them (`POST /v1/inbound/cdek/{token}`): a realistic journey
   per order in CDEK's codes (`carriers.cdek.statuses`), hops through transit cities as many as
   make the total, about a fifth of the calls sent twice, neighbours swapped, orders interleaved,
   from `--senders` senders at once. Calls/s accepted; p50/p99 from a call that changes a
   shipment's status to the receiver holding the `shipment.status_changed` it causes; every
   shipment's history (`GET /v1/shipments/{id}`) equal to the distinct events sent, by carrier
   time, its `tracking_status` the latest's. Polling off (`CARRIER_ROUTER_TRACKING_POLL_S=0`).
   The floor in the same run: the same calls to a bare aiohttp handler (its own process) that
   only reads each call (`read_webhook`).
2  the receiver answering 503 for `--down` seconds while calls for fresh shipments flow, then
   answering again: every status change delivered (each event the service wrote reached the
   receiver), in order per shipment (event ids and carrier times never go back), copies counted
   (at-least-once); then the same with one worker killed with SIGKILL while the receiver is down.
3  `--polled` open shipments polled over the two workers (the service restarted with
   `CARRIER_ROUTER_TRACKING_POLL_S=--poll-s`), the CDEK account's `polls_per_minute` in the
   carriers TOML (`--limit`, else the default 600). They are not booked one by one (about 7 a
   second): one booked shipment's row is copied into the records with a new id and a carrier order
   of its own made straight through `CdekBooking`, and its `track` job scheduled, as booking does,
   first due within `--poll-s`. The emulator's request counts per path (`/_sandbox/stats`), read
   every second from before the service starts, give each order's polls. Checks: no order polled
   twice within an interval; polls in any 60 s within the limit; and, when more are due than the
   limit allows, oldest due first: no shipment polled again while a shipment due earlier (each due
   an interval after its last poll) had not been polled, beyond `FAIR_TOLERANCE_S`
   (docs/tracking.md). With 10,000 due every 5 s at 600 a minute, not all can be polled in the
   watch: that is reported, not checked. `--only 3` books one shipment (the model) and skips
   figures 1 and 2.

Prints markdown tables; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402
from load import Check, Redis, Service, free_port, pct, reap_all  # noqa: E402
from shipments import (  # noqa: E402
    CDEK_OFFER,
    CLIENT_TIMEOUT_S,
    FOLLOW_S,
    Database,
    Emulator,
    book_all,
    carrier_order,
    carriers_toml,
    leave,
    make_quotes,
    report,
)

from carriers.booking import OrderStatus  # noqa: E402
from carriers.cdek.statuses import CDEK_STATUSES, read_webhook  # noqa: E402
from carriers.config import load_config  # noqa: E402
from router.tracking.poller import pace  # noqa: E402
from router.webhooks.sender import EVENT_ID, SIGNATURE  # noqa: E402

TOKEN = "bench-inbound-" + secrets.token_hex(8)
NOVOSIBIRSK = timedelta(hours=7)
MOSCOW = timedelta(hours=3)
DUPLICATES = 0.2
SWAPS = 0.2
START = ["CREATED", "RECEIVED_AT_SHIPMENT_WAREHOUSE", "READY_FOR_SHIPMENT_IN_SENDER_CITY"]
START += ["TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY"]
HOP = ["SENT_TO_TRANSIT_CITY", "ACCEPTED_IN_TRANSIT_CITY", "ACCEPTED_AT_TRANSIT_WAREHOUSE"]
HOP += ["READY_FOR_SHIPMENT_IN_TRANSIT_CITY", "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY"]
END = ["SENT_TO_RECIPIENT_CITY", "ACCEPTED_IN_RECIPIENT_CITY", "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE"]
END += ["TAKEN_BY_COURIER", "DELIVERED"]
assert all(code in CDEK_STATUSES for code in START + HOP + END)


# ---------------------------------------------------------------- CDEK's calls


@dataclass(frozen=True)
class Call:
    shipment_id: str
    uuid: str
    cdek_number: str
    code: str
    at: datetime  # the status's own time, in the city's zone

    def body(self) -> bytes:
        stamp = self.at.strftime("%Y-%m-%dT%H:%M:%S%z")
        return orjson.dumps(
            {
                "type": "ORDER_STATUS",
                "date_time": stamp,
                "uuid": self.uuid,
                "attributes": {
                    "is_return": False,
                    "cdek_number": self.cdek_number,
                    "number": self.shipment_id,
                    "code": self.code,
                    "status_date_time": stamp,
                    "city_name": "Новосибирск" if self.at.utcoffset() == NOVOSIBIRSK else "Москва",
                },
            }
        )


def journey(shipment: dict[str, Any], distinct: int, start: datetime, rng: random.Random) -> list[Call]:
    """`distinct` statuses of one order in time order: the sender's city, as many transit hops as
    make the count, the recipient's city to the door."""
    hops = max(0, (distinct - len(START) - len(END)) // len(HOP))
    codes = START + HOP * hops + END
    codes = codes[: max(1, distinct)] if distinct < len(codes) else codes
    while len(codes) < distinct:  # a parcel moved between transit warehouses once more
        codes.insert(len(START), "ACCEPTED_AT_TRANSIT_WAREHOUSE")
    at = start
    calls = []
    for i, code in enumerate(codes):
        at += timedelta(minutes=rng.randint(20, 600))
        zone = NOVOSIBIRSK if i >= len(codes) - len(END) else MOSCOW
        calls.append(
            Call(
                shipment["id"],
                shipment["carrier_order_id"],
                shipment["tracking_number"],
                code,
                at.astimezone(timezone(zone)),
            )
        )
    return calls


def sending_order(journeys: list[list[Call]], total: int, rng: random.Random) -> list[Call]:
    """All calls, orders interleaved, each order's own calls mostly in order: neighbours swapped and
    about a fifth sent again a little later, as CDEK resends a call it thinks was not taken."""
    queues = []
    for calls in journeys:
        own = list(calls)
        for i in range(len(own) - 1):
            if rng.random() < SWAPS:
                own[i], own[i + 1] = own[i + 1], own[i]
        queues.append(own)
    copies = total - sum(len(q) for q in queues)
    for _ in range(max(0, copies)):
        own = rng.choice(queues)
        i = rng.randrange(len(own))
        own.insert(min(len(own), i + rng.randint(1, 4)), own[i])
    order: list[Call] = []
    live = [q[::-1] for q in queues if q]
    while live:
        i = rng.randrange(len(live))
        order.append(live[i].pop())
        if not live[i]:
            live[i] = live[-1]
            live.pop()
    return order


@dataclass
class Sent:
    wall_s: float = 0.0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    resent: int = 0
    changed_at: list[tuple[Call, float]] = field(default_factory=list)  # calls that changed a status, when sent


async def send_calls(url: str, calls: list[Call], senders: int, pace_s: float = 0.0) -> Sent:
    """Every call POSTed by `senders` at once; a call that fails or answers 5xx is sent again, as CDEK does."""
    sent = Sent()
    todo = iter(calls)
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as http:

        async def sender() -> None:
            for call in todo:
                body = call.body()
                for _ in range(50):
                    started = time.monotonic()
                    try:
                        async with http.post(url, data=body, headers=headers) as r:
                            answer = await r.read()
                            status = r.status
                    except (aiohttp.ClientError, TimeoutError):
                        status, answer = 0, b""
                    if 200 <= status < 300:
                        sent.accepted += 1
                        if orjson.loads(answer).get("changed"):
                            sent.changed_at.append((call, started))
                        break
                    if 0 < status < 500:
                        sent.refused[f"{status}: {answer[:120].decode(errors='replace')}"] += 1
                        break
                    sent.resent += 1
                    await asyncio.sleep(0.2)
                if pace_s:
                    await asyncio.sleep(pace_s)

        started = time.monotonic()
        await asyncio.gather(*(sender() for _ in range(senders)))
        sent.wall_s = time.monotonic() - started
    return sent


# ---------------------------------------------------------------- the shop's receiver


@dataclass
class Told:
    event_id: int
    subject: str
    status: str
    at: datetime  # the carrier's time of the event that caused it
    seen: float  # monotonic


class Receiver:
    """The shop's endpoint: checks each signature, keeps what it was told, or answers 503 while down."""

    def __init__(self) -> None:
        self.secret = ""
        self.down = False
        self.told: list[Told] = []
        self.bad_signatures = 0
        self.refused = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.down:
            self.refused += 1
            return web.Response(status=503)
        parts = dict(p.split("=", 1) for p in request.headers.get(SIGNATURE, "").split(","))
        expected = hmac.new(self.secret.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            self.bad_signatures += 1
            return web.Response(status=400)
        event = orjson.loads(body)
        caused = event["data"]["event"]
        self.told.append(
            Told(
                int(request.headers[EVENT_ID]),
                event["subject"],
                caused["status"],
                datetime.fromisoformat(caused["at"]),
                time.monotonic(),
            )
        )
        return web.Response(status=204)


# ---------------------------------------------------------------- the floor


def floor_app() -> web.Application:
    async def take(request: web.Request) -> web.Response:
        read_webhook(await request.read())
        return web.json_response({"taken": True, "changed": False})

    app = web.Application()
    app.router.add_post("/v1/inbound/{carrier}/{token}", take)
    return app


class Floor:
    """The bare handler in a process of its own, as the service's workers are."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, str(Path(__file__).resolve()), "--floor-port", str(self.port)]
        self.proc = load.spawn(argv, workdir / "floor.log")

    async def wait_up(self) -> None:
        for _ in range(200):
            if load.listeners(self.port):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the floor handler did not start")

    def stop(self) -> None:
        load.end_group(self.proc, grace_s=2)


# ---------------------------------------------------------------- helpers


async def book(service: Service, n: int, senders: int, salt: int) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)) as http:
        quotes = await make_quotes(http, service.url, n, senders, CDEK_OFFER, salt=salt)
    made, _ = await book_all(service.url, quotes, CDEK_OFFER, senders)
    ids = [b.shipment_id for b in made if b.shipment_id and b.status == "booked"]
    if len(ids) != n:
        raise RuntimeError(f"{n - len(ids)} of {n} shipments not booked")
    return await shipments(service, ids)


async def shipments(service: Service, ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)) as http:
        for chunk in range(0, len(ids), 32):

            async def one(shipment_id: str) -> dict[str, Any]:
                async with http.get(f"{service.url}/v1/shipments/{shipment_id}") as r:
                    return dict(orjson.loads(await r.read()))

            out += await asyncio.gather(*(one(i) for i in ids[chunk : chunk + 32]))
    return out


def histories_exact(read: list[dict[str, Any]], journeys: list[list[Call]]) -> tuple[int, list[str]]:
    wrong = []
    sent = {calls[0].shipment_id: calls for calls in journeys if calls}
    for shipment in read:
        calls = sent[shipment["id"]]
        want = sorted({(c.code, c.at) for c in calls}, key=lambda e: e[1])
        got = [(h["carrier_code"], datetime.fromisoformat(h["at"])) for h in shipment["history"]]
        latest = CDEK_STATUSES[want[-1][0]].status.value
        if got != want or shipment["tracking_status"] != latest:
            wrong.append(f"{shipment['id']}: {len(got)} kept of {len(want)}, status {shipment['tracking_status']}")
    return len(read) - len(wrong), wrong


def latencies_ms(changed: list[tuple[Call, float]], told: list[Told]) -> list[float]:
    """From each call that changed a status to the first status_changed of that shipment the receiver
    held after it, for an event no older than the call's (a later call may have overtaken it)."""
    by_subject: dict[str, list[Told]] = defaultdict(list)
    for t in told:
        by_subject[t.subject].append(t)
    out = []
    for call, sent_at in changed:
        for t in by_subject.get(call.shipment_id, []):
            if t.seen >= sent_at and t.at >= call.at:
                out.append((t.seen - sent_at) * 1000)
                break
    return out


async def until_quiet(receiver: Receiver, database: Database, subjects: set[str], within_s: float) -> None:
    """Until every event written for these shipments has reached the receiver, or `within_s`."""
    stop = time.monotonic() + within_s
    while time.monotonic() < stop:
        written = await written_events(database, subjects)
        if written and set(written) <= {t.event_id for t in receiver.told}:
            return
        await asyncio.sleep(0.5)


async def written_events(database: Database, subjects: set[str]) -> dict[int, str]:
    import asyncpg

    conn = await asyncpg.connect(database.url)
    try:
        rows = await conn.fetch(
            "SELECT id, subject FROM webhook_events WHERE type = 'shipment.status_changed' AND subject = ANY($1)",
            list(subjects),
        )
    finally:
        await conn.close()
    return {int(r["id"]): str(r["subject"]) for r in rows}


# ---------------------------------------------------------------- figure 1


async def figure_1(
    service: Service,
    database: Database,
    floor: Floor,
    receiver: Receiver,
    booked: list[dict[str, Any]],
    total: int,
    senders: int,
) -> tuple[str, list[Check], list[list[Call]]]:
    rng = random.Random(1)
    distinct = max(1, round(total * (1 - DUPLICATES) / len(booked)))
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30)
    journeys = [journey(s, distinct, start, rng) for s in booked]
    calls = sending_order(journeys, total, rng)
    print(f"… 1: {len(calls):,} status calls, {senders} senders", file=sys.stderr, flush=True)
    told_before = len(receiver.told)
    sent = await send_calls(f"{service.url}/v1/inbound/cdek/{TOKEN}", calls, senders)
    subjects = {s["id"] for s in booked}
    await until_quiet(receiver, database, subjects, within_s=120)
    print(f"… 1 floor: {len(calls):,} calls to a bare handler", file=sys.stderr, flush=True)
    floor_sent = await send_calls(f"{floor.url}/v1/inbound/cdek/{TOKEN}", calls, senders)
    told = receiver.told[told_before:]
    ms = latencies_ms(sent.changed_at, told)
    read = await shipments(service, sorted(subjects))
    exact, wrong = histories_exact(read, journeys)
    table = "\n".join(
        [
            "| run | status calls | distinct events | calls/s accepted | status changes | "
            "p50 call → shop's webhook | p99 | max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            f"| service, `serve --workers 2`, {senders} senders | {len(calls):,} | {sum(map(len, journeys)):,} "
            f"| {sent.accepted / sent.wall_s:,.0f} | {len(sent.changed_at):,} | {pct(ms, 50):,.0f} ms "
            f"| {pct(ms, 99):,.0f} ms | {max(ms, default=float('nan')):,.0f} ms |",
            f"| floor: a bare aiohttp handler that reads each call, one process | {len(calls):,} | — "
            f"| {floor_sent.accepted / floor_sent.wall_s:,.0f} | — | — | — | — |",
        ]
    )
    checks = [
        Check(
            "1: calls accepted",
            f"{len(calls):,}",
            f"{sent.accepted:,} ({sent.resent} sent again)",
            sent.accepted == len(calls),
        ),
        Check(
            "1: histories exact (distinct events, by carrier time, status the latest's)",
            f"{len(booked):,}",
            f"{exact:,}" + (f"; e.g. {wrong[0]}" if wrong else ""),
            exact == len(booked),
        ),
        Check(
            "1: status changes with their webhook seen",
            f"{len(sent.changed_at):,}",
            f"{len(ms):,}",
            len(ms) == len(sent.changed_at),
        ),
        Check("1: signatures that failed", "0", str(receiver.bad_signatures), receiver.bad_signatures == 0),
    ]
    if sent.refused:
        checks.append(
            Check("1: calls refused", "none", "; ".join(f"{n} × {w}" for w, n in sent.refused.items()), False)
        )
    return table, checks, journeys


# ---------------------------------------------------------------- figure 2


@dataclass
class Outage:
    name: str
    shipments: int = 0
    calls: int = 0
    written: int = 0
    delivered: int = 0
    copies: int = 0
    out_of_order: int = 0
    refused_503: int = 0
    last_status_wrong: int = 0
    wall_s: float = 0.0
    note: str = ""


async def figure_2(
    service: Service,
    database: Database,
    receiver: Receiver,
    booked: list[dict[str, Any]],
    down_s: float,
    senders: int,
    kill: bool,
) -> Outage:
    rng = random.Random(2 + kill)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=20)
    journeys = [journey(s, len(START) + len(HOP) + len(END), start, rng) for s in booked]
    calls = sending_order(journeys, round(sum(map(len, journeys)) / (1 - DUPLICATES)), rng)
    outage = Outage("receiver down" + (", one worker killed with SIGKILL meanwhile" if kill else ""))
    outage.shipments, outage.calls = len(booked), len(calls)
    subjects = {s["id"] for s in booked}
    told_before, refused_before = len(receiver.told), receiver.refused
    # Calls paced to last about as long as the outage and a half, so they flow while it lasts and after.
    pace_s = senders * down_s * 1.5 / max(1, len(calls))
    receiver.down = True
    started = time.monotonic()

    async def back_up() -> None:
        if kill:
            await asyncio.sleep(down_s / 2)
            victim = service.workers()[0]
            os.kill(victim, signal.SIGKILL)  # a worker of the service this run started
            outage.note = f"worker {victim} killed {down_s / 2:.0f} s into the outage"
            await asyncio.sleep(down_s / 2)
        else:
            await asyncio.sleep(down_s)
        receiver.down = False

    await asyncio.gather(send_calls(f"{service.url}/v1/inbound/cdek/{TOKEN}", calls, senders, pace_s), back_up())
    await until_quiet(receiver, database, subjects, within_s=down_s * 2 + 120)
    outage.wall_s = time.monotonic() - started
    written = await written_events(database, subjects)
    told = [t for t in receiver.told[told_before:] if t.subject in subjects]
    outage.written = len(written)
    outage.delivered = len(set(written) & {t.event_id for t in told})
    outage.copies = len(told) - len({t.event_id for t in told})
    outage.refused_503 = receiver.refused - refused_before
    per: dict[str, list[Told]] = defaultdict(list)
    for t in told:
        per[t.subject].append(t)
    for seen in per.values():
        # A copy repeats what came before it; order is judged on first sight of each event.
        firsts: list[Told] = []
        ids: set[int] = set()
        for t in seen:
            if t.event_id not in ids:
                ids.add(t.event_id)
                firsts.append(t)
        outage.out_of_order += sum(
            1 for a, b in zip(firsts, firsts[1:], strict=False) if b.event_id < a.event_id or b.at < a.at
        )
    read = await shipments(service, sorted(subjects))
    for shipment in read:
        seen_list = per.get(shipment["id"], [])
        if not seen_list or seen_list[-1].status != shipment["tracking_status"]:
            outage.last_status_wrong += 1
    return outage


def outage_table(outages: list[Outage], down_s: float) -> str:
    out = [
        f"| run ({down_s:.0f} s down) | shipments | status calls | events written | delivered "
        "| out of order | copies (at-least-once) | 503s answered | last status told ≠ shipment's | until all in |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outages:
        out.append(
            f"| {o.name} | {o.shipments} | {o.calls:,} | {o.written:,} | {o.delivered:,} | {o.out_of_order} "
            f"| {o.copies} | {o.refused_503:,} | {o.last_status_wrong} | {o.wall_s:.0f} s |"
        )
    return "\n".join(out)


def outage_checks(o: Outage, tag: str) -> list[Check]:
    return [
        Check(f"{tag}: events delivered", f"{o.written:,}", f"{o.delivered:,}", o.delivered == o.written > 0),
        Check(f"{tag}: delivered out of order", "0", str(o.out_of_order), o.out_of_order == 0),
        Check(
            f"{tag}: last status told == shipment's",
            f"{o.shipments}",
            f"{o.shipments - o.last_status_wrong}",
            o.last_status_wrong == 0,
        ),
        Check(f"{tag}: copies (at-least-once)", "reported", str(o.copies), None),
    ]


# ---------------------------------------------------------------- figure 3


async def plant(
    emulator: Emulator, database: Database, model_id: str, n: int, clients: int
) -> tuple[dict[str, str], dict[str, float]]:
    """`n` open shipments copied from one booked row, each with a real emulator order: their uuids
    by id, and when each one's first poll is due (epoch seconds)."""
    import asyncpg

    made: dict[str, tuple[str, str]] = {}
    todo = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        api = emulator.booking(http)

        async def worker() -> None:
            for i in todo:
                shipment_id = "shp_" + secrets.token_hex(10)
                state = await api.create(carrier_order(shipment_id, 900_000 + i))
                while state.status is OrderStatus.PENDING:
                    await asyncio.sleep(FOLLOW_S)
                    state = await api.follow(state.carrier_ref)
                if state.tracking_number is None:
                    raise RuntimeError(f"emulator order {state.carrier_ref} not booked: {state.status}")
                made[shipment_id] = (state.carrier_ref, state.tracking_number)

        await asyncio.gather(*(worker() for _ in range(clients)))
    conn = await asyncpg.connect(database.url)
    try:
        columns = [
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'shipments' ORDER BY ordinal_position"
            )
        ]
        changed = {"id", "idempotency_key", "carrier_ref", "tracking_number", "tracking_status"}
        kept = [c for c in columns if c not in changed]
        select = ", ".join(f'"{c}"' for c in kept)
        async with conn.transaction():
            for shipment_id, (ref, number) in made.items():
                await conn.execute(
                    f'INSERT INTO shipments ("id", "idempotency_key", "carrier_ref", "tracking_number", '
                    f'"tracking_status", {select}) SELECT $1, $2, $3, $4, NULL, {select} FROM shipments WHERE id = $5',
                    shipment_id,
                    "plant-" + shipment_id,
                    ref,
                    number,
                    model_id,
                )
            now = datetime.now(UTC)
            due = {i: now + timedelta(seconds=random.uniform(0, 5)) for i in made}
            await conn.executemany(
                "INSERT INTO jobs (kind, subject, state, run_at, attempts, version, created_at, updated_at) "
                "VALUES ('track', $1, 'ready', $2, 0, 0, $2, $2)",
                list(due.items()),
            )
    finally:
        await conn.close()
    return {i: ref for i, (ref, _) in made.items()}, {i: at.timestamp() for i, at in due.items()}


# Polls are seen by the second (the emulator's counts, read each second), and a poll over the
# limit waits for the next window: a shipment due earlier may be polled this much after one
# due later (docs/tracking.md, "the tolerance").
FAIR_TOLERANCE_S = 3.0


def unfair_polls(polls: dict[str, list[float]], first_due: dict[str, float], poll_s: float, end: float) -> list[float]:
    """For each poll that is a shipment's second or later, how long after it a shipment due
    earlier (by more than a second, the sampling's grain) was still waiting: polled later, or not
    by the end of the watch (counted to the end). Only waits above zero are listed."""
    dues: list[tuple[float, float, bool]] = []  # (due, polled, a second or later poll)
    for i, first in first_due.items():
        times = polls.get(i, [])
        due = first
        for k in range(len(times) + 1):
            if due > end:
                break
            dues.append((due, times[k] if k < len(times) else end, k > 0))
            if k < len(times):
                due = times[k] + poll_s
    dues.sort()
    waits: list[float] = []
    latest = float("-inf")  # the latest poll among the dues more than a second earlier
    j = 0
    for due, polled, again in dues:
        while j < len(dues) and dues[j][0] < due - 1.0:
            latest = max(latest, dues[j][1])
            j += 1
        if again and latest > polled:
            waits.append(latest - polled)
    return waits


async def figure_3(
    emulator: Emulator,
    refs: dict[str, str],
    first_due: dict[str, float],
    poll_s: float,
    observe_s: float,
    limit: int,
    start: Callable[[], Awaitable[None]],
) -> tuple[str, list[Check]]:
    """Watched from before `start` brings the service up (so no poll goes unseen) until
    `observe_s` after it is up."""
    paths = {f"/v2/orders/{ref}": i for i, ref in refs.items()}
    polls: dict[str, list[float]] = defaultdict(list)
    per_second: list[tuple[float, int]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:

        async def stats() -> dict[str, int]:
            async with http.get(emulator.url + "/_sandbox/stats") as r:
                return {k: int(v) for k, v in orjson.loads(await r.read())["requests"].items() if k in paths}

        last = await stats()
        started, started_wall = time.monotonic(), time.time()

        async def watch() -> None:
            nonlocal last
            while True:
                await asyncio.sleep(1.0)
                now = time.monotonic() - started
                counts = await stats()
                total = 0
                for path, count in counts.items():
                    more = count - last.get(path, 0)
                    polls[paths[path]] += [now] * more
                    total += more
                last = counts
                per_second.append((now, total))

        watching = asyncio.create_task(watch())
        await start()
        began = time.monotonic() - started
        await asyncio.sleep(observe_s)
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    end = time.monotonic() - started
    due = {i: at - started_wall for i, at in first_due.items()}
    # Read each second, so a poll is placed within a second: polls closer than the interval less
    # that second are two polls within one interval.
    twice = sum(1 for times in polls.values() for a, b in zip(times, times[1:], strict=False) if b - a < poll_s - 1.0)
    gaps = [b - a for times in polls.values() for a, b in zip(times, times[1:], strict=False)]
    window = [sum(n for t, n in per_second if end_t - 60 < t <= end_t) for end_t, _ in per_second if end_t >= 60] or [
        sum(n for _, n in per_second)
    ]
    calls = sum(n for _, n in per_second)
    polled = sum(1 for i in refs if polls.get(i))
    again = sum(1 for i in refs if len(polls.get(i, [])) > 1)
    waits = unfair_polls(polls, due, poll_s, end)
    late = [w for w in waits if w > FAIR_TOLERANCE_S]
    watched = end - began
    window_s, allowed = pace(limit)
    pace_per_minute = allowed * 60 / window_s
    table = "\n".join(
        [
            "| open shipments | interval | limit / minute (TOML) | paced at / minute | watched | polls | shipments polled "
            "| polled twice or more | polls / minute (mean) | max in any 60 s | shortest gap between two polls of one shipment "
            "| longest a shipment due earlier waited after a later one's repeat poll |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {len(refs):,} | {poll_s:g} s | {limit} | {pace_per_minute:.0f} | {watched:.0f} s | {calls:,} | {polled:,} "
            f"| {again:,} | {calls / watched * 60:,.0f} | {max(window):,} "
            + (f"| {min(gaps):.0f} s " if gaps else "| none polled twice ")
            + (f"| {max(waits):.0f} s |" if waits else "| 0 s |"),
        ]
    )
    buckets = Counter(int((t - began) // 15) for t, n in per_second if t >= began for _ in range(n))
    timeline = ", ".join(str(buckets.get(i, 0)) for i in range(int(watched // 15) + 1))
    table += f"\n\nPolls in each 15 s watched: {timeline}."
    checks = [
        Check("3: shipments polled twice within an interval", "0", str(twice), twice == 0),
        Check(f"3: polls in any 60 s (limit {limit})", f"≤ {limit}", f"{max(window):,}", max(window) <= limit),
        Check(
            "3: polled again before every shipment due earlier had been polled",
            f"0 (beyond {FAIR_TOLERANCE_S:g} s)",
            f"{len(late):,}",
            not late,
        ),
    ]
    if len(refs) * 60 / poll_s > pace_per_minute and watched > 90:
        # More polls wanted than the limit allows: after the first minute they should run at its pace.
        steady = sum(n for t, n in per_second if t > began + 60) * 60 / (end - began - 60)
        checks.append(
            Check(
                "3: polls / minute after the first minute, more wanted than allowed",
                f"≥ {pace_per_minute * 0.9:.0f} (90 % of the pace)",
                f"{steady:,.0f}",
                steady >= pace_per_minute * 0.9,
            )
        )
    return table, checks


# ---------------------------------------------------------------- main


def polls_per_minute(config: Path) -> int:
    """The CDEK account's tracking poll limit, as the service reads it from the TOML."""
    return load_config(config, {"CDEK_CLIENT_ID": "-", "CDEK_CLIENT_SECRET": "-"}).entries[-1].polls_per_minute  # type: ignore[union-attr]


def start_service(
    workdir: Path, database: Database, redis: Redis, config: Path, emulator: Emulator, poll_s: float
) -> Service:
    env = {
        "DATABASE_URL": database.url,
        "CARRIER_ROUTER_CONFIG": str(config),
        "CDEK_CLIENT_ID": emulator.client_id,
        "CDEK_CLIENT_SECRET": emulator.client_secret,
        "CARRIER_ROUTER_INBOUND_TOKEN": TOKEN,
        "CARRIER_ROUTER_TRACKING_POLL_S": str(poll_s),
    }
    return Service(workdir, "--workers", "2", "--redis-url", redis.url, env=env)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 shipments, 10,000 calls, 15 s down, 1,000 polled")
    parser.add_argument("--shipments", type=int, default=None, help="shipments in figure 1 (default 1,000)")
    parser.add_argument("--events", type=int, default=None, help="status calls in figure 1 (default 100,000)")
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders (default 16)")
    parser.add_argument(
        "--down", type=float, default=None, help="seconds the receiver is down in figure 2 (default 60)"
    )
    parser.add_argument("--polled", type=int, default=None, help="open shipments polled in figure 3 (default 10,000)")
    parser.add_argument("--poll-s", type=float, default=5.0, help="the polling interval in figure 3 (default 5)")
    parser.add_argument(
        "--watch", type=float, default=None, help="seconds figure 3 is watched (default 300; quick 150)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="polls_per_minute of the CDEK account in the TOML (default 600)"
    )
    parser.add_argument(
        "--only", type=int, choices=(3,), default=None, help="only figure 3 (one shipment booked, as its model)"
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the logs (prints where)")
    parser.add_argument("--floor-port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.shipments or (200 if args.quick else 1000)
    total = args.events or (10_000 if args.quick else 100_000)
    down_s = args.down or (15.0 if args.quick else 60.0)
    polled = args.polled or (1000 if args.quick else 10_000)
    watch_s = args.watch or (150.0 if args.quick else 300.0)
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool):
            parser.error(f"{tool} is needed on PATH")
    workdir = Path(tempfile.mkdtemp(prefix="carrier-router-tracking-"))
    checks: list[Check] = []
    tables: list[str] = []
    database = Database(args.postgres)
    await database.create()
    redis = Redis(workdir)
    emulator = Emulator(workdir)
    floor = Floor(workdir)
    receiver = Receiver()
    service: Service | None = None
    try:
        await redis.start()
        await emulator.wait_up()
        await floor.wait_up()
        await receiver.start()
        config = workdir / "carriers.toml"
        carriers_toml(config, emulator.url)
        if args.limit is not None:  # the CDEK account is the file's last table
            config.write_text(
                config.read_text(encoding="utf-8") + f"polls_per_minute = {args.limit}\n", encoding="utf-8"
            )
        limit = polls_per_minute(config)
        service = start_service(workdir, database, redis, config, emulator, 0)
        await service.wait_up(listening=2)
        async with aiohttp.ClientSession() as http:
            body = {"url": receiver.url, "events": ["shipment.status_changed"]}
            async with http.post(service.url + "/v1/webhooks", json=body) as r:
                made = orjson.loads(await r.read())
                if r.status != 201:
                    raise RuntimeError(f"POST /v1/webhooks answered {r.status}: {made}")
            receiver.secret = made["secret"]
        half = max(1, n // 4)
        to_book = 1 if args.only == 3 else n + 2 * half
        print(f"… booking {to_book:,} shipments", file=sys.stderr, flush=True)
        booked = await book(service, to_book, args.senders, salt=1)
        if args.only is None:
            table, more, _ = await figure_1(service, database, floor, receiver, booked[:n], total, args.senders)
            tables.append(table)
            checks += more

            print(f"… 2: receiver down {down_s:.0f} s", file=sys.stderr, flush=True)
            a = await figure_2(service, database, receiver, booked[n : n + half], down_s, args.senders, kill=False)
            print(f"… 2: receiver down {down_s:.0f} s, a worker killed", file=sys.stderr, flush=True)
            b = await figure_2(service, database, receiver, booked[n + half :], down_s, args.senders, kill=True)
            tables.append(outage_table([a, b], down_s) + (f"\n\n{b.note}." if b.note else ""))
            checks += outage_checks(a, "2") + outage_checks(b, "2, worker killed")

        print(f"… 3: {polled:,} open shipments planted", file=sys.stderr, flush=True)
        service.stop()
        service = None
        refs, first_due = await plant(emulator, database, booked[0]["id"], polled, 64)

        async def start() -> None:
            nonlocal service
            service = start_service(workdir, database, redis, config, emulator, args.poll_s)
            await service.wait_up(listening=2)
            print(f"… 3: polling watched {watch_s:.0f} s", file=sys.stderr, flush=True)

        table, more = await figure_3(emulator, refs, first_due, args.poll_s, watch_s, limit, start)
        tables.append(table)
        checks += more
    finally:
        if service is not None:
            service.stop()
        floor.stop()
        emulator.stop()
        await receiver.close()
        redis.close()
        reap_all()
        await database.drop()
        leave(workdir, args.keep)
    return report(tables, checks)


if __name__ == "__main__":
    if "--floor-port" in sys.argv:
        port = int(sys.argv[sys.argv.index("--floor-port") + 1])
        web.run_app(floor_app(), host="127.0.0.1", port=port, print=None, access_log=None)
        sys.exit(0)
    sys.exit(asyncio.run(main()))
