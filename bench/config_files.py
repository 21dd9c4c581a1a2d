"""Reading configuration files: the bundled rate cards and the carriers TOML, in one tree or two.

    .venv/bin/python bench/config_files.py                       # this checkout
    .venv/bin/python bench/config_files.py --tree ../base-config  # another checkout, same venv

Each tree is measured in a subprocess of its own (its modules imported from `--tree`), so two
trees compared in one run share the machine's load. Per tree: the median and p90 CPU time (steadier than wall time on a shared machine) of
loading every bundled rate card (`load_ratecards`), of reading the demo carriers TOML
(`load_config`), and of validating a directory holding one broken copy of each card
(`validate_directory`, the path that names every problem). Service start-up pays the first of
these once; no quote pays any of them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_MEASURE = r"""
import json, statistics, sys, tempfile, time
from pathlib import Path
tree, repeat = Path(sys.argv[1]), int(sys.argv[2])
sys.path.insert(0, str(tree))
from carriers.config import load_config
from carriers.ratecard import load_ratecards, validate_directory
cards, toml = tree / "data" / "carriers", tree / "data" / "config" / "demo.toml"
broken = Path(tempfile.mkdtemp())
for path in sorted(cards.glob("*.json")):
    doc = json.loads(path.read_text())
    doc["cutoff"] = "noon"
    doc["services"][0]["delivery_type"] = "drone"
    doc["services"][0]["limits"]["max_weight_g"] = "10kg"
    (broken / path.name).write_text(json.dumps(doc))

def timed(call):
    out = []
    for _ in range(repeat):
        started = time.process_time()
        call()
        out.append((time.process_time() - started) * 1000)
    return out

result = {
    "load_ratecards": timed(lambda: load_ratecards(cards)),
    "load_config": timed(lambda: load_config(toml, {})),
    "validate_broken": timed(lambda: validate_directory(broken)),
    "problems_found": len(validate_directory(broken)),
}
print(json.dumps(result))
"""


def measure(tree: Path, repeat: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tree), str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", help="another checkout to measure beside this one")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    trees = [HERE, *(t.resolve() for t in args.tree or ())]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.repeat} runs each")
    print(f"{'tree':<28} {'what':<16} {'median CPU ms':>14} {'p90':>8}")
    for tree in trees:
        result = measure(tree, args.repeat)
        for what in ("load_ratecards", "load_config", "validate_broken"):
            runs = sorted(result[what])  # type: ignore[call-overload]
            p90 = runs[int(len(runs) * 0.9) - 1]
            print(f"{str(tree)[-28:]:<28} {what:<16} {statistics.median(runs):>14.2f} {p90:>8.2f}")
        print(f"{str(tree)[-28:]:<28} problems named in the broken copies: {result['problems_found']}")


if __name__ == "__main__":
    main()
