"""Re-rating figures: `carrier-router rerate` on demo history, rows/s and peak memory, against a baseline.

    .venv/bin/python bench/rerate.py                          # 100,000 and 1,000,000 rows, 3 runs each
    .venv/bin/python bench/rerate.py --rows 100000 --repeat 1
    .venv/bin/python bench/rerate.py --file shipments.csv     # an existing file instead of demo history

Demo history (`carrier-router demo-orders`, seed 7) is written once into a temporary directory
(not timed). Each timed run is the whole command as a user runs it — start-up, reading, pricing,
the per-shipment CSV (--out), rejects, the summary and the chart — in a fresh process, so the
wall time includes loading the rate cards and the places index. Peak memory is sampled from
/proc every 0.2 s: the main process, and the sum over it and its worker processes (pages the
workers share with it after the fork count twice, so the sum overstates).

Baseline, in the same run: the per-row path re-rating had before lane prices — every carrier's
full quote for every shipment — timed in-process on the first rows of the same file.
The what-if with day plans (--capacity/--tiers: one OR-Tools plan per shipping day, one process)
is timed apart with --plans.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLI = [str(Path(sys.executable).parent / "carrier-router")]
DEMO = ROOT / "data" / "demo"


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def timed(args: list[str]) -> tuple[float, int, int, int]:
    """Wall seconds, peak RSS of the main process and of the whole tree (kB), exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(CLI + args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_main = peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_main, peak_tree
        while not done.wait(0.2):
            main = rss_kb(proc.pid)
            peak_main = max(peak_main, main)
            peak_tree = max(peak_tree, main + sum(rss_kb(c) for c in children(proc.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return elapsed, peak_main, peak_tree, code


def baseline(path: Path, rows: int) -> float:
    """Seconds per row of the old per-row path: every carrier quoted in full for every shipment."""
    from carriers.ratecard import load_ratecards
    from router.core.models import RateRequest
    from router.core.settings import Settings
    from router.quoting.places import Places
    from router.rerating.shipments import HistoricalShipment, read_history

    carriers = load_ratecards(Settings().carriers_dir)
    places = Places()
    with path.open(encoding="utf-8") as f:
        head = [next(f) for _ in range(rows + 1)]
    records = [r for r in read_history(head) if isinstance(r, HistoricalShipment)]

    async def go() -> None:
        for r in records:
            s = r.shipment
            request = RateRequest(s, places.resolve(s.origin, "origin"), places.resolve(s.destination, "destination"),
                                  r.shipped_at)  # fmt: skip
            offers = [o for c in carriers for o in (await c.quote(request)).offers]
            next((o.price.total for o in offers if o.carrier == r.carrier and o.service == r.service), None)
            min(offers, key=lambda o: (o.price.total, o.eta.max_date, o.carrier, o.service), default=None)

    started = time.perf_counter()
    asyncio.run(go())
    return (time.perf_counter() - started) / len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, help="re-rate this file instead of writing demo history")
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument(
        "--plans",
        type=int,
        default=0,
        metavar="ROWS",
        help="also time the what-if with day plans (demo capacities and tiers) on this many rows",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files: list[tuple[int, Path]] = []
        for n in args.rows:
            if args.file is not None:
                files.append((n, args.file))
                break
            path = work / f"shipments-{n}.csv"
            subprocess.run(CLI + ["demo-orders", "--n", str(n), "--out", str(path)], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
            files.append((n, path))
        per_row = baseline(files[0][1], args.baseline_rows)
        print(
            f"baseline (per-row full quotes, in-process, {args.baseline_rows:,} rows): "
            f"{per_row * 1e6:.0f} µs/row, {1 / per_row:,.0f} rows/s; at 1,000,000 rows ≈ {per_row * 1e6:.0f} s"
        )
        print()
        print(
            "| rows | runs | wall median | wall max | rows/s (median) | µs/row | vs baseline | peak RSS main | peak RSS with workers | exit |"
        )  # noqa: E501
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for _n, path in files:
            out = work / "rerated.csv"
            cmd = ["rerate", str(path), "--out", str(out), "--rejects", str(work / "rejects.csv"),
                   "--chart", str(work / "chart.png")]  # fmt: skip
            runs = [timed(cmd) for _ in range(args.repeat)]
            walls = [r[0] for r in runs]
            median = statistics.median(walls)
            rows = sum(1 for _ in path.open("rb")) - 1
            print(
                f"| {rows:,} | {len(runs)} | {median:.1f} s | {max(walls):.1f} s | {rows / median:,.0f} "
                f"| {median / rows * 1e6:.0f} | {per_row * rows / median:.1f}× | {max(r[1] for r in runs) / 1024:.0f} MB "
                f"| {max(r[2] for r in runs) / 1024:.0f} MB | {runs[-1][3]} |",
                flush=True,
            )
        if args.plans:
            path = files[0][1]
            head = work / f"plans-{args.plans}.csv"
            with path.open("rb") as src, head.open("wb") as dst:
                for _, line in zip(range(args.plans + 1), src, strict=False):
                    dst.write(line)
            cmd = ["rerate", str(head), "--warehouses", str(DEMO / "warehouses.csv"), "--capacity",
                   str(DEMO / "capacity.csv"), "--tiers", str(DEMO / "tiers.csv"), "--out", str(work / "p.csv")]  # fmt: skip
            wall, main_kb, _, code = timed(cmd)
            print(
                f"\nwhat-if with day plans (one process), {args.plans:,} rows: {wall:.1f} s, "
                f"{args.plans / wall:,.0f} rows/s, peak RSS {main_kb / 1024:.0f} MB, exit {code}"
            )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
