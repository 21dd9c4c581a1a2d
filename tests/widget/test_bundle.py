"""The built widget: within its size budget, with the map library only in the chunk it loads on demand."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from tests.widget.conftest import DIST

BUDGET_GZIP_BYTES = 40 * 1024


@pytest.fixture(scope="module")
def manifest() -> dict[str, str]:
    if not (DIST / "manifest.json").is_file():
        pytest.fail("widget/dist is missing: run scripts/build-widget (scripts/test does)")
    return dict(json.loads((DIST / "manifest.json").read_text()))


def test_the_widget_script_without_the_map_library_fits_the_gzip_budget(manifest: dict[str, str]) -> None:
    script = (DIST / manifest["widget"]).read_bytes()
    assert len(gzip.compress(script, compresslevel=9)) <= BUDGET_GZIP_BYTES


def test_leaflet_is_only_in_the_map_chunk_that_the_script_names(manifest: dict[str, str]) -> None:
    script = (DIST / manifest["widget"]).read_text()
    chunk = (DIST / manifest["map"]).read_text()
    assert "leaflet-container" not in script and "leaflet-container" in chunk
    assert manifest["map"] in script
    # The name carries the content hash, so the service may let browsers cache it for good.
    assert re.fullmatch(r"map-[A-Z0-9]{8}\.js", manifest["map_name"])
