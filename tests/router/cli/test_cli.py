"""`carrier-router quote` at the terminal, with and without the delivery history in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import re
import socket
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from unittest import mock

import msgspec
from aiohttp import web
from click.testing import CliRunner, Result

from router.cli.main import main
from router.core import answers
from router.core.settings import Settings
from router.records.keys import KeyKind
from tests.keys import create_key
from tests.router.cli.test_outcomes_cli import redis_env  # noqa: F401  (the fixture)
from tests.router.outcome_sim import HEADER, simulate

MOSCOW_PETERSBURG = ["quote", "--from", "Москва", "--to", "Санкт-Петербург", "--weight-g", "1200"]
WIDE = {"COLUMNS": "220"}
REMOTE_BODY = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Санкт-Петербург"},
    "parcels": [{"weight_g": 1200, "length_cm": 10, "width_cm": 10, "height_cm": 10}],
}


@contextlib.contextmanager
def _wide() -> Iterator[None]:
    with mock.patch.dict(os.environ, WIDE):
        yield


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


async def _quote_at(url: str, *args: str, api_key: str = "") -> Result:
    # The CLI runs its own event loop; the service under test keeps this one.
    env = {**WIDE, "REDIS_URL": "", "CARRIER_ROUTER_API_KEY": api_key}
    return await asyncio.to_thread(CliRunner().invoke, main, [*MOSCOW_PETERSBURG, "--url", url, *args], env=env)


async def test_a_quote_asked_of_the_service_is_held_there_under_the_id_printed(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api()
    url = str(api.make_url("/"))

    printed = await _quote_at(url)

    assert printed.exit_code == 0, printed.output
    header = printed.output.splitlines()[0]
    assert "Moscow → Saint Petersburg" in header and "not held" not in header
    held = re.search(r"price held until (\d\d:\d\d) by (\S+), quote (q_[\w-]+)", " ".join(printed.output.split()))
    assert held is not None, printed.output
    assert held[2] == url
    stored = await api.get(f"/v1/quotes/{held[3]}")
    assert stored.status == 200
    quote = await stored.json()
    assert held[1] == f"{datetime.fromisoformat(quote['expires_at']).astimezone():%H:%M}"
    assert "Vestnik" in printed.output and "Recommended:" in printed.output
    total = next(o for o in quote["offers"] if o["id"] == quote["recommended"]["offer_id"])["price"]["total"]
    assert total in printed.output


async def test_a_quote_asked_of_the_service_as_json_is_its_answer(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api()

    printed = await _quote_at(str(api.make_url("/")), "--json")

    assert printed.exit_code == 0, printed.output
    answer = json.loads(printed.output)
    stored = await (await api.get(f"/v1/quotes/{answer['quote_id']}")).json()
    assert answer == stored


async def test_an_estimate_from_the_service_is_marked_and_not_called_held(make_api) -> None:  # type: ignore[no-untyped-def]
    from router.cli.remote import print_answer

    api = await make_api()
    answer = await (await api.post("/v1/quotes", json=REMOTE_BODY)).json()
    rec = answer["recommended"]["offer_id"]
    for offer in answer["offers"]:
        if offer["id"] == rec:
            offer.update(estimate=True, stale=True, as_of=answer["created_at"])
    quote = msgspec.json.decode(json.dumps(answer), type=answers.Quote)

    with contextlib.redirect_stdout(io.StringIO()) as out, _wide():
        print_answer("http://service", quote)

    printed = out.getvalue()
    assert "not held" in printed.splitlines()[0] and "held until" not in printed
    assert any(line.split("│")[1].strip().endswith("~") for line in printed.splitlines() if "│" in line[:3])
    assert "~ estimate" in printed


async def test_a_bad_ship_at_refused_by_the_service_is_one_line_naming_the_field(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api()

    refused = await _quote_at(str(api.make_url("/")), "--ship-at", "2026-12-09T10:00")

    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "422" in lines[0] and "ship_at" in lines[0], refused.output
    assert "Traceback" not in refused.output


async def test_an_unreachable_service_is_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound and not listening: nothing answers there

        refused = await _quote_at(f"http://127.0.0.1:{port}")

    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "cannot reach" in lines[0] and str(port) in lines[0], refused.output


async def test_a_ship_at_in_minutes_reaches_the_service_as_the_same_moment(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api()
    later = date.today() + timedelta(days=40)

    printed = await _quote_at(str(api.make_url("/")), "--json", "--ship-at", f"{later}T10:00+03:00")

    assert printed.exit_code == 0, printed.output
    answer = json.loads(printed.output)
    shipped = min(date.fromisoformat(o["eta"]["ship_date"]) for o in answer["offers"])
    assert later <= shipped < later + timedelta(days=5)  # the next working day from then
    too_late = await _quote_at(str(api.make_url("/")), "--ship-at", f"{later + timedelta(days=400)}T10:00+03:00")
    assert too_late.exit_code == 1 and "ship_at: must be within" in too_late.output, too_late.output


async def test_a_service_with_keys_takes_the_key_from_the_environment_and_refuses_in_one_line_without(
    make_api,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _, token = await create_key(tmp_path, KeyKind.SECRET, "terminal")
    api = await make_api(Settings(state_dir=tmp_path))
    url = str(api.make_url("/"))

    refused = await _quote_at(url)
    held = await _quote_at(url, api_key=token)

    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    assert "(401)" in refused.output and "Authorization: Bearer" in refused.output, refused.output
    assert held.exit_code == 0 and "price held until" in held.output, held.output


async def test_an_answer_that_is_not_a_quote_is_one_line(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    async def gateway(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/v1/quotes", gateway)
    server = await aiohttp_server(app)

    refused = await _quote_at(str(server.make_url("/")))

    assert refused.exit_code == 1, refused.output
    assert refused.output.strip().splitlines() == [
        f"Error: {server.make_url('/')} answered 502 Bad Gateway, not a quote"
    ]
