"""What goes into the wheel besides the code, and the widget built on the way.

Project metadata and dependencies live in pyproject.toml. This file maps the repository's
`data/` and `widget/` folders into the package as `router.bundled` and `router.widget` (read
through importlib.resources, see router/core/bundled.py), and builds the widget's script with npm
when it is missing or older than its sources, so `pip install .` from a clean clone alone gives
a service that serves it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
WIDGET = ROOT / "widget"
WIDGET_DIST = WIDGET / "dist"
DATA_FILES = ["*.csv", "*.geojson", "*.json", "*.md", "*.ndjson", "*.toml", "*.txt"]


def data_packages() -> dict[str, str]:
    """router.bundled and one package per folder under data/, each mapped to its folder."""
    folders = [DATA, *sorted(p for p in DATA.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    return {".".join(["router.bundled", *p.relative_to(DATA).parts]): p.relative_to(ROOT).as_posix() for p in folders}


def widget_sources() -> list[Path]:
    fixed = [WIDGET / name for name in ("package.json", "package-lock.json", "build.mjs")]
    return fixed + sorted(p for p in (WIDGET / "src").rglob("*") if p.is_file())


def widget_is_stale() -> bool:
    script = WIDGET_DIST / "widget.js"
    if not script.is_file():
        return True
    built_at = script.stat().st_mtime
    return any(source.stat().st_mtime > built_at for source in widget_sources())


class BuildPyWithWidget(build_py):
    def run(self) -> None:
        # widget/dist is never committed, so a clean clone has none; a wheel without it would
        # answer /widget.js with "not built".
        if widget_is_stale():
            subprocess.run(["bash", str(ROOT / "scripts" / "build-widget")], check=True)
        super().run()
        if not self.editable_mode:  # an editable install reads widget/dist in place
            # Copied whole rather than declared as package data: dist/ does not exist yet when
            # setuptools lists a clean clone's packages, and its chunk names change each build.
            target = Path(self.build_lib, "router", "widget", "dist")
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(WIDGET_DIST, target)


DATA_PACKAGES = data_packages()

setup(
    packages=[
        *find_packages(include=["router", "router.*", "carriers", "carriers.*", "pickup_points", "pickup_points.*"]),
        *DATA_PACKAGES,
        "router.widget",
    ],
    package_dir={**DATA_PACKAGES, "router.widget": "widget"},
    package_data={
        **{package: DATA_FILES for package in DATA_PACKAGES},
        "router.widget": ["demo.html"],
        "": ["*.json", "*.geojson", "*.csv", "*.toml"],
    },
    exclude_package_data={"router.widget": ["package.json", "package-lock.json"]},
    # Only the files declared above: MANIFEST.in also lists the widget's sources for the sdist.
    include_package_data=False,
    cmdclass={"build_py": BuildPyWithWidget},
)
