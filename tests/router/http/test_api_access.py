from __future__ import annotations

import logging
from pathlib import Path

import pytest

from router.core.settings import Settings
from router.records.keys import KeyKind
from tests.keys import create_key, revoke_key
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK

SHOP = "https://shop.example"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path


def bearer(token: str, origin: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if origin:
        headers["Origin"] = origin
    return headers


async def test_without_keys_the_service_runs_open(make_api, state: Path) -> None:
    api = await make_api(Settings(state_dir=state))
    assert (await api.get("/v1/carriers")).status == 200


async def test_once_a_key_exists_a_request_without_one_is_refused(make_api, state: Path) -> None:
    await create_key(state, KeyKind.SECRET, "shop")
    api = await make_api(Settings(state_dir=state))
    resp = await api.get("/v1/carriers")
    assert resp.status == 401 and resp.content_type == "application/problem+json"
    assert (await api.get("/v1/carriers", headers=bearer("sk_guessed"))).status == 401


async def test_a_secret_key_may_call_everything(make_api, state: Path) -> None:
    _, token = await create_key(state, KeyKind.SECRET, "shop")
    api = await make_api(Settings(state_dir=state))
    assert (await api.get("/v1/carriers", headers=bearer(token))).status == 200
    assert (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(token))).status == 201
    x_api_key = await api.get("/v1/carriers", headers={"X-Api-Key": token})
    assert x_api_key.status == 200


async def test_a_publishable_key_is_refused_on_a_secret_only_endpoint(make_api, state: Path) -> None:
    _, token = await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    resp = await api.get("/v1/carriers", headers=bearer(token, SHOP))
    assert resp.status == 403
    assert "publishable" in (await resp.json())["detail"]


async def test_a_publishable_key_quotes_from_its_origin_with_cors_headers(make_api, state: Path) -> None:
    _, token = await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    resp = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(token, SHOP))
    assert resp.status == 201
    assert resp.headers["Access-Control-Allow-Origin"] == SHOP


async def test_a_publishable_key_is_refused_from_a_foreign_origin(make_api, state: Path) -> None:
    _, token = await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    foreign = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(token, "https://evil.example"))
    assert foreign.status == 403
    assert "Access-Control-Allow-Origin" not in foreign.headers
    no_origin = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(token))
    assert no_origin.status == 403


async def test_a_preflight_is_answered_only_for_allowed_origins(make_api, state: Path) -> None:
    await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = await api.options("/v1/quotes", headers={**ask, "Origin": SHOP})
    assert ok.status == 204 and ok.headers["Access-Control-Allow-Origin"] == SHOP
    assert (await api.options("/v1/quotes", headers={**ask, "Origin": "https://evil.example"})).status == 403
    carriers = await api.options("/v1/carriers", headers={"Access-Control-Request-Method": "GET", "Origin": SHOP})
    assert carriers.status == 403


async def test_a_revoked_key_is_refused_at_once(make_api, state: Path) -> None:
    key, token = await create_key(state, KeyKind.SECRET, "shop")
    api = await make_api(Settings(state_dir=state))
    assert (await api.get("/v1/carriers", headers=bearer(token))).status == 200
    await revoke_key(state, key.id)  # as `carrier-router keys revoke` would, from another process
    assert (await api.get("/v1/carriers", headers=bearer(token))).status == 401


async def test_keys_survive_a_restart(make_api, state: Path) -> None:
    _, token = await create_key(state, KeyKind.SECRET, "shop")
    first = await make_api(Settings(state_dir=state))
    assert (await first.get("/v1/carriers", headers=bearer(token))).status == 200
    await first.close()
    second = await make_api(Settings(state_dir=state))
    assert (await second.get("/v1/carriers", headers=bearer(token))).status == 200


async def test_the_records_hold_no_token(state: Path) -> None:
    _, token = await create_key(state, KeyKind.SECRET, "shop")
    assert token.encode() not in b"".join(p.read_bytes() for p in state.glob("records.sqlite3*"))


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_key_over_its_rate_gets_429_with_retry_after(make_api, state: Path, backend: str, request) -> None:
    _, token = await create_key(state, KeyKind.SECRET, "shop", rate_per_minute=3)
    redis_url = request.getfixturevalue("redis_url") if backend == "redis" else None
    prefix = request.getfixturevalue("redis_prefix") if redis_url else "cr:"
    api = await make_api(Settings(state_dir=state, redis_url=redis_url, redis_prefix=prefix))
    statuses = [(await api.get("/v1/carriers", headers=bearer(token))).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await api.get("/v1/carriers", headers=bearer(token))
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


async def test_every_answer_carries_a_request_id_and_metrics_count_it(make_api) -> None:
    api = await make_api()
    resp = await api.get("/v1/carriers", headers={"X-Request-Id": "order-42"})
    assert resp.headers["X-Request-Id"] == "order-42"
    generated = await api.get("/v1/quotes/q_none")
    assert len(generated.headers["X-Request-Id"]) == 32
    metrics = await (await api.get("/metrics")).text()
    assert 'carrier_router_requests_total{method="GET",route="/v1/carriers",status="200"} 1.0' in metrics
    assert 'route="/v1/quotes/{quote_id}",status="404"' in metrics


async def test_a_publishable_key_works_on_the_services_own_pages(make_api, state: Path) -> None:
    _, token = await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    own = {**bearer(token), "Sec-Fetch-Site": "same-origin"}
    assert (await api.get("/v1/quotes/q_none", headers=own)).status == 404  # past access: the quote is unknown
    cross = {**bearer(token), "Sec-Fetch-Site": "cross-site"}
    assert (await api.get("/v1/quotes/q_none", headers=cross)).status == 403


async def test_a_cached_quote_is_never_answered_to_another_key(make_api, state: Path) -> None:
    _, first = await create_key(state, KeyKind.SECRET, "shop")
    _, second = await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(first))
    again = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(first))
    other = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK, headers=bearer(second, SHOP))
    assert (made.status, again.headers["X-Cache"]) == (201, "hit")
    assert (other.status, other.headers["X-Cache"]) == (201, "miss")
    assert (await other.json())["quote_id"] != (await made.json())["quote_id"]


async def test_a_cached_quote_is_never_answered_for_another_address(make_api, state: Path) -> None:
    api = await make_api(Settings(state_dir=state))
    first = {**MOSCOW_NOVOSIBIRSK, "destination": {"city": "Новосибирск", "address": "Красный проспект, 1, кв. 7"}}
    second = {**MOSCOW_NOVOSIBIRSK, "destination": {"city": "Новосибирск", "address": "Ленина, 12, кв. 3"}}
    made = await api.post("/v1/quotes", json=first)
    other = await api.post("/v1/quotes", json=second)
    assert (made.status, other.status, other.headers["X-Cache"]) == (201, 201, "miss")
    assert (await other.json())["destination"]["address"] == "Ленина, 12, кв. 3"
    assert (await api.post("/v1/quotes", json=first)).headers["X-Cache"] == "hit"


async def test_metrics_need_a_secret_key_once_keys_exist(make_api, state: Path) -> None:
    _, secret = await create_key(state, KeyKind.SECRET, "prometheus")
    _, publishable = await create_key(state, KeyKind.PUBLISHABLE, "widget", (SHOP,))
    api = await make_api(Settings(state_dir=state))
    assert (await api.get("/metrics")).status == 401
    assert (await api.get("/metrics", headers=bearer(publishable, SHOP))).status == 403
    scraped = await api.get("/metrics", headers=bearer(secret))
    assert scraped.status == 200 and "carrier_router_requests_total" in await scraped.text()


async def test_a_key_with_a_stray_byte_that_reaches_the_app_is_refused_and_never_logged(
    make_api, state: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, secret = await create_key(state, KeyKind.SECRET, "shop")
    api = await make_api(Settings(state_dir=state))
    caplog.set_level(logging.DEBUG)
    # A byte past ASCII passes aiohttp's parser (control bytes do not: tests/router/http/test_server_edges.py).
    resp = await api.get("/v1/carriers", headers={"Authorization": f"Bearer {secret}\u00ff"})
    assert resp.status == 401
    assert secret not in caplog.text and secret not in await resp.text()
