"""Write a dictionary that kept quotes are deflated against (see router/packing.py).

Quotes from the demo network, alone and with the sandbox's CDEK-format and courier emulators,
on lanes of every length, parcels light and heavy, each policy: the keys, carriers, services, labels and
places a quote repeats. The dictionary is shipped data: once a quote can have been packed with
it, its bytes never change. A better one goes out under the next number:

    python scripts/make_quote_dictionary.py data/packing/quotes-2.ndjson

then `QUOTE_DICTIONARY = 2` in router/packing.py; quotes-1.ndjson stays as long as quotes packed
with it may still be kept (their guarantee and a day).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carriers.sandbox import start_sandbox  # noqa: E402
from router.core.codec import quote_body  # noqa: E402
from router.core.models import Location, Parcel, Policy, PolicyKind, Shipment  # noqa: E402
from router.core.settings import Settings  # noqa: E402
from router.quoting.wiring import open_engine  # noqa: E402
from router.store.packing import DICTIONARY_MAX  # noqa: E402

# Deflate finds the end of its dictionary soonest, so the commonest shapes come last: quotes
# with API carriers (the sandbox) first, then the demo network's rate cards alone, as served.
LANES = [
    (True, "Владивосток", "Калининград", Parcel(25000, 80, 60, 50), PolicyKind.FASTEST),
    (True, "Москва", "Москва", Parcel(500, 20, 15, 5), PolicyKind.BALANCED),
    (False, "Новосибирск", "Екатеринбург", Parcel(3500, 40, 30, 20), PolicyKind.CHEAPEST),
    (False, "Казань", "Нижний Новгород", Parcel(800, 25, 20, 10), PolicyKind.BALANCED),
    (False, "Санкт-Петербург", "Самара", Parcel(12000, 60, 40, 30), PolicyKind.BALANCED),
    (False, "Москва", "Новосибирск", Parcel(1200, 30, 20, 10), PolicyKind.BALANCED),
]


async def quotes() -> list[bytes]:
    servers = await start_sandbox()
    try:
        demo_settings, sandbox_settings = Settings(), servers.configure(Settings())
        # Wired as the service is, so the dictionary holds what it really answers.
        async with open_engine(demo_settings) as demo, open_engine(sandbox_settings, places=demo.places) as sandbox:
            bodies = []
            for api, origin, destination, parcel, kind in LANES:
                shipment = Shipment(Location(city=origin), Location(city=destination), (parcel,), Decimal("4500"))
                quote = await (sandbox if api else demo).engine.quote(shipment, Policy(kind=kind))
                if quote.errors:
                    raise SystemExit(f"{origin} → {destination}: {quote.errors}")
                bodies.append(quote_body(quote))
            return bodies
    finally:
        await servers.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"{args.out} exists: a shipped dictionary never changes; write the next number")
    dictionary = b"\n".join(asyncio.run(quotes()))[-DICTIONARY_MAX:]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(dictionary)
    print(f"{args.out}: {len(dictionary):,} bytes")


if __name__ == "__main__":
    main()
