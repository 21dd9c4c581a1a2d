"""Faults and abuse against a real `carrier-router serve --workers 2` on a PostgreSQL and a Redis of
this run, each beside the tree before a change where the same fault applies to it (`--baseline`).

    .venv/bin/python bench/faults.py                                  # everything, about 6 minutes
    .venv/bin/python bench/faults.py --quick                          # shorter phases, about 3 minutes
    .venv/bin/python bench/faults.py keys-race hostile --baseline /tmp/base

Scenarios:

worker-kill       `bench/load.py`'s worker-restart with the records in PostgreSQL: one of two workers
                  is killed with SIGKILL under load; failed requests, quotes made before and read after.
redis-outage      two workers; Redis stopped for 10 s and started again with its data: failed quotes,
                  and quotes made before, during and after the outage read back through either worker.
postgres-restart  two workers with keys; clients import one delivery outcome per request (retrying a
                  503 as its Retry-After says) while PostgreSQL restarts: every import answered 200
                  must be a row in the database afterwards (records lost), and the failures.
keys-race         1,000 create and revoke operations from 10 processes at once on PostgreSQL; then
                  every revoked token is refused and every new one accepted by both workers. Beside
                  it, `--baseline`'s CLI: four `keys create` and one `keys revoke` at once, repeated.
hostile           the hostile inputs of the "Nothing lost" round, each with the status it got, rows
                  lost, and `/healthz` answering meanwhile (p99); beside the baseline's answers.

PostgreSQL and Redis are private servers on free loopback ports (PostgreSQL's `initdb` runs as the
`postgres` user when this runs as root); the machine's own servers are never touched. Prints
markdown tables; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client as http_client
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import load  # noqa: E402
from load import ROOT, Check, Redis, Result, Service, free_port, pct, reap_all  # noqa: E402

SCENARIOS = ("worker-kill", "redis-outage", "postgres-restart", "keys-race", "hostile")


# ---------------------------------------------------------------- a PostgreSQL of this run


class Postgres:
    """A private PostgreSQL cluster in the work directory, trust auth on 127.0.0.1 and a free port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = workdir / f"pg-{self.port}"
        self.dir.mkdir()
        self.bin = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        argv = [str(self.bin / tool), *args]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout)

    def start(self) -> None:
        data = self.dir / "data"
        if not data.exists():
            self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def restart(self) -> None:
        # Stop and start again with this run's options (pg_ctl's own restart re-reads them from
        # postmaster.opts, quoting included, and was seen to wait out its timeout).
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "-t", "60", "stop")
        self.start()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop", timeout=30)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass


def cli(tree: Path, state: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`carrier-router …` of `tree` (this venv), its records in `state` (or `env`'s DATABASE_URL)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CARRIER_ROUTER_") and k != "DATABASE_URL"}
    environ.update(env or {})
    environ.update(CARRIER_ROUTER_STATE=str(state), PYTHONPATH=str(tree))
    return subprocess.Popen(
        [sys.executable, "-m", "router.cli", *args], cwd=tree, env=environ, stdout=subprocess.PIPE, text=True
    )


def create_key(tree: Path, state: Path, env: dict[str, str] | None = None, name: str = "bench") -> tuple[str, str]:
    out, _ = cli(tree, state, "keys", "create", "--name", name, env=env).communicate(timeout=120)
    first, token = out.strip().splitlines()[-2:]
    return first.split()[0], token.strip()


# ---------------------------------------------------------------- scenarios


async def worker_kill(workdir: Path, quick: bool, clients: int) -> Result:
    return await load.worker_restart(workdir, quick, clients)


async def redis_outage(workdir: Path, quick: bool, clients: int) -> Result:
    return await load.redis_outage(workdir, quick, clients, save=True, workers=2)


async def postgres_restart(workdir: Path, quick: bool, clients: int, pg: Postgres) -> Result:
    run_s = 8.0 if quick else 20.0
    env = {"DATABASE_URL": pg.url}
    redis = Redis(workdir)
    await redis.start()
    state = workdir / "state-pg"
    state.mkdir()
    _, token = create_key(ROOT, state, env)
    service = Service(workdir, "--workers", "2", "--redis-url", redis.url, state=state, env=env)
    acked: list[str] = []
    failures: Counter[str] = Counter()
    sent = 0
    result = Result()
    try:
        await service.wait_up(listening=2)
        stop = asyncio.Event()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}

        async def client(i: int, http: aiohttp.ClientSession) -> None:
            nonlocal sent
            n = 0
            while not stop.is_set():
                shipment = f"pg-{i}-{n}"
                n += 1
                for _attempt in range(30):  # a client that honours Retry-After, as the API asks
                    sent += 1
                    try:
                        async with http.post(
                            service.url + "/v1/outcomes", data=outcome_row(shipment), headers=headers
                        ) as r:
                            body = await r.json(content_type=None)
                            if r.status == 200 and body.get("imported") == 1:
                                acked.append(shipment)
                                break
                            failures[str(r.status)] += 1
                            if r.status not in (502, 503):
                                break
                            await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        failures[type(exc).__name__] += 1
                        await asyncio.sleep(0.5)

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            tasks = [asyncio.create_task(client(i, http)) for i in range(min(clients, 16))]
            await asyncio.sleep(run_s / 3)
            restart_at = time.monotonic()
            await asyncio.to_thread(pg.restart)
            restart_s = time.monotonic() - restart_at
            await asyncio.sleep(run_s * 2 / 3)
            stop.set()
            await asyncio.wait(tasks, timeout=120)
        stored = await stored_outcomes(pg.url)
        lost = [s for s in acked if s not in stored]
        result.checks += [
            Check(
                f"postgres-restart: imports answered 200 and missing afterwards (restart took {restart_s:.1f} s)",
                "0",
                f"{len(lost)} of {len(acked)} acknowledged",
                not lost,
            ),
            Check(
                "postgres-restart: requests sent, failed answers (retried)",
                "reported",
                f"{sent} sent; " + (", ".join(f"{n} {e}" for e, n in failures.most_common()) or "none failed"),
                None,
            ),
        ]
    finally:
        service.stop()
        redis.close()
    return result


async def stored_outcomes(url: str) -> set[str]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return {r["shipment_id"] for r in await conn.fetch("SELECT shipment_id FROM delivery_outcomes")}
    finally:
        await conn.close()


RACE_SCRIPT = """
import asyncio, sys
from router.records import open_database
from router.records.keys import KeyKind, KeyRing

async def main(url, worker, revoke):
    async with open_database(url, upgrade=False) as db:
        ring = KeyRing(db)
        async def create(i):
            key, token = await ring.create(KeyKind.SECRET, f"race {worker} {i}")
            print("created", key.id, token, flush=True)
        async def revoke_one(key_id):
            await ring.revoke(key_id)
            print("revoked", key_id, flush=True)
        await asyncio.gather(*[create(i) for i in range(50)], *[revoke_one(k) for k in revoke])

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
"""


async def keys_race(workdir: Path, quick: bool, pg: Postgres, baseline: Path | None) -> Result:
    env = {"DATABASE_URL": pg.url}
    state = workdir / "state-keys"
    state.mkdir()
    # 500 keys to revoke, 500 to create: ten processes, each 50 creates and 50 revokes at once.
    first = cli(ROOT, state, "keys", "list", env=env)
    first.communicate(timeout=120)  # creates the schema before the race
    seeded = await seed_keys(pg.url, 500)
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE_SCRIPT, pg.url, str(w), *[k for k, _ in seeded[w * 50 : (w + 1) * 50]]],
            stdout=subprocess.PIPE,
            text=True,
            env=environ,
        )
        for w in range(10)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    created = [line.split()[1:] for out in outputs for line in out.splitlines() if line.startswith("created")]
    revoked = {line.split()[1] for out in outputs for line in out.splitlines() if line.startswith("revoked")}
    redis = Redis(workdir)
    await redis.start()
    service = Service(workdir, "--workers", "2", "--redis-url", redis.url, state=state, env=env)
    result = Result()
    try:
        await service.wait_up(listening=2)
        refused = await statuses(service.url, [t for k, t in seeded if k in revoked], tries=2)
        accepted = await statuses(service.url, [t for _, t in created], tries=2)
        result.checks += [
            Check(
                "keys-race: operations that failed or went missing (10 processes, 1,000 at once)",
                "0",
                f"{1000 - len(created) - len(revoked)} of 1000",
                len(created) == 500 and len(revoked) == 500,
            ),
            Check(
                "keys-race: revoked tokens refused by the service (2 workers, each asked twice)",
                "all 401",
                ", ".join(f"{n} × {s}" for s, n in sorted(refused.items())),
                set(refused) == {401},
            ),
            Check(
                "keys-race: new tokens accepted (2 workers, each asked twice)",
                "all 200",
                ", ".join(f"{n} × {s}" for s, n in sorted(accepted.items())),
                set(accepted) == {200},
            ),
        ]
    finally:
        service.stop()
        redis.close()
    trials = 3 if quick else 10
    for name, tree in [("this tree", ROOT)] + ([("baseline", baseline)] if baseline else []):
        lost_keys = lost_revocations = refused = 0
        for t in range(trials):
            trial_state = workdir / f"race-{name.replace(' ', '-')}-{t}"
            trial_state.mkdir()
            victim, _ = create_key(tree, trial_state)
            racers = [cli(tree, trial_state, "keys", "create", "--name", f"r{i}") for i in range(4)]
            racers.append(cli(tree, trial_state, "keys", "revoke", victim))
            for p in racers:
                p.communicate(timeout=120)
            refused += sum(1 for p in racers if p.returncode != 0)
            listing = cli(tree, trial_state, "keys", "list", env={"COLUMNS": "250"}).communicate(timeout=120)[0]
            lost_keys += sum(1 for i in range(4) if f" r{i} " not in listing)
            victim_line = next((line for line in listing.splitlines() if victim in line), "")
            cells = victim_line.split("│")  # rich's table: the last column is when it was revoked
            lost_revocations += 0 if len(cells) > 2 and cells[-2].strip() else 1
        result.checks.append(
            Check(
                f"keys-race, CLI ({name}): 4 creates + 1 revoke at once, {trials} trials",
                "0 lost" if tree == ROOT else "reported",
                f"{lost_keys} of {4 * trials} new keys missing, {lost_revocations} of {trials} revocations missing; "
                f"{refused} of {5 * trials} commands said they failed",
                (lost_keys == lost_revocations == refused == 0) if tree == ROOT else None,
            )
        )
    return result


async def seed_keys(url: str, n: int) -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT))
    from router.records import open_database
    from router.records.keys import KeyKind, KeyRing

    async with open_database(url) as db:
        ring = KeyRing(db)
        made = [await ring.create(KeyKind.SECRET, f"seed {i}") for i in range(n)]
    return [(k.id, t) for k, t in made]


async def statuses(url: str, tokens: list[str], tries: int) -> Counter[int]:
    got: Counter[int] = Counter()
    sem = asyncio.Semaphore(16)
    # A new connection each time: SO_REUSEPORT hands connections, not requests, to workers.
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=15), connector=aiohttp.TCPConnector(force_close=True)
    ) as http:

        async def ask(token: str) -> None:
            async with sem, http.get(url + "/v1/carriers", headers={"Authorization": f"Bearer {token}"}) as r:
                got[r.status] += 1

        await asyncio.gather(*(ask(t) for t in tokens for _ in range(tries)))
    return got


# ---------------------------------------------------------------- hostile inputs


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


QUOTE = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}
HEADER = "shipment_id,carrier,service,origin,destination,handed_over_at,promised_date,delivered_at,status,complaint"


def row(i: str) -> str:
    return (
        f"{i},vestnik,parcel,RU-MOW,RU-NVS,2026-11-02T10:00:00+03:00,2026-11-10,2026-11-09T12:00:00+07:00,delivered,no"
    )


def outcome_row(shipment: str) -> bytes:
    """A CSV of one outcome, header included."""
    return f"{HEADER}\n{row(shipment)}\n".encode()


async def hostile_cases(service: Service, token: str) -> list[tuple[str, str, str, int | None]]:
    """(case, expected, measured, rows lost or None) for each hostile input."""
    auth = {"Authorization": f"Bearer {token}"}
    found: list[tuple[str, str, str, int | None]] = []
    tag = str(time.time_ns())
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def post(path: str, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> tuple[int, dict]:
            async with http.post(
                service.url + path, data=body, headers={**auth, "Content-Type": ctype, **(headers or {})}
            ) as r:
                text = await r.read()
                try:
                    return r.status, orjson.loads(text) if text[:1] in b"{[" else {}
                except ValueError:
                    return r.status, {}

        def imported(answer: dict) -> int:
            return int(answer.get("imported", 0)) if isinstance(answer, dict) else 0

        far = {**QUOTE, "ship_at": "9999-12-31T10:00:00+03:00"}
        statuses = [(await post("/v1/quotes", orjson.dumps(far), "application/json"))[0] for _ in range(5)]
        async with http.get(service.url + "/v1/carriers", headers=auth) as r:
            listed = await r.json(content_type=None) if r.status == 200 else {}
        opened = [c["code"] for c in listed.get("carriers", []) if (c.get("health") or {}).get("breaker") == "open"]
        found.append(
            ("ship_at in year 9999 ×5", "422 ×5, no breaker open", f"{statuses}, open: {opened or 'none'}", None)
        )
        async with http.get(
            service.url + "/v1/pickup-points",
            params={"lat": "55.75", "lon": "37.62", "open_at": "9999-12-31T23:59:59+00:00"},
            headers=auth,
        ) as r:
            found.append(("open_at=9999-12-31T23:59:59+00:00 on /v1/pickup-points", "422", str(r.status), None))
        spaces = f"{HEADER}\n{tag}-sp,vestnik,parcel,{' ' * 16000}1,RU-NVS,2026-11-02T10:00:00+03:00,2026-11-10,2026-11-09T12:00:00+07:00,delivered,no\n"
        t = time.perf_counter()
        status, _ = await post("/v1/outcomes", spaces.encode(), "text/csv")
        found.append(
            (
                "an outcome point of 16,000 spaces",
                "answered within a second",
                f"{status} in {time.perf_counter() - t:.2f} s",
                None,
            )
        )
        found.append(await hostile_upload(service, http, auth))
        big = b'{"orders": [' + b"{}," * (32 * 1024 * 1024 // 3) + b"{}]}"
        before = service.rss_mb()
        status, _ = await post("/v1/allocations", big, "application/json")
        found.append(
            (
                "a 32 MB /v1/allocations body",
                "413, workers grow < 64 MB",
                f"{status}, grew {service.rss_mb() - before:.0f} MB",
                None,
            )
        )
        status, _ = await post("/v1/quotes", orjson.dumps(QUOTE), "text/plain")
        found.append(("a JSON quote sent as text/plain", "415", str(status), None))
        answer = raw_request(service.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        head = answer.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
        kind = "problem+json" if "application/problem+json" in head else "plain text"
        found.append(
            (
                "a malformed header line",
                "400 problem+json",
                f"{head.split(' ', 2)[1] if ' ' in head else '?'} {kind}",
                None,
            )
        )
        async with http.get(service.url + "/metrics") as r:
            found.append(("/metrics without a key", "401", str(r.status), None))
        csv_cases = [
            (
                "a CSV with an unclosed quote on line 3 of 7",
                [row(f"{tag}-u{i}") if i != 2 else row(f'"{tag}-u{i}') for i in range(6)],
                5,
                "utf-8",
                "",
            ),
            ("a CSV saved as Excel's 'CSV UTF-8' (BOM)", [row(f"{tag}-b{i}") for i in range(5)], 5, "utf-8-sig", ""),
            ("one cp1251 row among ten good ones", [row(f"{tag}-c{i}") for i in range(10)], 10, "utf-8", "cp1251"),
        ]
        for name, rows, good, encoding, extra in csv_cases:
            body = (HEADER + "\n" + "\n".join(rows) + "\n").encode(encoding)
            if extra:
                body += row(f"{tag}-Ж").replace("vestnik", "вестник").encode(extra) + b"\n"
            status, answer = await post("/v1/outcomes", body, "text/csv")
            found.append((name, f"{good} imported", f"{status}, {imported(answer)} imported", good - imported(answer)))
        line = row(f"{tag}-ls").split(",")
        nd = orjson.dumps(dict(zip(HEADER.split(","), line, strict=True)) | {"service": "parcel\u2028"})
        status, answer = await post("/v1/outcomes", nd + b"\n", "application/x-ndjson")
        found.append(
            (
                "NDJSON with U+2028 inside a string",
                "read as one row",
                f"{status}, {imported(answer)} imported, {answer.get('rejected', '?')} rejected",
                None,
            )
        )
    return found


async def hostile_upload(
    service: Service, http: aiohttp.ClientSession, auth: dict[str, str]
) -> tuple[str, str, str, int | None]:
    """8 MB of `{}` lines posted as outcomes while /healthz is asked every 20 ms from a thread of its own
    (so the upload's own writing does not delay the probe), each on a new connection (either worker)."""
    body = b"{}\n" * (8 * 1024 * 1024 // 3)
    waits: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            t = time.perf_counter()
            try:
                conn = http_client.HTTPConnection("127.0.0.1", service.port, timeout=30)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
            except OSError:
                pass
            waits.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    await asyncio.sleep(0.2)  # a few answers before, so the probe is warm
    before = len(waits)
    t = time.perf_counter()
    status: int | str
    try:
        async with http.post(
            service.url + "/v1/outcomes",
            data=body,
            headers={**auth, "Content-Type": "application/x-ndjson"},
            timeout=aiohttp.ClientTimeout(total=180),
        ) as r:
            status = r.status
            await r.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = f"no answer ({type(exc).__name__})"
    took = time.perf_counter() - t
    during = waits[before:]
    done.set()
    await asyncio.to_thread(prober.join, 35)
    return (
        "8 MB of `{}` lines posted as outcomes",
        "/healthz p99 < 100 ms meanwhile",
        f"{status} after {took:.1f} s; /healthz {len(during)} answers meanwhile, p99 {pct(during, 99):.0f} ms",
        None,
    )


async def hostile(workdir: Path, pg: Postgres, baseline: Path | None) -> Result:
    result = Result()
    columns: dict[str, dict[str, tuple[str, str, int | None]]] = {}
    for name, tree in [("this tree", ROOT)] + ([("baseline", baseline)] if baseline else []):
        state = workdir / f"state-hostile-{name.replace(' ', '-')}"
        state.mkdir()
        env = {"DATABASE_URL": pg.url} if tree == ROOT else {}
        _, token = create_key(tree, state, env)
        redis = Redis(workdir)
        await redis.start()
        service = Service(
            workdir, "--sandbox", "--workers", "2", "--redis-url", redis.url, tree=tree, state=state, env=env
        )
        try:
            await service.wait_up(listening=2)
            for case, expected, measured, lost in await hostile_cases(service, token):
                columns.setdefault(case, {})[name] = (expected, measured, lost)
        finally:
            service.stop()
            redis.close()
    for case, by_tree in columns.items():
        expected, measured, lost = by_tree["this tree"]
        before = by_tree.get("baseline")
        result.checks.append(
            Check(
                f"hostile: {case}",
                expected,
                measured + (f" — before: {before[1]}" if before else ""),
                None if lost is None else lost == 0,
            )
        )
    return result


# ---------------------------------------------------------------- main


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="any of " + ", ".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--baseline", type=Path, default=None, help="a checkout of the tree before, run with this venv")
    parser.add_argument("--keep", action="store_true", help="keep the logs (prints where)")
    args = parser.parse_args()
    names = args.scenarios or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}")
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool):
            parser.error(f"{tool} is needed on PATH")
    workdir = Path(tempfile.mkdtemp(prefix="carrier-router-faults-"))
    os.chmod(workdir, 0o755)
    result = Result()
    pg = Postgres(workdir)
    pg.start()
    os.environ["DATABASE_URL"] = pg.url  # every service of this run keeps its records there
    try:
        for name in names:
            print(f"… {name}", file=sys.stderr, flush=True)
            try:
                if name == "worker-kill":
                    part = await worker_kill(workdir, args.quick, args.clients)
                elif name == "redis-outage":
                    part = await redis_outage(workdir, args.quick, args.clients)
                elif name == "postgres-restart":
                    part = await postgres_restart(workdir, args.quick, args.clients, pg)
                elif name == "keys-race":
                    part = await keys_race(workdir, args.quick, pg, args.baseline)
                else:
                    part = await hostile(workdir, pg, args.baseline)
            except Exception as exc:  # one scenario's failure is a row, and the others still run
                part = Result(checks=[Check(f"{name}: finished", "yes", f"{type(exc).__name__}: {exc}", False)])
            result.rows += part.rows
            result.checks += part.checks
    finally:
        reap_all()
        pg.stop()
        if args.keep:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if result.rows:
        print(load.table(result.rows))
        print()
    print(load.check_table(result.checks))
    return 1 if any(c.ok is False for c in result.checks) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
