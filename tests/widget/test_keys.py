"""The widget on a shop's own origin, against a service that has keys: the publishable key goes
with every request, CORS lets the shop's page read the answers and load the map chunk."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.widget.conftest import SHOP_PAGES, Page, Services

SHOP_PAGE = """<!doctype html><html lang="ru"><body>
<form id="checkout"><div id="delivery"></div>
<script src="{service}/widget.js" data-key="{key}" data-origin-city="Москва" data-weight-g="1200"
  data-length-cm="30" data-width-cm="20" data-height-cm="10" data-target="#delivery" data-input="delivery"
  {extra}></script></form></body></html>"""


def shop_page(browser: Any, shop: str, service: str, key: str, extra: str = "") -> tuple[Page, Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = Page(context.new_page(), service)
    path = f"/checkout-{len(SHOP_PAGES)}"
    SHOP_PAGES[path] = SHOP_PAGE.format(service=service, key=key, extra=extra)
    page.page.goto(f"{shop}{path}")
    return page, context


def test_a_shop_on_its_own_origin_quotes_maps_and_chooses_with_its_publishable_key(
    browser: Any, services: Services
) -> None:
    token = services.token
    page, context = shop_page(browser, services.shop, services.keyed, token)
    try:
        sent: list[tuple[str, str | None]] = []
        page.page.on(
            "request", lambda r: sent.append((r.url, r.headers.get("authorization"))) if "/v1/" in r.url else None
        )
        page.choose_city("Новосиб", "Новосибирск")
        expect(page.page.get_by_role("radiogroup", name="Варианты доставки").get_by_role("radio").first).to_be_visible()
        page.page.get_by_role("button", name="В пункт выдачи").click()
        page.page.get_by_role("button", name="Выбрать пункт выдачи").click()
        expect(page.page.locator(".cr-m").first).to_be_visible()
        page.page.get_by_role("listbox", name="Пункты выдачи").focus()
        page.page.keyboard.press("ArrowDown")
        page.page.keyboard.press("Enter")
        selection = page.page.evaluate("JSON.parse(document.querySelector('input[name=delivery]').value)")
        assert selection["pickup_point"] and selection["quote_id"].startswith("q_")
        assert {
            path for path in ("/v1/places", "/v1/quotes", "/v1/pickup-points") if any(path in url for url, _ in sent)
        } == {
            "/v1/places",
            "/v1/quotes",
            "/v1/pickup-points",
        }
        assert {auth for _, auth in sent} == {f"Bearer {token}"}
        assert page.errors == []
    finally:
        context.close()


def test_a_refused_key_is_said_in_the_widget_not_thrown_on_the_page(browser: Any, services: Services) -> None:
    page, context = shop_page(browser, services.shop, services.keyed, "pk_revoked", extra='data-city="Новосибирск"')
    try:
        alert = page.page.get_by_role("alert")
        expect(alert).to_contain_text("Не удалось посчитать доставку")
        expect(alert.get_by_role("button", name="Повторить")).to_be_visible()
        assert page.errors == []
    finally:
        context.close()
