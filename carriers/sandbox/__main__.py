"""`python -m carriers.sandbox`: run the emulators until interrupted, printing where they listen."""

from __future__ import annotations

import argparse
import asyncio

from carriers.sandbox import start_sandbox
from carriers.sandbox.faults import Faults


async def _run(args: argparse.Namespace) -> None:
    faults = Faults(latency_ms=args.latency_ms, jitter_ms=args.jitter_ms) if args.latency_ms or args.jitter_ms else None
    servers = await start_sandbox(
        args.host, cdek_port=args.cdek_port, courier_port=args.courier_port, seed=args.seed, faults=faults
    )
    if servers.cdek_journeys is not None:
        servers.cdek_journeys.clock.speed = args.journey_speed
    try:
        print(f"CDEK v2 emulator:  {servers.cdek_url}  (client_id {servers.cdek_client_id})", flush=True)
        print(f"courier emulator:  {servers.courier_url}", flush=True)
        print("faults: POST {url}/_sandbox/faults, counters: GET {url}/_sandbox/stats", flush=True)
        print(
            f"parcels travel at {args.journey_speed:g}x; move them on: POST {{url}}/_sandbox/clock"
            ' {"advance_s": 86400}',
            flush=True,
        )
        print("credentials for the adapters (sandbox-only, regenerated every start):", flush=True)
        print(
            f"  export CDEK_CLIENT_ID={servers.cdek_client_id} CDEK_CLIENT_SECRET={servers.cdek_client_secret}",
            flush=True,
        )
        print(f"  export COURIER_TOKEN={servers.courier_token}", flush=True)
        await asyncio.Event().wait()
    finally:
        await servers.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m carriers.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cdek-port", type=int, default=0)
    parser.add_argument("--courier-port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="± around the latency")
    parser.add_argument("--seed", type=int, default=None, help="for repeatable jitter and journeys")
    parser.add_argument(
        "--journey-speed",
        type=float,
        default=0.0,
        help="simulated seconds per second for booked parcels (3600: an hour a second; 0: only when told)",
    )
    try:
        asyncio.run(_run(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
