from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from router.cli.main import main
from tests.pickup_points.test_importers import cdek_point


def run(*args: str):  # type: ignore[no-untyped-def]
    # The records in a SQLite file of this test's own (args start with --data-dir tmp_path).
    env = {"DATABASE_URL": "", "CARRIER_ROUTER_STATE": str(Path(args[1]) / "state")}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_import_keeps_good_records_reports_bad_ones_and_stats_count_them(tmp_path: Path) -> None:
    feed = tmp_path / "points.json"
    anadyr_east = cdek_point(
        "E1", location={"latitude": 65.2, "longitude": -179.7, "address": "ул. Морская, 1", "city": "Берег"}
    )
    feed.write_bytes(orjson.dumps([cdek_point("MSK1"), cdek_point("BAD", type="TERMINAL"), anadyr_east]))
    result = run("--data-dir", str(tmp_path), "points", "import", str(feed), "--network", "partner")
    assert result.exit_code == 0, result.output
    assert "points.json:2: type:" in result.output
    assert "2 points of partner imported" in result.output
    assert not (tmp_path / "pickup_points").exists()

    stats = run("--data-dir", str(tmp_path), "points", "stats", "--json")
    body = orjson.loads(stats.output)
    assert body["points"] == 2 and body["networks"][0]["network"] == "partner"
    assert body["networks"][0]["by_type"] == {"pvz": 2} and body["networks"][0]["timezones"] == 2


def test_a_file_with_nothing_usable_writes_nothing_and_fails(tmp_path: Path) -> None:
    feed = tmp_path / "bad.csv"
    feed.write_text("code,address,lat,lon,hours\nA,x,north,37,24/7\n")
    result = run("--data-dir", str(tmp_path), "points", "import", str(feed), "--network", "n")
    assert result.exit_code == 1
    assert "bad.csv:2: lat:" in result.output
    assert not (tmp_path / "pickup_points" / "n.csv").exists()


def test_an_unreadable_file_names_itself(tmp_path: Path) -> None:
    feed = tmp_path / "feed.geojson"
    feed.write_text("{not json")
    result = run("--data-dir", str(tmp_path), "points", "import", str(feed), "--network", "n")
    assert result.exit_code == 1 and "feed.geojson" in result.output


def test_a_network_name_that_would_leave_the_data_directory_is_refused(tmp_path: Path) -> None:
    feed = tmp_path / "points.json"
    feed.write_bytes(orjson.dumps([cdek_point("MSK1")]))
    data = tmp_path / "data"
    for name in ("../../x", "x/y", "..", "Partner", ".hidden", "a" * 64, ""):
        result = run("--data-dir", str(data), "points", "import", str(feed), "--network", name)
        assert result.exit_code == 2, (name, result.output)
        assert "--network" in result.output
    assert not any(tmp_path.rglob("*.csv"))


def test_the_errors_beyond_the_first_thousand_are_summed_up(tmp_path: Path) -> None:
    feed = tmp_path / "points.csv"
    rows = [f"A{i},x,north,37,24/7" for i in range(1003)]
    feed.write_text("\n".join(["code,address,lat,lon,hours", *rows, "B,x,55.7,37.6,24/7"]))
    result = run("--data-dir", str(tmp_path), "points", "import", str(feed), "--network", "n")
    assert result.exit_code == 0, result.output
    assert "and 3 more rejected records" in result.output
    assert "1 points of n imported" in result.output and "1003 rejected" in result.output
