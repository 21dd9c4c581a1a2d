"""The bundled data and widget are found as packages, in a checkout as in a wheel (tests/test_wheel.py)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from router.core import bundled, settings
from router.quoting.places import POSTAL_PREFIXES
from router.store.packing import DICTIONARIES

ROOT = Path(__file__).resolve().parents[3]


def test_the_data_is_the_router_bundled_package_and_in_a_checkout_the_data_folder() -> None:
    assert bundled.data_dir() == Path(str(resources.files("router.bundled")))
    assert bundled.data_dir().resolve() == (ROOT / "data").resolve()
    assert sorted(p.name for p in (bundled.data_dir() / "carriers").glob("*.json")) == sorted(
        p.name for p in (ROOT / "data" / "carriers").glob("*.json")
    )


def test_the_widget_is_the_router_widget_package_and_in_a_checkout_the_widget_folder() -> None:
    assert bundled.widget_dir().resolve() == (ROOT / "widget").resolve()
    assert (bundled.widget_dir() / "demo.html").is_file()


def test_every_reader_of_bundled_files_finds_them_under_the_data_package() -> None:
    data = bundled.data_dir()
    assert settings.DEFAULT_DATA_DIR == data
    assert POSTAL_PREFIXES == data / "places" / "ru_postal_prefixes.csv" and POSTAL_PREFIXES.is_file()
    assert DICTIONARIES == data / "packing" and any(DICTIONARIES.glob("quotes-*.ndjson"))


def test_a_checkout_keeps_its_state_beside_the_code_as_it_always_has() -> None:
    assert bundled.checkout() == ROOT
    assert settings.default_state_dir() == ROOT / "var"
    assert settings.Settings().state_dir == ROOT / "var"


def test_an_installed_package_keeps_its_state_in_the_directory_it_started_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bundled, "checkout", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert settings.default_state_dir() == tmp_path / "var"


def test_the_state_directory_can_be_set_from_the_environment(tmp_path: Path) -> None:
    assert settings.Settings.from_env({"CARRIER_ROUTER_STATE": str(tmp_path)}).state_dir == tmp_path


def test_a_checkout_installed_before_the_data_became_a_package_still_reads_it_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_installed(package: str) -> None:
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(resources, "files", not_installed)
    assert bundled.data_dir() == ROOT / "data"
    assert bundled.widget_dir() == ROOT / "widget"


def test_an_installed_package_without_its_data_says_which_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(package: str) -> None:
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(resources, "files", not_installed)
    monkeypatch.setattr(bundled, "checkout", lambda: None)
    with pytest.raises(ModuleNotFoundError, match="router.bundled"):
        bundled.data_dir()
