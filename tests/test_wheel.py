"""The wheel alone is the service: built from the repository's files, installed into a fresh venv,
started from an empty directory, it quotes the demo network and serves the widget.

About a minute, most of it pip installing the dependencies into the new venv (from its cache).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILT_WIDGET = ROOT / "widget" / "dist"
STARTUP_TIMEOUT_S = 90.0
MOSCOW_NOVOSIBIRSK = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}

pytestmark = pytest.mark.wheel


def _run(*args: str | Path, cwd: Path | None = None, timeout_s: float = 600) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _clean_clone(target: Path) -> Path:
    """The repository's files as a clone would have them (tracked or not ignored), plus the built
    widget when there is one, so the build does not run npm again; nothing of .venv or build/."""
    listed = _run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    if (BUILT_WIDGET / "widget.js").is_file():
        shutil.copytree(BUILT_WIDGET, target / "widget" / "dist")
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fetch(url: str, body: Mapping[str, object] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, "the installed service exited while starting"
        try:
            if _fetch(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the installed service was not healthy within {STARTUP_TIMEOUT_S} s")


@dataclass(frozen=True)
class Installed:
    clone: Path  # what the wheel was built from, widget/dist included once built
    bin: Path  # the fresh venv's bin/


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """A fresh venv with only the wheel (and its dependencies) installed; removed afterwards (~600 MB)."""
    work = tmp_path_factory.mktemp("wheel")
    clone = _clean_clone(work / "clone")
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", clone, "-w", work / "dist")
    (wheel,) = (work / "dist").glob("carrier_router-*.whl")
    _run(sys.executable, "-m", "venv", work / "venv")
    # No byte-compiling: it is a third of the install's time and nothing here needs it.
    _run(work / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--no-compile", wheel)
    yield Installed(clone, work / "venv" / "bin")
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def service(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`carrier-router serve` from the fresh venv, started in an empty directory; its base URL."""
    started_in = tmp_path_factory.mktemp("elsewhere")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARRIER_ROUTER_") and k != "REDIS_URL"}
    server = subprocess.Popen(
        [installed.bin / "carrier-router", "serve", "--port", str(port)],
        cwd=started_in,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_the_installed_package_reads_its_data_and_widget_from_site_packages(
    installed: Installed, tmp_path: Path
) -> None:
    where = _run(
        installed.bin / "python",
        "-c",
        "from router.core import bundled, settings; "
        "print(bundled.data_dir(), bundled.widget_dir(), bundled.checkout(), settings.DEFAULT_STATE_DIR, sep='\\n')",
        cwd=tmp_path,
    ).splitlines()
    data, widget, checkout, state = where
    site_packages = installed.bin.parent / "lib"
    assert Path(data).is_relative_to(site_packages) and (Path(data) / "carriers").is_dir()
    assert Path(widget).is_relative_to(site_packages) and (Path(widget) / "dist" / "widget.js").is_file()
    assert checkout == "None"
    assert Path(state) == tmp_path / "var"


def test_the_installed_service_quotes_the_demo_network(service: str) -> None:
    status, _, body = _fetch(f"{service}/v1/quotes", MOSCOW_NOVOSIBIRSK)
    assert status == 201, body[:500]
    carriers = {offer["carrier"] for offer in json.loads(body)["offers"]}
    assert carriers and carriers <= {card.stem for card in (ROOT / "data" / "carriers").glob("*.json")}


def test_the_installed_service_serves_the_widget_it_was_built_with(installed: Installed, service: str) -> None:
    status, headers, script = _fetch(f"{service}/widget.js")
    assert status == 200
    assert headers["Content-Type"].startswith("application/javascript")
    assert script == (installed.clone / "widget" / "dist" / "widget.js").read_bytes()
    status, _, page = _fetch(f"{service}/widget/demo")
    assert status == 200 and b"/widget.js" in page
