"""Callbacks while Redis does not answer: saved deliveries are records and still answer; what
needs the store is "unavailable, retry", never "not found" or "expired"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.app import create_app
from tests.conftest import _postgres_admin
from tests.integrations import published
from tests.integrations.crm_client import CrmClient
from tests.integrations.test_retailcrm_callbacks import MOSCOW_KAZAN_TWO_PACKAGES, pick, save_payload


async def crm_on_redis(make_api: Any, redis_url: str, tmp_path: Path) -> CrmClient:
    settings = Settings(redis_url=redis_url, state_dir=tmp_path)
    api = await make_api(settings)
    _, client_id = await api.server.app[keys.RETAILCRM_ACCOUNTS].create("https://shop.retailcrm.ru", "carrier-router")
    return CrmClient(api, client_id)


def unavailable(answer: Any) -> None:
    assert answer.status == 503, answer
    published.check(answer.body, published.ERROR_RESPONSE)
    assert "not answering" in answer.error and "retry" in answer.error


async def test_a_saved_delivery_is_read_and_cancelled_while_redis_is_away(
    make_api, switch, redis_url, tmp_path
) -> None:
    crm = await crm_on_redis(make_api, redis_url, tmp_path)
    offer = pick((await crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result, "courier")
    saved = (await crm.save(save_payload(offer))).result

    switch.up = False
    meanwhile = (await crm.load(saved["deliveryId"])).result
    assert (meanwhile["tariff"], meanwhile["cost"]) == (offer["code"], offer["cost"])
    assert (await crm.delete(saved["deliveryId"])).status == 200
    switch.up = True
    assert (await crm.load(saved["deliveryId"])).status == 404


async def test_a_delivery_not_in_the_records_is_unavailable_while_redis_is_away_not_unknown(
    make_api, switch, redis_url, tmp_path
) -> None:
    # The previous release kept deliveries in Redis: while it is away, a miss proves nothing.
    crm = await crm_on_redis(make_api, redis_url, tmp_path)
    switch.up = False
    unavailable(await crm.load("d_kept_by_the_previous_release"))
    resp = await crm.api.get(
        "/integrations/retailcrm/get",
        params={"clientId": crm.client_id, "deliveryId": "d_kept_by_the_previous_release"},
    )
    retry_after = int(resp.headers["Retry-After"])
    assert retry_after > 0
    # The manager reads the text, the CRM the header: both must name the same wait.
    assert f"retry in {retry_after} seconds" in (await resp.json())["errorMsg"]
    switch.up = True
    assert (await crm.load("d_kept_by_the_previous_release")).status == 404


async def test_save_while_redis_is_away_is_unavailable_and_keeps_nothing(make_api, switch, redis_url, tmp_path) -> None:
    crm = await crm_on_redis(make_api, redis_url, tmp_path)
    offer = pick((await crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result, "courier")

    switch.up = False
    unavailable(await crm.save(save_payload(offer)))

    switch.up = True
    saved = (await crm.save(save_payload(offer))).result  # the quote is still good once Redis is back
    assert saved["cost"] == offer["cost"]


async def test_a_delivery_calculated_on_one_worker_while_redis_is_away_saves_on_another_once_it_returns(
    make_api, switch, redis_url, tmp_path
) -> None:
    first = await crm_on_redis(make_api, redis_url, tmp_path)
    second = CrmClient(await make_api(Settings(redis_url=redis_url, state_dir=tmp_path)), first.client_id)
    switch.up = False
    offer = pick((await first.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result, "courier")
    unavailable(await second.save(save_payload(offer)))

    switch.up = True
    assert (await first.api.get("/healthz")).status == 200  # the worker sees Redis back and writes back
    await first.api.server.app[keys.STORE].write_back()  # type: ignore[attr-defined]
    saved = (await second.save(save_payload(offer))).result  # the quote and what it was priced for
    assert (saved["cost"], saved["extraData"]["quoteId"]) == (offer["cost"], offer["extraData"]["quoteId"])


async def test_callbacks_while_the_records_database_is_down_are_unavailable_in_the_crms_shape(
    aiohttp_client, postgres_url: str, tmp_path: Path
) -> None:
    api = await aiohttp_client(create_app(Settings(state_dir=tmp_path, database_url=postgres_url)))
    _, client_id = await api.server.app[keys.RETAILCRM_ACCOUNTS].create("https://shop.retailcrm.ru", "carrier-router")
    crm = CrmClient(api, client_id)
    assert (await crm.tariffs()).status == 200
    name = postgres_url.rsplit("/", 1)[1]
    await asyncio.to_thread(_postgres_admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await asyncio.to_thread(
        _postgres_admin, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    for answer in (await crm.tariffs(), await crm.load("d_1")):
        assert answer.status == 503, answer
        published.check(answer.body, published.ERROR_RESPONSE)
        assert "not answering" in answer.error and "retry" in answer.error
    await asyncio.to_thread(_postgres_admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert (await crm.tariffs()).status == 200
