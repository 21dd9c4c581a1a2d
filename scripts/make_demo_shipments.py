"""Write the demo allocation and re-rating files to data/demo/.

    python scripts/make_demo_shipments.py            # rewrite the files
    python scripts/make_demo_shipments.py --check    # exit 1 if the committed files are stale

The shipment history is billed from the rate cards in data/carriers: after a tariff change the
history goes stale (its planted overcharges no longer line up), which --check reports.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carriers.ratecard import load_ratecards
from router.quoting.places import Places
from router.rerating.demo_data import WAREHOUSES, write_demo_history

OUT = ROOT / "data" / "demo"
SHIPMENTS = 5000
SEED = 7

# Daily pickups that bind on a 500-order day, and tiers a few hundred parcels away.
CAPACITY = """carrier,warehouse,max_parcels
domovoy,MSK,120
vestnik,MSK,80
vestnik,EKB,40
vestnik,NSK,30
magistral,MSK,150
magistral,EKB,60
magistral,NSK,40
kpoyas,EKB,20
sibgonets,NSK,25
shustry,MSK,15
"""
TIERS = """carrier,min_parcels,percent
magistral,5000,7
magistral,8000,10
vestnik,3000,5
sibgonets,600,8
"""


def files() -> dict[str, str]:
    history = io.StringIO(newline="")
    planted = write_demo_history(history, SHIPMENTS, load_ratecards(ROOT / "data" / "carriers"), Places(), SEED)
    return {
        "warehouses.csv": "code,location\n" + "".join(f"{code},{city}\n" for code, city, _ in WAREHOUSES),
        "capacity.csv": CAPACITY,
        "tiers.csv": TIERS,
        "shipments.csv": history.getvalue(),
        "overbilled_lines.txt": "".join(f"{line}\n" for line in planted.overbilled_lines),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args()
    stale = []
    for name, text in files().items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.open(encoding="utf-8", newline="").read() != text:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        sys.exit("stale: " + ", ".join(stale) + "; run python scripts/make_demo_shipments.py")


if __name__ == "__main__":
    main()
