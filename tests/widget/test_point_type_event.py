"""The widget's selection event names the tariff for the chosen point's type: CDEK's office tariff
for an office, its locker tariff for a locker.

The service runs with the sandbox CDEK carrier (`serve --sandbox`) and the sandbox's Novosibirsk
points imported as the `cdek` network (`points import`), offices and lockers in one city.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from carriers.sandbox.points import delivery_points
from tests.widget.conftest import ROOT, Page, start_services

NOVOSIBIRSK_CITY_CODE = 270
OFFICE, LOCKER = "cdek:136", "cdek:368"
SHADOW = "document.querySelector('#delivery').shadowRoot"


@pytest.fixture(scope="module")
def cdek_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("cdek-state")
    feed = state / "novosibirsk.json"
    feed.write_text(
        json.dumps([p for p in delivery_points() if p["location"]["city_code"] == NOVOSIBIRSK_CITY_CODE]),
        encoding="utf-8",
    )
    env = {**os.environ, "CARRIER_ROUTER_STATE": str(state)}
    env.pop("REDIS_URL", None)
    cli = [sys.executable, "-m", "router.cli"]
    subprocess.run([*cli, "points", "import", str(feed), "--network", "cdek"], cwd=ROOT, env=env, check=True)
    with start_services(state, flags=("--sandbox",)) as (url,):
        yield url


@pytest.fixture
def cdek_page(browser: Any, cdek_service: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="ru-RU")
    page = Page(context.new_page(), cdek_service)
    page.page.set_default_timeout(15_000)
    yield page
    context.close()
    assert page.errors == [], page.errors


def listed(page: Page) -> list[str]:
    return list(
        page.page.evaluate(f"[...{SHADOW}.querySelectorAll('#cr-points li[data-id]')].map(li => li.dataset.id)")
    )


def choose(page: Page, point_id: str) -> dict[str, Any]:
    before = len(page.events())
    page.page.locator(f'#cr-points li[data-id="{point_id}"]').dblclick()
    expect(page.page.get_by_role("listbox", name="Пункты выдачи")).to_be_hidden()
    events = page.events()
    assert len(events) == before + 1
    return dict(events[-1]["detail"])


def test_the_event_for_an_office_and_for_a_locker_carries_each_ones_tariff(cdek_page: Page) -> None:
    page = cdek_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    pickup = page.page.get_by_role("button", name="В пункт выдачи")
    expect(pickup).to_be_enabled()
    if pickup.get_attribute("aria-pressed") != "true":
        pickup.click()
    page.page.get_by_role("button", name="Выбрать пункт выдачи").click()
    points = page.page.get_by_role("listbox", name="Пункты выдачи")
    expect(points.get_by_role("option").first).to_be_visible()
    page.page.get_by_role("checkbox", name="СДЭК (песочница)").check()
    expect(points).not_to_have_attribute("aria-busy", "true")
    expect(points.get_by_role("option").first).to_be_visible()

    ids = listed(page)
    assert ids and all(i.startswith("cdek:") for i in ids)
    types = {i: page.api(f"/v1/pickup-points/{i}")["type"] for i in ids}
    office = next(i for i, kind in types.items() if kind == "pvz")
    locker = next(i for i, kind in types.items() if kind == "locker")

    chosen = choose(page, office)
    assert (chosen["pickup_point"]["id"], chosen["offer_id"]) == (office, OFFICE)

    page.page.get_by_role("button", name="Выбрать другой пункт").click()
    expect(points.get_by_role("option").first).to_be_visible()
    chosen_locker = choose(page, locker)
    assert (chosen_locker["pickup_point"]["id"], chosen_locker["offer_id"]) == (locker, LOCKER)

    # The prices are the quote's own for each tariff, and they differ as the tariffs do.
    quote = page.api(f"/v1/quotes/{chosen_locker['quote_id']}?lang=ru")  # the widget's language
    held = {o["id"]: o for o in quote["offers"]}
    assert chosen_locker["offer"] == held[LOCKER]
    assert held[OFFICE]["price"]["total"] != held[LOCKER]["price"]["total"]
