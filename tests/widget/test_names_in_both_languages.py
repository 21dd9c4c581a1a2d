"""The widget names carriers and services in the shop page's language, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.widget.conftest import Page

LATIN = re.compile(r"[A-Za-z]")
TITLES = "[...document.querySelector('#delivery').shadowRoot.querySelectorAll('.cr-offer-title')].map(e => e.textContent)"


def offer_titles(page: Page, group: str) -> list[str]:
    """Every offer's carrier and service as shown, under each delivery mode in turn."""
    offers = page.page.get_by_role("radiogroup", name=group)
    titles: list[str] = []
    for mode in ("courier", "pickup"):
        toggle = page.page.locator(f".cr-mode[data-mode={mode}]")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        expect(offers.get_by_role("radio").first).to_be_visible()
        titles += page.page.evaluate(TITLES)
    return titles


def test_the_russian_widget_names_every_carrier_and_service_in_russian(widget_page: Page) -> None:
    page = widget_page
    page.open_demo("ru")
    page.choose_city("Новосиб", "Новосибирск")
    titles = offer_titles(page, "Варианты доставки")
    assert len(titles) >= 3
    assert [t for t in titles if LATIN.search(t)] == [], titles
    assert any("Самовывоз из магазина" in t for t in titles) or any("Курьер до двери" in t for t in titles)


def test_the_english_widget_names_them_in_english(widget_page: Page) -> None:
    page = widget_page
    page.open_demo("en")
    page.choose_city("Novosib", "Novosibirsk", label="Delivery city")
    titles = offer_titles(page, "Delivery options")
    assert titles and all(LATIN.search(t) and not re.search("[А-Яа-яЁё]", t) for t in titles), titles
