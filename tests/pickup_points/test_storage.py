from __future__ import annotations

from pathlib import Path

import pytest

from pickup_points.errors import NetworkNameError
from pickup_points.storage import load_points, save_network
from router.core.errors import ConfigError
from tests.pickup_points.factories import every_field, point


def test_a_saved_network_reads_back_equal(tmp_path: Path) -> None:
    points = every_field()
    save_network(points, tmp_path, "n")
    loaded = load_points(tmp_path)
    assert loaded.errors == ()
    assert loaded.points == tuple(points)


def test_a_networks_own_file_replaces_its_demo_points(tmp_path: Path) -> None:
    save_network([point("1", network="a"), point("2", network="b")], tmp_path, "demo_points")
    save_network([point("9", network="a")], tmp_path, "a")
    assert sorted(p.id for p in load_points(tmp_path).points) == ["a:9", "b:2"]


def test_bad_rows_in_a_file_are_reported_with_the_file_and_line(tmp_path: Path) -> None:
    save_network([point("1"), point("2")], tmp_path, "n")
    path = tmp_path / "n.csv"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("55.750000", "north")
    path.write_text("\n".join(lines) + "\n")
    loaded = load_points(tmp_path)
    assert [p.code for p in loaded.points] == ["1"]
    assert [str(e).split(": ")[0] for e in loaded.errors] == ["n.csv:3"]


def test_a_file_without_the_columns_stops_loading_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "broken.csv").write_text("what,is,this\n1,2,3\n")
    with pytest.raises(ConfigError, match="broken.csv"):
        load_points(tmp_path)


def test_a_network_name_never_becomes_a_path_outside_the_directory(tmp_path: Path) -> None:
    with pytest.raises(NetworkNameError, match="network name"):
        save_network([], tmp_path / "points", "../escaped")
    assert not (tmp_path / "escaped.csv").exists()
