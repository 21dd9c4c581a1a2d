"""A quote is read back only by whoever it belongs to; to anyone else it is an id never made."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from router.core.settings import Settings
from router.http import appkeys as keys
from router.records.keys import KeyKind
from router.store.packing import pack_quote
from tests.keys import create_key
from tests.router.http.test_api_access import SHOP, bearer
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK


async def unknown(api: Any, quote_id: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """A 404 as the caller sees it, with the id taken out: an unknown id's must read the same."""
    resp = await api.get(f"/v1/quotes/{quote_id}", headers=headers)
    return resp.status, resp.content_type, (await resp.read()).replace(quote_id.encode(), b"ID")


async def test_a_quote_is_read_only_by_the_key_that_made_it_and_is_to_others_as_an_unknown_id(
    make_api, tmp_path: Path
) -> None:
    _, first = await create_key(tmp_path, KeyKind.SECRET, "checkout")
    _, second = await create_key(tmp_path, KeyKind.SECRET, "warehouse")
    _, widget = await create_key(tmp_path, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=tmp_path))
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(first))
    quote_id = (await made.json())["quote_id"]

    own = await api.get(f"/v1/quotes/{quote_id}", headers=bearer(first))
    assert own.status == 200 and await own.read() == await made.read()
    never_made = await unknown(api, "q_never_made", bearer(second))
    assert never_made[:2] == (404, "application/problem+json")
    assert await unknown(api, quote_id, bearer(second)) == never_made
    from_widget = bearer(widget, SHOP)
    assert await unknown(api, quote_id, from_widget) == await unknown(api, "q_never_made", from_widget)


async def test_the_shops_secret_key_reads_the_price_its_widget_quoted_and_no_other_widget_does(
    make_api, tmp_path: Path
) -> None:
    _, server = await create_key(tmp_path, KeyKind.SECRET, "shop backend")
    _, widget = await create_key(tmp_path, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    _, other_widget = await create_key(tmp_path, KeyKind.PUBLISHABLE, "another widget", (SHOP,))
    api = await make_api(Settings(state_dir=tmp_path))
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(widget, SHOP))
    quote_id = (await made.json())["quote_id"]

    assert (await api.get(f"/v1/quotes/{quote_id}", headers=bearer(widget, SHOP))).status == 200
    checked = await api.get(f"/v1/quotes/{quote_id}", headers=bearer(server))
    assert checked.status == 200 and await checked.read() == await made.read()
    assert (await api.get(f"/v1/quotes/{quote_id}", headers=bearer(other_widget, SHOP))).status == 404


async def test_while_redis_is_away_another_keys_quote_is_the_same_503_as_an_unknown_id(
    make_api, switch, redis_url, tmp_path: Path
) -> None:
    _, first = await create_key(tmp_path, KeyKind.SECRET, "checkout")
    _, second = await create_key(tmp_path, KeyKind.SECRET, "warehouse")
    api = await make_api(Settings(state_dir=tmp_path, redis_url=redis_url))
    switch.up = False
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(first))
    quote_id = (await made.json())["quote_id"]
    assert (await api.get(f"/v1/quotes/{quote_id}", headers=bearer(first))).status == 200  # held by this worker
    theirs = await unknown(api, quote_id, bearer(second))
    assert theirs[0] == 503 and theirs == await unknown(api, "q_never_made", bearer(second))


async def test_another_keys_expired_quote_is_404_not_410(make_api, tmp_path: Path) -> None:
    _, first = await create_key(tmp_path, KeyKind.SECRET, "checkout")
    _, second = await create_key(tmp_path, KeyKind.SECRET, "warehouse")
    api = await make_api(Settings(state_dir=tmp_path))
    quote_id = (await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(first))).json())["quote_id"]
    api.server.app[keys.QUOTES]._clock = lambda: datetime.now(UTC) + timedelta(hours=1)
    assert (await api.get(f"/v1/quotes/{quote_id}", headers=bearer(first))).status == 410
    assert (await api.get(f"/v1/quotes/{quote_id}", headers=bearer(second))).status == 404


async def kept_before_owners(api: Any, headers: dict[str, str] | None = None) -> str:
    """A quote written as the release before owners kept quotes: packed, with no owner."""
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=headers)
    body = await made.read()
    quote_id = orjson.loads(body)["quote_id"]
    await api.server.app[keys.STORE].set("quote:" + quote_id, pack_quote(body), 3600)
    return quote_id


async def test_a_quote_kept_before_quotes_had_owners_is_read_on_an_open_service(make_api, tmp_path: Path) -> None:
    api = await make_api(Settings(state_dir=tmp_path))
    quote_id = await kept_before_owners(api)
    assert (await api.get(f"/v1/quotes/{quote_id}")).status == 200


async def test_a_quote_kept_before_quotes_had_owners_is_nobodys_once_the_service_has_keys(
    make_api, tmp_path: Path
) -> None:
    _, token = await create_key(tmp_path, KeyKind.SECRET, "shop")
    api = await make_api(Settings(state_dir=tmp_path))
    quote_id = await kept_before_owners(api, bearer(token))
    assert (await api.get(f"/v1/quotes/{quote_id}", headers=bearer(token))).status == 404
