"""Labels and manifests: how long a batch takes to draw and merge, and how big the PDF is.

    .venv/bin/python bench/labels.py [--labels 500] [--runs 3]

Rows, each the median of --runs runs and the size of its output:
- render one by one: `render_label` for every parcel (sizes summed), what merging starts from;
- merge at A6 / A4: those PDFs through `merge` (A6 pages are copied; at A4 each becomes a form
  placed in a quarter of the sheet);
- draw as one document at A6 / A4: `render_labels`, the batch drawn straight into one PDF;
- merge carriers' 100×150 mm labels at A6: pages that must be scaled, the path a carrier's own
  PDFs take;
- manifest: the PDF and the CSV of as many lines.

Labels differ from one another (names, addresses, numbers, COD) as a real day's do, so fonts are
subset per label as they would be. The font is registered before timing starts (once a process).
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from router.printing import (
    LabelData,
    ManifestHeader,
    ManifestLine,
    Paper,
    manifest_csv,
    manifest_pdf,
    merge,
    render_label,
    render_labels,
)

FIRST = ["Мария", "Пётр", "Анна", "Эдуард", "Жанна", "Юрий", "Ольга", "Фёдор", "Ирина", "Щедрин"]
LAST = ["Иванова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Лебедев", "Козлова", "Новиков"]
CITIES = ["Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород", "Самара", "Ростов-на-Дону"]
STREETS = ["ул. Советская", "пр. Ленина", "ул. Мира", "Красный проспект", "ул. Гагарина"]


def labels(n: int, seed: int = 1) -> list[LabelData]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        city = rng.choice(CITIES)
        out.append(
            LabelData(
                tracking_number=str(rng.randrange(10**12, 10**13)),
                carrier_name=rng.choice(["СДЭК", "Почта России", "Boxberry", "DPD"]),
                service_name="Посылка склад-дверь / Parcel warehouse-to-door",
                shipment_id=f"shp_{rng.getrandbits(48):012x}",
                shop_order_number=f"ORD-2026-{i:06d}",
                sender_name="ООО «Ромашка»",
                sender_phone="+7 495 123-45-67",
                sender_address="Москва, ул. Складская, д. 5, стр. 2",
                recipient_name=f"{rng.choice(LAST)} {rng.choice(FIRST)}",
                recipient_phone=f"+7 9{rng.randrange(10**8, 10**9)}",
                recipient_address=f"{city}, {rng.choice(STREETS)}, д. {rng.randint(1, 200)}, кв. {rng.randint(1, 400)}",
                pickup_point=f"{city[:3].upper()}{rng.randint(1, 99)} — {city}, {rng.choice(STREETS)}, {rng.randint(1, 99)}"
                if rng.random() < 0.5
                else None,
                weight_g=rng.randint(100, 30000),
                cod_rub=Decimal(rng.randint(0, 5000000)) / 100 if rng.random() < 0.4 else Decimal(0),
                ship_date=date(2026, 12, 8),
            )
        )
    return out


def carrier_labels(n: int) -> list[bytes]:
    """Stand-ins for carriers' own labels: 100 × 150 mm, a Code 128 and a line of text each."""
    out = []
    for i in range(n):
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=(100 * mm, 150 * mm))
        Code128(f"CAR{i:09d}", barWidth=1.2, barHeight=60).drawOn(c, 20, 250)
        c.drawString(20, 200, f"Carrier label {i}")
        c.showPage()
        c.save()
        out.append(buf.getvalue())
    return out


def manifest(n: int) -> tuple[ManifestHeader, list[ManifestLine]]:
    header = ManifestHeader(
        "cdek", "СДЭК", "MSK-1", "Москва, ул. Складская, д. 5", date(2026, 12, 8), datetime.now(UTC)
    )
    lines = [
        ManifestLine(
            x.shipment_id,
            x.tracking_number,
            x.shop_order_number,
            x.recipient_name,
            x.recipient_address.split(",")[0],
            x.recipient_address,
            1,
            x.weight_g,
            Decimal("1500.00"),
            x.cod_rub,
        )
        for x in labels(n)
    ]
    return header, lines


def timed(runs: int, make: Callable[[], bytes | list[bytes]]) -> tuple[float, int]:
    seconds = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        out = make()
        seconds.append(time.perf_counter() - started)
        size = len(out) if isinstance(out, bytes) else sum(len(x) for x in out)
    return statistics.median(seconds), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n, runs = args.labels, args.runs

    batch = labels(n)
    render_label(batch[0])  # registers the font: once a process, not part of any row
    singles = [render_label(x) for x in batch]
    foreign = carrier_labels(n)
    header, lines = manifest(n)

    rows = [
        ("render one by one", timed(runs, lambda: [render_label(x) for x in batch])),
        ("merge at A6", timed(runs, lambda: merge(singles, Paper.A6))),
        ("merge at A4", timed(runs, lambda: merge(singles, Paper.A4))),
        ("draw as one document at A6", timed(runs, lambda: render_labels(batch, Paper.A6))),
        ("draw as one document at A4", timed(runs, lambda: render_labels(batch, Paper.A4))),
        ("merge carriers' 100×150 mm labels at A6", timed(runs, lambda: merge(foreign, Paper.A6))),
        ("manifest PDF", timed(runs, lambda: manifest_pdf(header, lines))),
        ("manifest CSV", timed(runs, lambda: manifest_csv(header, lines))),
    ]

    load = os.getloadavg()
    print(f"{n} labels (manifests of {n} lines); median of {runs} runs")
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores\n")
    print("| step | median s | ms per label | output KB |")
    print("|---|---:|---:|---:|")
    for step, (seconds, size) in rows:
        print(f"| {step} | {seconds:.2f} | {seconds * 1000 / n:.1f} | {size / 1024:,.0f} |")


if __name__ == "__main__":
    main()
