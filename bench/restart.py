"""Restarting an unchanged checkout: from `scripts/serve` to the first 200 on /healthz.

    python3 bench/restart.py [--runs 5] [TREE ...]     # default: this checkout

Each TREE is a checkout whose .venv is already installed (run its `scripts/serve` once first):
what is measured is a restart with nothing changed, pip and npm included if the script runs
them. Give the tree before a change and the tree after it to compare them in one run; the runs
alternate between trees so machine load falls on both alike. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def restart_s(tree: Path) -> float:
    """Seconds from starting `scripts/serve` to its first 200 on /healthz; the server is stopped after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARRIER_ROUTER_") and k != "REDIS_URL"}
    started = time.perf_counter()
    # Its own process group: scripts/serve execs the service, but pip or npm may still be children.
    server = subprocess.Popen(
        [tree / "scripts" / "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            if server.poll() is not None:
                raise SystemExit(f"{tree}/scripts/serve exited with {server.returncode}")
            if healthy(f"http://127.0.0.1:{port}/healthz"):
                return time.perf_counter() - started
            time.sleep(0.05)
        raise SystemExit(f"{tree}: not healthy within {TIMEOUT_S} s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="*", type=Path, default=[ROOT])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: dict[Path, list[float]] = {tree: [] for tree in args.trees}
    for _ in range(args.runs):
        for tree in args.trees:
            times[tree].append(restart_s(tree))
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores\n")
    print("| tree | runs | median s | min s | max s |")
    print("|---|---:|---:|---:|---:|")
    for tree, seconds in times.items():
        print(
            f"| {tree} | {len(seconds)} | {statistics.median(seconds):.2f} | {min(seconds):.2f} | {max(seconds):.2f} |"
        )


if __name__ == "__main__":
    main()
