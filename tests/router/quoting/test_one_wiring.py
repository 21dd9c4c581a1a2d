"""The terminal and the API quote through the same wiring, so they give the same offers."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from router.cli.main import main
from router.core.errors import ConfigError
from router.core.settings import Settings
from router.quoting.breaker import GuardedCarrier
from router.quoting.wiring import open_engine
from router.store import MemoryStore
from tests.router.fakes import FakeCarrier


def offers_of(quote: dict[str, Any]) -> list[tuple[object, ...]]:
    """What a buyer is offered: carrier, service, price with its lines, and the dates."""
    return sorted(
        (
            o["carrier"],
            o["service"],
            o["delivery_type"],
            Decimal(o["price"]["total"]),
            tuple((line["label"], Decimal(line["amount"])) for line in o["price"]["breakdown"]),
            o["eta"]["ship_date"],
            o["eta"]["min_date"],
            o["eta"]["max_date"],
            o.get("stale", False),
            o["learned"],
        )
        for o in quote["offers"]
    )


def chosen_of(quote: dict[str, Any]) -> tuple[object, ...]:
    """The recommended, cheapest and fastest offers, as (carrier, service)."""
    by_id = {o["id"]: (o["carrier"], o["service"]) for o in quote["offers"]}
    recommended = quote["recommended"]["offer_id"] if quote["recommended"] else None
    return tuple(by_id.get(offer_id) for offer_id in (recommended, quote["cheapest"], quote["fastest"]))


@pytest.mark.parametrize(
    ("origin", "destination", "weight_g", "size", "declared_value", "policy"),
    [
        ("Москва", "Новосибирск", 1200, (30, 20, 10), "3000", "balanced"),
        ("Санкт-Петербург", "Казань", 8000, (60, 40, 30), "0", "cheapest"),
        ("630000", "Екатеринбург", 500, (20, 15, 5), "12000", "fastest"),
    ],
)
async def test_quote_at_the_terminal_and_post_v1_quotes_give_the_same_offers(
    make_api: Any,
    monkeypatch: pytest.MonkeyPatch,
    origin: str,
    destination: str,
    weight_g: int,
    size: tuple[int, int, int],
    declared_value: str,
    policy: str,
) -> None:
    monkeypatch.setenv("REDIS_URL", "")  # both in memory: neither sees a history the other does not
    length, width, height = size
    # In a thread of its own: the command runs its own event loop, as at the terminal.
    printed = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["quote", "--from", origin, "--to", destination, "--weight-g", str(weight_g)]
        + ["--size", f"{length}x{width}x{height}", "--declared-value", declared_value, "--policy", policy, "--json"],
    )
    assert printed.exit_code == 0, printed.output
    at_terminal = orjson.loads(printed.stdout)

    api = await make_api(Settings.from_env())
    where = {"postal_code": origin} if origin.isdigit() else {"city": origin}
    body = {
        "origin": where,
        "destination": {"city": destination},
        "parcels": [{"weight_g": weight_g, "length_cm": length, "width_cm": width, "height_cm": height}],
        "declared_value": declared_value,
        "policy": policy,
    }
    resp = await api.post("/v1/quotes", json=body)
    assert resp.status == 201, await resp.text()
    over_http = await resp.json()

    assert len(at_terminal["offers"]) >= 3  # the demo network answers, not an empty quote twice
    assert offers_of(at_terminal) == offers_of(over_http)
    assert chosen_of(at_terminal) == chosen_of(over_http)
    assert at_terminal["rejections"] == over_http["rejections"]
    assert at_terminal["errors"] == over_http["errors"] == []


async def test_open_engine_puts_every_remote_carrier_behind_a_breaker_and_closes_what_it_opened() -> None:
    async with open_engine(Settings()) as opened:
        assert opened.engine.carriers  # the demo network's rate cards
        assert not any(isinstance(c, GuardedCarrier) for c in opened.engine.carriers)  # none remote
        assert opened.book is not None and opened.record is not None
        http = opened.http
        assert not http.closed
    assert http.closed


async def test_open_engine_guards_a_configured_api_carrier(monkeypatch: pytest.MonkeyPatch) -> None:
    remote, card = FakeCarrier("api", remote=True), FakeCarrier("card")
    monkeypatch.setattr("router.quoting.wiring.load_carriers", lambda settings, http: [remote, card])
    async with open_engine(Settings()) as opened:
        guarded, plain = opened.engine.carriers
        assert isinstance(guarded, GuardedCarrier) and guarded.inner is remote
        assert plain is card
        health = {info.code: h for info, h in await opened.engine.carrier_health()}
        assert health["api"].breaker == "closed" and health["card"].breaker is None


class ClosedStore(MemoryStore):
    """The memory store, remembering that it was closed."""

    closed = False

    async def close(self) -> None:
        self.closed = True
        await super().close()


async def test_open_engine_closes_a_store_it_was_handed_when_its_block_ends() -> None:
    store = ClosedStore()
    async with open_engine(Settings(), store=store) as opened:
        assert opened.store is store
        assert not store.closed
    assert store.closed


async def test_a_broken_carriers_file_fails_open_engine_and_closes_what_was_already_open(tmp_path: Path) -> None:
    config = tmp_path / "carriers.toml"
    config.write_text('[[carriers]]\nkind = "nonsense"\n')
    store = ClosedStore()
    with pytest.raises(ConfigError) as caught:
        async with open_engine(Settings(config_path=config), store=store):
            pytest.fail("the engine opened on a broken carriers file")
    assert str(config) in str(caught.value)
    assert store.closed
