"""`carrier-router quote` at the terminal, with and without the delivery history in Redis."""

from __future__ import annotations

import random
from pathlib import Path

from click.testing import CliRunner

from router.cli.main import main
from tests.router.cli.test_outcomes_cli import redis_env  # noqa: F401  (the fixture)
from tests.router.outcome_sim import HEADER, simulate

MOSCOW_PETERSBURG = ["quote", "--from", "Москва", "--to", "Санкт-Петербург", "--weight-g", "1200"]
WIDE = {"COLUMNS": "220"}


def test_a_quote_without_history_prints_the_offers_and_no_learned_columns() -> None:
    printed = CliRunner().invoke(main, MOSCOW_PETERSBURG, env={**WIDE, "REDIS_URL": ""})
    assert printed.exit_code == 0, printed.output
    assert "Moscow → Saint Petersburg" in printed.output
    assert "Vestnik" in printed.output and "Recommended:" in printed.output
    assert "95 % by" not in printed.output


def test_a_quote_with_history_in_redis_shows_what_it_learned(tmp_path: Path, redis_env: dict[str, str]) -> None:  # noqa: F811
    outcomes, _ = simulate("vestnik", "parcel", "RU-MOW>RU-SPE", 60, {2: 0.5, 3: 0.4, 6: 0.1}, 3, random.Random(7))
    source = tmp_path / "outcomes.csv"
    lines = [
        f"{o.shipment_id},{o.carrier},{o.service},{o.origin},{o.destination},{o.handed_over_on},"
        f"{o.promised_on},{o.delivered_on},delivered,no"
        for o in outcomes
    ]
    source.write_text("\n".join([HEADER, *lines]) + "\n")
    runner = CliRunner()
    imported = runner.invoke(main, ["outcomes", "import", str(source)], env=redis_env)
    assert imported.exit_code == 0 and "60 imported" in imported.output, imported.output

    printed = runner.invoke(main, MOSCOW_PETERSBURG, env={**WIDE, **redis_env})
    assert printed.exit_code == 0, printed.output
    assert "95 % by" in printed.output and "on time" in printed.output
    parcel = next(line for line in printed.output.splitlines() if "Vestnik" in line and "60 on this lane" in line)
    assert "%" in parcel  # its on-time rate: the simulated history has promised dates
    assert "no history" in printed.output  # the carriers the history says nothing of


def test_a_quote_at_the_terminal_says_it_is_not_held_and_ships_when_told(tmp_path: Path) -> None:
    import json
    from datetime import date, timedelta

    env = {**WIDE, "REDIS_URL": "", "CARRIER_ROUTER_STATE": str(tmp_path)}
    printed = CliRunner().invoke(main, MOSCOW_PETERSBURG, env=env)
    assert "not held" in printed.output and "held until" not in printed.output

    later = date.today() + timedelta(days=40)
    args = [*MOSCOW_PETERSBURG, "--json"]
    now = json.loads(CliRunner().invoke(main, args, env=env).output)
    then = json.loads(CliRunner().invoke(main, [*args, "--ship-at", f"{later}T10:00:00+03:00"], env=env).output)
    assert min(o["eta"]["min_date"] for o in then["offers"]) > max(o["eta"]["max_date"] for o in now["offers"])
    refused = CliRunner().invoke(main, [*MOSCOW_PETERSBURG, "--ship-at", "2026-12-09T10:00"], env=env)
    assert refused.exit_code == 2 and "--ship-at" in refused.output and "zone offset" in refused.output


def test_a_configuration_mistake_is_one_line_naming_the_variable_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "carriers.toml"
    config.write_text(
        '[[carriers]]\nkind = "cdek"\ncode = "cdek"\nbase_url = "https://api.edu.cdek.ru"\n'
        'client_id_env = "CDEK_ID_NOT_SET"\nclient_secret_env = "CDEK_SECRET_NOT_SET"\n'
    )
    env = {**WIDE, "REDIS_URL": "", "CARRIER_ROUTER_STATE": str(tmp_path)}
    for command in (["carriers"], MOSCOW_PETERSBURG):
        done = CliRunner().invoke(main, ["--config", str(config), *command], env=env)
        assert done.exit_code == 1, done.output
        assert "CDEK_ID_NOT_SET" in done.output and "Traceback" not in done.output
        assert done.exception is None or isinstance(done.exception, SystemExit)
