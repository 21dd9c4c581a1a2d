"""The lean CDEK-format emulator answers exactly as the aiohttp one does, faults included."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from carriers.api import CarrierApiError, CarrierAuthError, CarrierRateLimited, CarrierUnavailable, Secret
from carriers.cdek.carrier import CdekCarrier, CdekClient
from carriers.sandbox import SandboxServers
from carriers.sandbox.faults import SandboxState
from carriers.sandbox.lean import LeanCdek, start_lean_cdek
from tests.carriers.sandbox_fixtures import http, rate_request, sandbox  # noqa: F401  (fixtures)

CLIENT_ID, CLIENT_SECRET = "lean-id", "lean-secret"


@pytest.fixture
async def lean() -> AsyncIterator[LeanCdek]:
    server = await start_lean_cdek(CLIENT_ID, CLIENT_SECRET, state=SandboxState(seed=7))
    try:
        yield server
    finally:
        await server.close()


def url(server: LeanCdek) -> str:
    return f"http://127.0.0.1:{server.port}"


def carrier(
    http: aiohttp.ClientSession, base_url: str, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET
) -> CdekCarrier:
    client = CdekClient(http, client_id=Secret(client_id), client_secret=Secret(secret), base_url=base_url)
    return CdekCarrier(client, timeout_s=0.5)


async def fault(http: aiohttp.ClientSession, base_url: str, **body: Any) -> None:
    async with http.post(base_url + "/_sandbox/faults", json=body) as resp:
        assert resp.status == 200, await resp.text()


async def test_it_quotes_the_same_offers_as_the_aiohttp_emulator(
    lean: LeanCdek, sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    ours = await carrier(http, url(lean)).quote(rate_request())
    theirs = await carrier(http, sandbox.cdek_url, sandbox.cdek_client_id, sandbox.cdek_client_secret).quote(
        rate_request()
    )
    assert ours.offers and ours == theirs


async def test_one_token_serves_many_quotes_over_kept_alive_connections(
    lean: LeanCdek, http: aiohttp.ClientSession
) -> None:
    cdek = carrier(http, url(lean))
    answers = await asyncio.gather(*(cdek.quote(rate_request()) for _ in range(20)))
    assert all(a.offers for a in answers)
    assert lean.state.token_requests == 1
    assert lean.state.requests["/v2/calculator/tarifflist"] == 20


async def test_wrong_credentials_are_refused(lean: LeanCdek, http: aiohttp.ClientSession) -> None:
    with pytest.raises(CarrierAuthError):
        await carrier(http, url(lean), secret="wrong").quote(rate_request())


async def test_faults_reach_the_adapter_as_they_do_from_the_aiohttp_emulator(
    lean: LeanCdek, http: aiohttp.ClientSession
) -> None:
    cdek = carrier(http, url(lean))
    await cdek.quote(rate_request())  # the token first: the faults are on the calculator
    await fault(http, url(lean), status=500, count=1, path="/v2/calculator")
    with pytest.raises(CarrierUnavailable) as caught:
        await cdek.quote(rate_request())
    assert caught.value.status == 500 and caught.value.errors[0].code == "v2_internal_error"
    await fault(http, url(lean), rate_limit_retry_after=3, count=1)
    with pytest.raises(CarrierRateLimited) as limited:
        await cdek.quote(rate_request())
    assert limited.value.retry_after_s == 3
    await fault(http, url(lean), malformed=True, count=1)
    with pytest.raises(CarrierApiError, match="not JSON"):
        await cdek.quote(rate_request())
    await fault(http, url(lean), empty=True, count=1)
    assert (await cdek.quote(rate_request())).offers == ()
    await fault(http, url(lean), expire_tokens=True)
    assert (await cdek.quote(rate_request())).offers  # a 401, a new token, the same call again
    assert lean.state.token_requests == 2


async def test_a_hang_times_out_and_latency_delays_the_answer(lean: LeanCdek, http: aiohttp.ClientSession) -> None:
    cdek = carrier(http, url(lean))
    await cdek.quote(rate_request())
    await fault(http, url(lean), hang=True)
    with pytest.raises(TimeoutError):
        await cdek.quote(rate_request())
    await fault(http, url(lean), latency_ms=150)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await cdek.quote(rate_request())).offers
    assert loop.time() - started >= 0.15
    async with http.delete(url(lean) + "/_sandbox/faults") as resp:
        assert (await resp.json())["faults"]["latency_ms"] == 0


async def test_delivery_points_are_paged_with_the_total(lean: LeanCdek, http: aiohttp.ClientSession) -> None:
    cdek = carrier(http, url(lean))
    points = [p async for p in cdek.delivery_points({"city_code": 270}, page_size=50)]
    assert points and {p["location"]["city"] for p in points} == {"Новосибирск"}
    assert lean.state.requests["/v2/deliverypoints"] == -(-len(points) // 50)


async def test_an_unreadable_request_is_a_400_and_the_connection_closes(lean: LeanCdek) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", lean.port)
    writer.write(b"POST /v2/calculator/tarifflist HTTP/1.1\r\nContent-Length: many\r\n\r\n")
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400 ")


async def test_the_calculator_reuses_the_sessions_connections_and_they_close_with_the_session(
    lean: LeanCdek,
) -> None:
    from carriers.registry import close_carriers

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, limit_per_host=20)) as own:
        cdek = carrier(own, url(lean))
        await asyncio.gather(*(cdek.quote(rate_request()) for _ in range(5)))
        for _ in range(5):
            await cdek.quote(rate_request())
        # Ten calls and a token: at most one connection per call in flight at once, then reused.
        assert 1 <= len(lean._open) <= 6
        assert lean.state.requests["/v2/calculator/tarifflist"] == 10
        close_carriers([cdek])  # the connections are the session's, not the carrier's
        await asyncio.sleep(0.02)
        assert 1 <= len(lean._open)
        assert (await cdek.quote(rate_request())).offers
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert len(lean._open) == 0


async def test_emulators_in_one_process_each_answer_and_count_the_same_question(http: aiohttp.ClientSession) -> None:
    # The calculator's answer to a body is priced once per process; every emulator still takes
    # its own call, with its own faults.
    first = await start_lean_cdek(CLIENT_ID, CLIENT_SECRET, state=SandboxState(seed=1))
    second = await start_lean_cdek(CLIENT_ID, CLIENT_SECRET, state=SandboxState(seed=2))
    try:
        ours, theirs = carrier(http, url(first)), carrier(http, url(second))
        assert (await ours.quote(rate_request())) == (await theirs.quote(rate_request()))
        await fault(http, url(second), status=500, count=1, path="/v2/calculator")
        assert (await ours.quote(rate_request())).offers
        with pytest.raises(CarrierUnavailable):
            await theirs.quote(rate_request())
        assert first.state.requests["/v2/calculator/tarifflist"] == 2
        assert second.state.requests["/v2/calculator/tarifflist"] == 2
    finally:
        await first.close()
        await second.close()
