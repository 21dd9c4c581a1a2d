"""What looking a key up in the records costs each request, beside the keys file of the tree before.

    .venv/bin/python bench/keys.py                          # SQLite and PostgreSQL, 20,000 look-ups each
    .venv/bin/python bench/keys.py --baseline /tmp/base     # and the JSON keys file of another checkout

A request's key is read from the records database unless nothing can have changed since it was
last read (router/records/changes.py). This times `KeyRing.authenticate` with 50 keys on file, on
a SQLite file and on the PostgreSQL at `--postgres` (a database of this run, dropped afterwards),
one look-up at a time and 32 at once: as the service reads keys, and with a query every time (what
it costs while the PostgreSQL listener is down). The baseline is the earlier `KeyRing`, which
re-read a JSON file only when it changed and looked the key up in a dict. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from router.records import open_database  # noqa: E402
from router.records.keys import KeyKind, KeyRing  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def timed(lookup, tokens: list[str], n: int, concurrency: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(p50 µs, p99 µs, look-ups a second) over `n` look-ups, `concurrency` at a time."""
    waits: list[float] = []
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            t = time.perf_counter()
            assert await lookup(tokens[i % len(tokens)]) is not None
            waits.append((time.perf_counter() - t) * 1e6)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statistics.median(waits), pct(waits, 99), n / (time.perf_counter() - start)


async def records_rows(url: str, label: str, n: int) -> list[str]:
    rows = []
    async with open_database(url) as db:
        await db.changes.listening()  # as the service does (router/quoting/wiring.py)
        ring = KeyRing(db)
        tokens = [(await ring.create(KeyKind.SECRET, f"k{i}"))[1] for i in range(50)]
        await timed(ring.authenticate, tokens, 500, 1)  # warm the pool
        for c in (1, 32):
            p50, p99, rate = await timed(ring.authenticate, tokens, n, c)
            rows.append(
                f"| {label}, as served (read again after a change) | {c} | {p50:.1f} | {p99:.1f} | {rate:,.0f} |"
            )
        # What every look-up would cost without the change watch: a query each time.
        db.changes.token = lambda: None  # type: ignore[method-assign]
        for c in (1, 32):
            p50, p99, rate = await timed(ring.authenticate, tokens, n // 4, c)
            rows.append(f"| {label}, a query every time | {c} | {p50:.0f} | {p99:.0f} | {rate:,.0f} |")
    return rows


async def baseline_rows(tree: Path, n: int) -> list[str]:
    spec = importlib.util.spec_from_file_location("old_keys", tree / "router" / "http" / "api_keys.py")
    assert spec and spec.loader, f"{tree} has no router/http/api_keys.py"
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_keys"] = old  # dataclasses look their module up while the class is made
    spec.loader.exec_module(old)
    with tempfile.TemporaryDirectory() as tmp:
        ring = old.KeyRing(Path(tmp) / "keys.json")
        tokens = [ring.create(old.KeyKind.SECRET, f"k{i}")[1] for i in range(50)]

        async def lookup(token: str) -> object:
            return ring.authenticate(token)

        rows = []
        for c in (1, 32):
            p50, p99, rate = await timed(lookup, tokens, n, c)
            rows.append(f"| baseline: keys.json, re-read when changed | {c} | {p50:.1f} | {p99:.1f} | {rate:,.0f} |")
        return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args()
    import asyncpg

    rows = ["| keys kept in | at once | p50 µs | p99 µs | look-ups/s |", "|---|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        rows += await records_rows(f"sqlite:///{tmp}/records.sqlite3", "records: SQLite file", args.n)
    name = f"cr_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = args.postgres.rsplit("/", 1)[0] + "/" + name
        rows += await records_rows(url, "records: PostgreSQL (loopback)", args.n)
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    if args.baseline:
        rows += await baseline_rows(args.baseline, args.n)
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(main())
