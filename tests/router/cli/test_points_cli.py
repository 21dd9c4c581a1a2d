"""`carrier-router points`: imports go to the records database, never under the data directory."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from router.cli.main import main
from router.core.settings import DEFAULT_DATA_DIR
from tests.pickup_points.test_importers import cdek_point


@pytest.fixture
def env(records_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": records_url, "CARRIER_ROUTER_STATE": str(tmp_path / "state"), "COLUMNS": "200"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def feed(tmp_path: Path, *codes: str) -> Path:
    path = tmp_path / f"feed-{len(codes)}.json"
    path.write_bytes(orjson.dumps([cdek_point(code) for code in codes]))
    return path


def listed(env: dict[str, str]) -> dict[str, Any]:
    result = run(env, "points", "list", "--json")
    assert result.exit_code == 0, result.output
    return {n["network"]: n for n in orjson.loads(result.output)}


def test_an_import_is_kept_in_the_records_and_the_data_directory_is_not_touched(
    env: dict[str, str], tmp_path: Path
) -> None:
    before = tree_digest(DEFAULT_DATA_DIR)
    source = feed(tmp_path, "MSK1", "MSK2")
    result = run(env, "points", "import", str(source), "--network", "partner")
    assert result.exit_code == 0, result.output
    assert "2 points of partner imported; 0 rejected" in result.output
    assert tree_digest(DEFAULT_DATA_DIR) == before

    networks = listed(env)
    assert networks["partner"]["points"] == 2 and networks["partner"]["source"] == str(source.resolve())
    assert networks["partner"]["imported_at"] is not None
    assert networks["magistral"]["imported_at"] is None and networks["magistral"]["source"].startswith("bundled")

    stats = orjson.loads(run(env, "points", "stats", "--json").output)
    assert {n["network"]: n["points"] for n in stats["networks"]}["partner"] == 2
    assert stats["imported"] == ["partner"]


def test_a_reimport_replaces_the_network_and_remove_takes_it_away(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "points", "import", str(feed(tmp_path, "A", "B", "C")), "--network", "partner").exit_code == 0
    result = run(env, "points", "import", str(feed(tmp_path, "D")), "--network", "partner")
    assert result.exit_code == 0, result.output
    assert listed(env)["partner"]["points"] == 1

    removed = run(env, "points", "remove", "partner")
    assert removed.exit_code == 0 and "removed partner: 1 points" in removed.output
    assert "partner" not in listed(env)
    again = run(env, "points", "remove", "partner")
    assert again.exit_code == 1 and "no imported network 'partner'" in again.output


def test_an_import_under_a_bundled_networks_name_replaces_its_points(env: dict[str, str], tmp_path: Path) -> None:
    bundled = listed(env)["vestnik"]["points"]
    assert bundled > 1
    assert run(env, "points", "import", str(feed(tmp_path, "V1")), "--network", "vestnik").exit_code == 0
    stats = orjson.loads(run(env, "points", "stats", "--json").output)
    assert {n["network"]: n["points"] for n in stats["networks"]}["vestnik"] == 1


def test_a_network_name_that_could_be_a_path_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "points", "import", str(feed(tmp_path, "A")), "--network", "../../x")
    assert result.exit_code == 2 and "not a network name" in result.output
    assert "../../x" not in listed(env)


def test_a_records_database_that_does_not_answer_is_said_in_words_without_its_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://postgres:hunter2@127.0.0.1:1/nothing", "CARRIER_ROUTER_STATE": str(tmp_path)}
    result = run(env, "points", "import", str(feed(tmp_path, "A")), "--network", "partner")
    assert result.exit_code == 1
    assert "the records database is not answering (postgresql://postgres:***@127.0.0.1:1/nothing)" in result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output
