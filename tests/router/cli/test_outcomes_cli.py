"""`carrier-router outcomes import|show` and `carriers reinstate` against the real Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from router.cli.main import main
from tests.router.outcome_sim import HEADER

ROWS = [
    "c1,vestnik,parcel,RU-MOW,RU-NVS,2026-11-02,2026-11-12,2026-11-10,delivered,no",
    "c2,vestnik,parcel,RU-MOW,RU-NVS,2026-11-03,,,lost,no",
    "c3,vestnik,courier,RU-MOW,RU-NVS,2026-11-03,,2026-11-05,damaged,no",
    "c4,vestnik,parcel,RU-MOW,RU-NVS,2026-11-04,,2026-11-09,delivered,yes",
    "c5,vestnik,parcel,RU-MOW,RU-NVS,whenever,,,lost,no",
]


@pytest.fixture
def redis_env(redis_url: str, redis_prefix: str, tmp_path: Path) -> dict[str, str]:
    # The records (where outcomes are kept too) in a directory of the test's own.
    return {"REDIS_URL": redis_url, "CARRIER_ROUTER_REDIS_PREFIX": redis_prefix, "CARRIER_ROUTER_STATE": str(tmp_path)}


def test_import_show_and_reinstate_from_the_command_line(tmp_path: Path, redis_env: dict[str, str]) -> None:
    source = tmp_path / "outcomes.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n")
    runner = CliRunner()

    imported = runner.invoke(main, ["outcomes", "import", str(source)], env=redis_env)
    assert imported.exit_code == 0, imported.output
    assert "4 imported, 0 already known, 1 rejected" in imported.output
    assert "line 6: handed_over_at" in imported.output
    assert "suspended on RU-MOW>RU-NVS" in imported.output

    again = runner.invoke(main, ["outcomes", "import", str(source)], env=redis_env)
    assert "0 imported, 4 already known" in again.output

    shown = runner.invoke(main, ["outcomes", "show", "vestnik"], env=redis_env)
    assert shown.exit_code == 0, shown.output
    assert "parcel" in shown.output and "suspended on RU-MOW>RU-NVS" in shown.output

    lifted = runner.invoke(main, ["carriers", "reinstate", "vestnik", "--lane", "RU-MOW>RU-NVS"], env=redis_env)
    assert lifted.exit_code == 0 and "reinstated vestnik on RU-MOW>RU-NVS" in lifted.output
    twice = runner.invoke(main, ["carriers", "reinstate", "vestnik"], env=redis_env)
    assert "vestnik was not suspended" in twice.output


def test_carriers_alone_still_lists_the_carriers() -> None:
    listed = CliRunner().invoke(main, ["carriers"])
    assert listed.exit_code == 0 and "vestnik" in listed.output


def test_importing_without_redis_is_refused_with_the_reason(tmp_path: Path) -> None:
    source = tmp_path / "outcomes.csv"
    source.write_text("\n".join([HEADER, ROWS[0]]) + "\n")
    refused = CliRunner().invoke(main, ["outcomes", "import", str(source)], env={"REDIS_URL": ""})
    assert refused.exit_code == 1 and "REDIS_URL" in refused.output


def test_a_windows_1251_file_with_an_unclosed_quote_is_imported_around_it(
    tmp_path: Path, redis_env: dict[str, str]
) -> None:
    source = tmp_path / "outcomes.csv"
    rows = [ROWS[0], ROWS[1].replace(",RU-MOW,", ',"RU-MOW,', 1), ROWS[2]]
    source.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode("cp1251"))
    imported = CliRunner().invoke(main, ["outcomes", "import", str(source)], env=redis_env)
    assert imported.exit_code == 0, imported.output
    assert "2 imported, 0 already known, 1 rejected" in imported.output
    assert "line 3: origin: opens a quote that is never closed" in imported.output


def test_an_import_of_a_wrong_file_stops_and_says_how_much_was_not_read(
    tmp_path: Path, redis_env: dict[str, str]
) -> None:
    source = tmp_path / "outcomes.ndjson"
    source.write_text("{}\n" * 1500)
    imported = CliRunner().invoke(main, ["outcomes", "import", str(source)], env=redis_env)
    assert imported.exit_code == 0, imported.output
    assert "line 1001 and 499 more were not read" in imported.output


def test_a_wiped_track_record_comes_back_from_the_records(
    tmp_path: Path, redis_env: dict[str, str], redis_url: str, redis_prefix: str
) -> None:
    source = tmp_path / "outcomes.csv"
    source.write_text("\n".join([HEADER, *ROWS]) + "\n")
    runner = CliRunner()
    assert runner.invoke(main, ["outcomes", "import", str(source)], env=redis_env).exit_code == 0
    shown = runner.invoke(main, ["outcomes", "show", "vestnik"], env=redis_env).output
    assert "suspended on RU-MOW>RU-NVS" in shown

    def wipe() -> None:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=redis_prefix + "*"):
            client.delete(key)
        client.close()

    wipe()  # a store missing outcomes the records keep gets them back when the engine opens
    assert runner.invoke(main, ["outcomes", "show", "vestnik"], env=redis_env).output == shown
    wipe()
    rebuilt = runner.invoke(main, ["outcomes", "rebuild"], env=redis_env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "4 outcomes counted again" in rebuilt.output
    assert runner.invoke(main, ["outcomes", "show", "vestnik"], env=redis_env).output == shown
    again = runner.invoke(main, ["outcomes", "import", str(source)], env=redis_env)
    assert "0 imported, 4 already known" in again.output


def test_a_rebuild_while_another_runs_is_refused_with_the_reason(
    redis_env: dict[str, str], redis_url: str, redis_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    client.set(redis_prefix + "rel:refolding", b"1", ex=60)
    client.close()
    refused = CliRunner().invoke(main, ["outcomes", "rebuild"], env=redis_env)
    assert refused.exit_code == 1 and "another process is refolding" in refused.output
