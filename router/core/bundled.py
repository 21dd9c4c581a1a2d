"""Where the files shipped with the service are found: the bundled data and the built widget.

Both are packages of resources, read through `importlib.resources`, so an editable install and a
wheel find them the same way: `router.bundled` is the repository's `data/` folder, and
`router.widget` its `widget/` folder (the demo page and `dist/`, the script built by npm). The
mapping is declared in setup.py (`package_dir`); in a wheel they sit in site-packages.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DATA_PACKAGE = "router.bundled"
WIDGET_PACKAGE = "router.widget"
_CHECKOUT = Path(__file__).resolve().parents[2]


def checkout() -> Path | None:
    """The repository this code runs from, or None for an installed package."""
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "data").is_dir():
        return _CHECKOUT
    return None


def data_dir() -> Path:
    """The bundled data: carriers/, config/, demo/, packing/, pickup_points/, places/."""
    return _package_dir(DATA_PACKAGE, "data")


def widget_dir() -> Path:
    """The widget's folder: demo.html, and dist/ once the script is built. A checkout that built
    its own serves it, even where the installed package points at another checkout (a git
    worktree beside the one the virtualenv was installed from)."""
    root = checkout()
    if root is not None and (root / "widget" / "dist" / "widget.js").is_file():
        return root / "widget"
    return _package_dir(WIDGET_PACKAGE, "widget")


def _package_dir(package: str, checkout_folder: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        # A checkout whose editable install predates the mapping has no such package until it
        # is reinstalled; its folders are where they always were, so the checkout still runs.
        root_dir = checkout()
        if root_dir is None:
            raise
        return root_dir / checkout_folder
    # Installed packages are plain folders (setuptools never installs zipped): the service opens
    # and lists these files by path, and hands the paths to Settings.
    if not isinstance(root, Path):
        raise RuntimeError(f"{package} is not a folder on disk ({root!r}); install the wheel unzipped")
    return root
