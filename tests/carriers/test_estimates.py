"""With CDEK stopped, its last good answer is shown only for the same parcel, as an estimate that
is never held: the acceptance of "honest stale answers", against the CDEK emulator and the service.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from carriers.sandbox import SandboxServers
from router.core.settings import Settings
from router.http import appkeys as keys
from tests.carriers.sandbox_fixtures import http, sandbox  # noqa: F401  (fixtures)
from tests.carriers.test_resilience import conforms, fault, offers_of


def parcel(weight_g: int) -> dict[str, Any]:
    return {
        "origin": {"city": "Москва"},
        "destination": {"city": "Новосибирск"},
        "parcels": [{"weight_g": weight_g, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
        "declared_value": "3000",
    }


@pytest.fixture
async def service(sandbox: SandboxServers, aiohttp_client: Any) -> Any:
    from router.http.app import create_app

    return await aiohttp_client(create_app(sandbox.configure(Settings(deadline_s=1.0, carrier_timeout_s=0.8))))


async def quote(client: Any, body: dict[str, Any], policy: Any) -> dict[str, Any]:
    resp = await client.post("/v1/quotes", json={**body, "policy": policy})
    assert resp.status == 201, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


def a_minute_later(client: Any) -> None:
    client.server.app[keys.QUOTES]._clock = lambda: datetime.now(UTC) + timedelta(minutes=1)


async def test_with_cdek_stopped_its_last_answer_is_an_estimate_for_the_same_parcel_only_and_never_held(
    service: Any, sandbox: SandboxServers
) -> None:
    good = await quote(service, parcel(1001), "balanced")
    assert offers_of(good, "cdek") and not any("estimate" in o for o in good["offers"])
    await fault(service.session, sandbox.cdek_url, status=503, path="/v2/calculator")

    # Another weight: no CDEK offer at all, and its error does not speak of an estimate.
    heavier = await quote(service, parcel(1499), "cheapest")
    assert offers_of(heavier, "cdek") == []
    (error,) = [e for e in heavier["errors"] if e["carrier"] == "cdek"]
    assert "estimate" not in error["message"]

    # The same parcel: CDEK's offers as they were, each marked as an estimate.
    same = await quote(service, parcel(1001), "cheapest")
    estimates = offers_of(same, "cdek")
    assert {o["id"]: o["price"] for o in estimates} == {o["id"]: o["price"] for o in offers_of(good, "cdek")}
    assert all(o["estimate"] is True and o["stale"] is True and o["as_of"] for o in estimates)
    assert all("estimate" not in o for o in same["offers"] if o["carrier"] != "cdek")
    (error,) = [e for e in same["errors"] if e["carrier"] == "cdek"]
    assert "as an estimate" in error["message"]
    conforms(same, "Quote")

    only_cdek = await quote(service, parcel(1001), {"kind": "cheapest", "only": ["cdek"]})
    assert only_cdek["recommended"]["offer_id"] in {o["id"] for o in offers_of(only_cdek, "cdek")}
    assert all(o["estimate"] for o in only_cdek["offers"])

    a_minute_later(service)
    refused = await service.get(f"/v1/quotes/{only_cdek['quote_id']}")
    assert refused.status == 409 and refused.content_type == "application/problem+json"
    problem = await refused.json()
    assert problem["title"] == "Quote not held: its price is an estimate"
    assert only_cdek["quote_id"] in problem["detail"] and "fresh quote" in problem["detail"]
    # A quote that recommends a firm offer is still held; its estimates are marked in it.
    held = await service.get(f"/v1/quotes/{same['quote_id']}")
    assert held.status == 200 and await held.json() == same
