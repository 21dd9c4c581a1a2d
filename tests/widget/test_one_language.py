"""Everything the widget writes is in the shop page's language, in a real browser: the offers, the
open price breakdown, and the list of carriers that offer nothing here with why: rate cards
refusing by their zones, CDEK answering no tariff at all, the courier API failing.

The service runs with the sandbox carriers (`serve --sandbox`); the test sets their faults through
the emulators' own control endpoints, as an operator would.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.widget.conftest import Page, start_services

LATIN = re.compile(r"[A-Za-z]+")
CYRILLIC = re.compile(r"[А-Яа-яЁё]+")
WIDGET_TEXT = "document.querySelector('#delivery').shadowRoot.querySelector('.cr').innerText"


def emulators(state: Path) -> tuple[str, str]:
    """The sandbox CDEK's and courier's addresses, as the service logged them on start."""
    deadline = time.monotonic() + 30
    while True:
        for line in (state / "serve.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if "sandbox emulators listening" in line:
                cdek = re.search(r"cdek_url\W+(http://[\d.:]+)", line)
                courier = re.search(r"courier_url\W+(http://[\d.:]+)", line)
                if cdek and courier:
                    return cdek.group(1), courier.group(1)
        assert time.monotonic() < deadline, "the service never said where its emulators listen"
        time.sleep(0.2)


def set_faults(emulator: str, faults: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{emulator}/_sandbox/faults",
        data=json.dumps(faults).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200


@pytest.fixture(scope="module")
def faulty_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    state = tmp_path_factory.mktemp("faulty-state")
    with start_services(state, flags=("--sandbox",), log=True) as (url,):
        cdek, courier = emulators(state)
        set_faults(cdek, {"empty": True, "path": "/v2/calculator"})  # an answer with no tariff in it
        set_faults(courier, {"status": 500})
        yield url


@pytest.fixture
def faulty_page(browser: Any, faulty_service: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="ru-RU")
    page = Page(context.new_page(), faulty_service)
    page.page.set_default_timeout(15_000)
    yield page
    context.close()
    assert page.errors == [], page.errors


def quote_with_breakdown_open(page: Page, lang: str, typed: str, city: str, label: str) -> tuple[str, list[str]]:
    """The widget's text with the first offer's breakdown open, and the why-not list's lines."""
    page.open_demo(lang)
    page.choose_city(typed, city, label=label)
    page.page.locator(".cr-absent summary").click()  # "why not other carriers", opened
    expect(page.page.locator(".cr-absent li").first).to_be_visible()
    why = page.page.locator(".cr-why").first
    why.click()
    expect(why).to_have_attribute("aria-expanded", "true")
    text = str(page.page.evaluate(WIDGET_TEXT))
    lines = [
        str(li)
        for li in page.page.evaluate(
            "[...document.querySelector('#delivery').shadowRoot.querySelectorAll('li[data-carrier]')]"
            ".map(li => li.dataset.carrier + '|' + li.textContent)"
        )
    ]
    return text, lines


def test_the_russian_widget_writes_no_latin_word_with_rejections_errors_and_a_breakdown(faulty_page: Page) -> None:
    text, lines = quote_with_breakdown_open(faulty_page, "ru", "Новосиб", "Новосибирск", "Город доставки")

    why = dict(line.split("|", 1) for line in lines)
    # A carrier that answered with nothing, rate cards refusing by their zones, a carrier that failed.
    assert why["cdek"].startswith("СДЭК") and "не предложила ни одного тарифа" in why["cdek"], why
    assert "вне зоны обслуживания" in why["kpoyas"] and "вне зоны обслуживания" in why["shustry"], why
    assert why["bystro"].endswith("не ответила"), why
    assert "Тариф" in text and "Итого" in text  # the breakdown is open
    assert LATIN.findall(text) == [], text


def test_the_english_widget_writes_no_cyrillic_word(faulty_page: Page) -> None:
    text, lines = quote_with_breakdown_open(faulty_page, "en", "Novosib", "Novosibirsk", "Delivery city")

    why = dict(line.split("|", 1) for line in lines)
    assert "answered with no offers" in why["cdek"] and "outside service area" in why["kpoyas"], why
    assert "Base rate" in text and "Total" in text
    assert CYRILLIC.findall(text) == [], text
