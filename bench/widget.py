"""The widget in Debian's headless Chromium: how long a buyer waits and how smooth the map stays.

    scripts/build-widget && .venv/bin/python bench/widget.py [--runs 20] [--points 10000]

- Offers visible: from choosing a city to the frame that shows its offers, measured in the page
  with performance.now (the widget's own `carrier-router:offers` measure). Each run quotes a
  parcel one gram heavier than the last, so every quote is a cache miss; a second series repeats
  one parcel and is answered from the quote cache.
- Map frames: a service loaded with the demo networks plus N extra points scattered around
  Moscow; the map is opened over Moscow, dragged and zoomed out and in while a
  requestAnimationFrame loop in the page records every frame's duration.
- Sizes: widget.js and the map chunk, gzipped (level 9, as a server would send them).

Map tiles are refused, as offline; what is drawn is the service's clusters and sites.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "widget" / "dist"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
MOSCOW = (55.7558, 37.6173)
FRAME_LOOP = """() => {
  window.__frames = [];
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now; if (!window.__stopFrames) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""
POINTS_IN_VIEW = (
    "parseInt(document.querySelector('#delivery').shadowRoot.querySelector('.cr-count')"
    ".textContent.split(':').pop().replace(/\\D/g, '')) || 0"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def service(data_dir: Path | None = None) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CARRIER_ROUTER_STATE": tempfile.mkdtemp(prefix="widget-bench-state-")}
    env.pop("REDIS_URL", None)
    if data_dir is not None:
        env["CARRIER_ROUTER_DATA"] = str(data_dir)
    proc = subprocess.Popen(
        [sys.executable, "-m", "router.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit("the service did not start")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def data_with_moscow_points(count: int, seed: int = 7) -> Path:
    """The bundled data with one more network: `count` points within ~35 km of central Moscow."""
    root = Path(tempfile.mkdtemp(prefix="widget-bench-data-"))
    for entry in (ROOT / "data").iterdir():
        if entry.name != "pickup_points":
            (root / entry.name).symlink_to(entry)
    points = root / "pickup_points"
    points.mkdir()
    for demo in (ROOT / "data" / "pickup_points").glob("*.csv"):
        (points / demo.name).symlink_to(demo)
    with open(ROOT / "data" / "pickup_points" / "demo_points.csv", encoding="utf-8") as f:
        header = next(csv.reader(f))
    rng = random.Random(seed)
    hours = ("24/7", "Mo-Su 10:00-21:00", "Mo-Fr 09:00-20:00; Sa-Su 10:00-18:00")
    features = ("card|cod|returns", "card|fitting_room|returns", "card", "cod")
    with open(points / "benchmoscow.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        for i in range(count):
            # Denser towards the centre, as real networks are.
            distance = abs(rng.gauss(0, 0.12))
            lat = MOSCOW[0] + distance * rng.uniform(-1, 1)
            lon = MOSCOW[1] + distance * 1.8 * rng.uniform(-1, 1)
            writer.writerow(
                {
                    "code": f"B{i:05d}",
                    "network": "benchmoscow",
                    "carrier": "magistral",
                    "type": rng.choice(("pvz", "locker")),
                    "name": f"Bench point {i:05d}",
                    "address": f"ул. Тестовая, {i}",
                    "city": "Москва",
                    "region": "RU-MOW",
                    "postal_code": "",
                    "country": "RU",
                    "lat": f"{lat:.6f}",
                    "lon": f"{lon:.6f}",
                    "timezone": "Europe/Moscow",
                    "hours": rng.choice(hours),
                    "features": rng.choice(features),
                    "max_weight_g": "30000",
                    "max_sides_cm": "120x80x60",
                    "cells": "",
                    "status": "active",
                }
            )
    return root


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def new_page(browser: Any, url: str, width: int = 1100) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(f"{url}/widget/demo")
    page.get_by_role("combobox", name="Город доставки").wait_for()
    return page


def offers_visible_ms(browser: Any, url: str, weight_g: int) -> float:
    page = new_page(browser, url)
    try:
        page.evaluate(
            "(w) => CarrierRouter.get(document.querySelector('#delivery'))"
            ".setParcels([{weight_g: w, length_cm: 30, width_cm: 20, height_cm: 10}])",
            weight_g,
        )
        city = page.get_by_role("combobox", name="Город доставки")
        city.press_sequentially("Новосиб")
        page.get_by_role("option", name="Новосибирск").wait_for()
        city.press("ArrowDown")
        city.press("Enter")
        page.wait_for_function("performance.getEntriesByName('carrier-router:offers').length > 0")
        return float(page.evaluate("performance.getEntriesByName('carrier-router:offers')[0].duration"))
    finally:
        page.close()


def map_frames(browser: Any, url: str) -> dict[str, Any]:
    page = new_page(browser, url)
    try:
        city = page.get_by_role("combobox", name="Город доставки")
        city.press_sequentially("Москв")
        page.get_by_role("option", name="Москва").first.wait_for()
        city.press("ArrowDown")
        city.press("Enter")
        page.get_by_role("button", name="В пункт выдачи").click()
        page.get_by_role("button", name="Выбрать пункт выдачи").click()
        page.locator(".cr-m").first.wait_for()
        zoom_out = page.get_by_role("button", name="Отдалить")
        zoom_in = page.get_by_role("button", name="Приблизить")
        for _ in range(5):
            zoom_out.click()
            page.wait_for_timeout(400)
        canvas = page.get_by_role("region", name="Карта пунктов выдачи")
        box = canvas.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        markers_drawn: list[int] = []
        in_view: list[int] = []

        def look() -> None:
            markers_drawn.append(page.locator(".cr-m").count())
            in_view.append(page.evaluate(POINTS_IN_VIEW))

        page.evaluate(FRAME_LOOP)
        for sweep in range(4):
            page.mouse.move(x, y)
            page.mouse.down()
            dx = 160 if sweep % 2 == 0 else -160
            page.mouse.move(x + dx, y + dx / 3, steps=40)
            page.mouse.up()
            page.wait_for_timeout(500)
            look()
        for button in (zoom_in, zoom_in, zoom_in, zoom_out, zoom_out):
            button.click()
            page.wait_for_timeout(500)
            look()
        page.evaluate("window.__stopFrames = true")
        frames = [f for f in page.evaluate("window.__frames") if f > 0]
        return {"frames": frames, "markers": markers_drawn, "in_view": in_view}
    finally:
        page.close()


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--points", type=int, default=10_000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    manifest = json.loads((DIST / "manifest.json").read_text())
    rows: list[tuple[str, str]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        with service() as url:
            offers_visible_ms(browser, url, 999)  # warms the service's place index and the browser
            misses = [offers_visible_ms(browser, url, 1200 + i) for i in range(args.runs)]
            hits = [offers_visible_ms(browser, url, 1200) for _ in range(args.runs)]
        rows.append(
            (
                f"offers visible after choosing Новосибирск, new quote ({args.runs} runs)",
                f"median {statistics.median(misses):.0f} ms, p99 {percentile(misses, 0.99):.0f} ms",
            )
        )
        rows.append(
            (
                f"offers visible, quote from cache ({args.runs} runs)",
                f"median {statistics.median(hits):.0f} ms, p99 {percentile(hits, 0.99):.0f} ms",
            )
        )
        data = data_with_moscow_points(args.points)
        with service(data) as url:
            result = map_frames(browser, url)
        frames = result["frames"]
        rows.append(
            (
                f"map frame time, {args.points:,} extra points around Moscow, drag and zoom ({len(frames)} frames)",
                (
                    f"median {statistics.median(frames):.1f} ms, p95 {percentile(frames, 0.95):.1f} ms, "
                    f"p99 {percentile(frames, 0.99):.1f} ms, max {max(frames):.0f} ms; "
                    f"{sum(f > 50 for f in frames)} frames over 50 ms"
                ),
            )
        )
        rows.append(
            (
                "markers drawn per view (the service clusters)",
                f"{min(result['markers'])}–{max(result['markers'])} markers for {min(result['in_view']):,}–{max(result['in_view']):,} points in view",
            )
        )
        browser.close()
    widget_gz = gz(DIST / manifest["widget"])
    map_gz = gz(DIST / manifest["map"])
    rows.append(("widget.js gzipped (budget 40 KB)", f"{widget_gz / 1024:.1f} KB"))
    rows.append(("map chunk gzipped (Leaflet and its CSS), loaded when the map opens", f"{map_gz / 1024:.1f} KB"))
    print("| measure | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
