"""The widget in a real browser on the demo shop page: city, offers, map, filters, choosing, events."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.widget.conftest import Page

SHADOW = "document.querySelector('#delivery').shadowRoot"
MAP_CHUNK = "/widget/assets/map-"
PHONE = {"width": 360, "height": 780}


def shadow(page: Page, expression: str):  # type: ignore[no-untyped-def]
    return page.page.evaluate(f"(() => {{ const root = {SHADOW}; return {expression}; }})()")


def hidden_input(page: Page) -> str:
    return str(page.page.evaluate("document.querySelector('#checkout input[name=delivery]').value"))


def open_picker_by_keyboard(page: Page) -> None:
    page.tab_to(lambda f: f["tag"] == "BUTTON" and f["name"] == "Выбрать пункт выдачи")
    page.page.keyboard.press("Enter")
    expect(page.page.get_by_role("listbox", name="Пункты выдачи")).to_be_focused()


def test_a_buyer_gets_offers_for_novosibirsk_and_chooses_a_pickup_point_by_keyboard(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")

    offers = page.page.get_by_role("radiogroup", name="Варианты доставки")
    expect(offers.get_by_role("radio").first).to_be_visible()
    assert offers.get_by_text("Рекомендуем").count() == 1
    assert page.page.get_by_role("button", name="В пункт выдачи").get_attribute("aria-pressed") in ("true", "false")

    # "Why this price": the breakdown opens on demand and its total is the offer's price.
    why = offers.get_by_role("button", name="Почему такая цена").first
    expect(why).to_have_attribute("aria-expanded", "false")
    why.click()
    expect(why).to_have_attribute("aria-expanded", "true")
    total = shadow(page, "root.querySelector('.cr-breakdown:not([hidden]) tfoot td').textContent")
    assert total == shadow(page, "root.querySelector('.cr-offer .cr-price').textContent")

    pickup = page.page.get_by_role("button", name="В пункт выдачи")
    if pickup.get_attribute("aria-pressed") != "true":
        pickup.click()
    assert page.requested(MAP_CHUNK) == [], "the map chunk loads only when the map opens"
    page.page.get_by_role("combobox", name="Город доставки").focus()
    open_picker_by_keyboard(page)

    # Wide enough: the map opens beside the list, its chunk loaded now, markers drawn from the
    # server's clusters although every tile was refused.
    expect(page.page.locator(".cr-m").first).to_be_visible()
    assert len(page.requested(MAP_CHUNK)) == 1
    assert page.refused_tiles > 0
    assert shadow(page, "root.querySelectorAll('.cr-m[aria-label]').length") > 0

    # Filter by keyboard: the list reloads with fitting rooms only, the map with the same filter.
    fitting_room = page.page.get_by_role("checkbox", name="Примерочная")
    fitting_room.focus()
    page.page.keyboard.press("Space")
    expect(fitting_room).to_be_checked()
    points = page.page.get_by_role("listbox", name="Пункты выдачи")
    expect(points).not_to_have_attribute("aria-busy", "true")
    expect(points.get_by_role("option").first).to_contain_text("Примерочная")
    assert any("features=fitting_room" in url and "bbox=" in url for url in page.requests)
    texts = points.get_by_role("option").all_inner_texts()
    assert texts and all("Примерочная" in text for text in texts)

    # To the list by Tab, down two points, Enter.
    page.tab_to(lambda f: f["role"] == "listbox")
    page.page.keyboard.press("ArrowDown")
    page.page.keyboard.press("ArrowDown")
    active_id = shadow(
        page, "root.getElementById(root.getElementById('cr-points').getAttribute('aria-activedescendant')).dataset.id"
    )
    expect(page.page.locator(".cr-m-active")).to_be_visible()
    page.screenshot("desktop-picker.png")
    page.page.keyboard.press("Enter")

    events = page.events()
    assert [e["type"] for e in events] == ["carrier-router:select"]
    detail = events[0]["detail"]
    assert detail["version"] == 1 and detail["pickup_point"]["id"] == active_id
    assert json.loads(hidden_input(page)) == detail

    # The event names what the service itself holds: the quote's offer, the chosen point (read in
    # the widget's language, as the widget asked for it).
    quote = page.api(f"/v1/quotes/{detail['quote_id']}?lang=ru")
    held = next(o for o in quote["offers"] if o["id"] == detail["offer_id"])
    assert held == detail["offer"] and held["delivery_type"] == "pickup"
    point = page.api(f"/v1/pickup-points/{active_id}")
    assert "fitting_room" in point["features"] and point["carrier"] == held["carrier"]
    assert Decimal(held["price"]["total"]) > 0

    expect(page.page.get_by_role("listbox", name="Пункты выдачи")).to_be_hidden()
    summary = shadow(page, "root.querySelector('.cr-summary').textContent")
    assert point["name"] in summary
    page.screenshot("desktop-chosen.png")


def test_moving_the_map_reloads_the_list_around_its_centre_and_a_marker_selects_its_point(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    page.page.get_by_role("button", name="В пункт выдачи").click()
    page.page.get_by_role("button", name="Выбрать пункт выдачи").click()
    canvas = page.page.get_by_role("region", name="Карта пунктов выдачи")
    expect(page.page.locator(".cr-m").first).to_be_visible()
    lists_before = len(page.requested("v1/pickup-points?lat="))

    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.page.mouse.move(x, y)
    page.page.mouse.down()
    page.page.mouse.move(x - 150, y - 80, steps=8)
    page.page.mouse.up()
    page.page.wait_for_function(
        f"performance.getEntriesByType('resource').filter(e => e.name.includes('v1/pickup-points?lat=')).length > {lists_before}"
    )

    site = page.page.locator(".cr-m-site").first
    expect(site).to_be_visible()
    site.click()
    points = page.page.get_by_role("listbox", name="Пункты выдачи")
    page.page.wait_for_function(f"!!{SHADOW}.getElementById('cr-points').getAttribute('aria-activedescendant')")
    assert points.locator("[aria-selected=true]").count() == 1


@pytest.mark.parametrize("widget_page", [PHONE], indirect=True)
def test_on_a_phone_the_list_comes_first_the_map_on_demand_and_targets_are_big_enough(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    page.page.get_by_role("button", name="В пункт выдачи").click()
    page.page.get_by_role("button", name="Выбрать пункт выдачи").click()

    points = page.page.get_by_role("listbox", name="Пункты выдачи")
    expect(points.get_by_role("option").first).to_be_visible()
    show_map = page.page.get_by_role("button", name="Показать карту")
    expect(show_map).to_have_attribute("aria-expanded", "false")
    assert page.requested(MAP_CHUNK) == []

    select = page.page.get_by_role("button", name="Выбрать этот пункт")
    assert shadow(page, "getComputedStyle(root.querySelector('.cr-picker-foot')).position") == "sticky"
    box = select.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], "the Select button stays on screen"
    assert page.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    small = shadow(
        page,
        """[...root.querySelectorAll('button, [role=option], .cr-chip, .cr-offer-main, input[role=combobox]')]
            .filter((el) => el.offsetParent)
            .map((el) => [el.className || el.tagName, el.getBoundingClientRect().height])
            .filter(([, height]) => height < 44)""",
    )
    assert small == []
    page.screenshot("phone-list.png", full_page=False)

    show_map.click()
    expect(page.page.locator(".cr-m").first).to_be_visible()
    page.page.get_by_role("heading", name="Пункты выдачи").evaluate("(h) => h.scrollIntoView()")
    expect(page.page.get_by_role("button", name="Скрыть карту")).to_have_attribute("aria-expanded", "true")
    page.screenshot("phone-map.png", full_page=False)


def test_closing_the_picker_is_a_close_event_not_an_error(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    page.page.get_by_role("button", name="В пункт выдачи").click()
    page.page.get_by_role("combobox", name="Город доставки").focus()
    open_picker_by_keyboard(page)
    page.page.keyboard.press("Escape")

    expect(page.page.get_by_role("listbox", name="Пункты выдачи")).to_be_hidden()
    assert page.events() == [{"type": "carrier-router:close", "detail": {"version": 1, "reason": "dismissed"}}]
    assert page.focused() == {"tag": "BUTTON", "role": None, "name": "Выбрать пункт выдачи"}
    assert hidden_input(page) == ""
    assert shadow(page, "root.querySelector('[role=alert]').textContent") == ""


def test_a_courier_offer_chosen_by_keyboard_fills_the_form_without_a_point(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    courier = page.page.get_by_role("button", name="Курьером")
    courier.focus()
    page.page.keyboard.press("Enter")
    expect(courier).to_have_attribute("aria-pressed", "true")
    page.tab_to(lambda f: f["tag"] == "INPUT" and f["role"] is None)
    page.page.keyboard.press("Space")

    (event,) = page.events()
    detail = event["detail"]
    assert event["type"] == "carrier-router:select"
    assert detail["pickup_point"] is None and detail["offer"]["delivery_type"] == "courier"
    assert json.loads(hidden_input(page))["offer_id"] == detail["offer_id"]
    page.page.get_by_role("button", name="Оформить заказ").click()
    posted = json.loads(page.page.locator("#order pre").inner_text())
    assert json.loads(posted["delivery"]) == detail


def test_the_shops_styles_stay_out_and_no_widget_button_submits_its_form(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    expect(page.page.get_by_role("radiogroup", name="Варианты доставки")).to_be_visible()
    page.page.get_by_role("button", name="Курьером").click()
    page.page.get_by_role("button", name="Почему такая цена").first.click()

    assert page.page.locator("#order").is_hidden(), "a widget button submitted the shop's form"
    assert shadow(page, "[...root.querySelectorAll('button')].filter((b) => b.type !== 'button').length") == 0
    assert "Georgia" not in shadow(page, "getComputedStyle(root.querySelector('.cr-mode')).fontFamily")
    assert shadow(page, "getComputedStyle(root.querySelector('label.cr-label')).textTransform") == "none"
    # And the widget's rules stay in: the shop's own buttons keep their look.
    assert (
        page.page.evaluate("getComputedStyle(document.querySelector('#checkout button')).textTransform") == "uppercase"
    )


def test_destroy_stops_the_widget_and_mounting_again_does_not_stack_a_second_one(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    expect(page.page.get_by_role("combobox", name="Город доставки")).to_be_visible()
    # A quote in flight when destroy() runs must not draw into the emptied widget.
    page.page.evaluate(
        """() => {
          const el = document.querySelector('#delivery');
          const widget = CarrierRouter.get(el);
          widget.setLocation('Новосибирск');
          widget.destroy();
        }"""
    )
    page.page.wait_for_timeout(600)
    assert shadow(page, "root.childElementCount") == 0
    assert page.page.evaluate("document.querySelectorAll('input[name=delivery]').length") == 0
    assert page.page.evaluate("CarrierRouter.get(document.querySelector('#delivery'))") is None

    page.page.evaluate(
        """() => {
          const el = document.querySelector('#delivery');
          const options = {origin: {city: 'Москва'}, lang: 'ru', input: 'delivery',
                           parcels: [{weight_g: 1200, length_cm: 30, width_cm: 20, height_cm: 10}]};
          CarrierRouter.mount(el, options);
          CarrierRouter.mount(el, options);
        }"""
    )
    assert shadow(page, "root.querySelectorAll('.cr').length") == 1
    assert page.page.evaluate("document.querySelectorAll('input[name=delivery]').length") == 1
    quotes_before = len(page.requested("/v1/quotes"))
    page.choose_city("Новосиб", "Новосибирск")
    expect(page.page.get_by_role("radiogroup", name="Варианты доставки")).to_be_visible()
    page.page.wait_for_timeout(300)
    assert len(page.requested("/v1/quotes")) - quotes_before == 1


def test_the_widget_speaks_english(widget_page: Page) -> None:
    page = widget_page
    page.open_demo("en")
    page.choose_city("Novosib", "Novosibirsk", label="Delivery city")
    offers = page.page.get_by_role("radiogroup", name="Delivery options")
    expect(offers.get_by_role("radio").first).to_be_visible()
    expect(offers.get_by_text("Recommended")).to_have_count(1)
    expect(page.page.get_by_role("button", name="Courier")).to_be_visible()


def test_new_parcels_quote_again_and_clear_a_choice_made_for_the_old_ones(widget_page: Page) -> None:
    page = widget_page
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    page.page.get_by_role("button", name="Курьером").click()
    page.page.get_by_role("radiogroup", name="Варианты доставки").get_by_role("radio").first.check()
    first = json.loads(hidden_input(page))

    page.page.evaluate(
        """() => CarrierRouter.get(document.querySelector('#delivery'))
             .setParcels([{weight_g: 9000, length_cm: 60, width_cm: 40, height_cm: 40}])"""
    )
    expect(page.page.get_by_role("radiogroup", name="Варианты доставки").get_by_role("radio").first).not_to_be_checked()
    assert hidden_input(page) == ""
    page.page.get_by_role("radiogroup", name="Варианты доставки").get_by_role("radio").first.check()
    second = json.loads(hidden_input(page))
    assert second["quote_id"] != first["quote_id"]
    assert second["offer"]["chargeable_weight_g"] >= 9000


def test_an_estimate_says_so_beside_its_price_in_its_breakdown_and_in_the_choice(widget_page: Page) -> None:
    page = widget_page
    marked: list[str] = []

    def as_if_the_carrier_were_down(route: Any) -> None:
        # The service's own answer, with its first courier offer marked as the engine marks a down
        # carrier's last good answer (tests/carriers/test_estimates.py has the engine do it).
        answer = route.fetch()
        quote = answer.json()
        offer = next(o for o in quote["offers"] if o["delivery_type"] == "courier")
        offer.update(estimate=True, stale=True, as_of=quote["created_at"])
        marked.append(offer["id"])
        route.fulfill(response=answer, json=quote)

    page.page.route("**/v1/quotes?*", as_if_the_carrier_were_down)  # ?lang=: the widget's language
    page.open_demo()
    page.choose_city("Новосиб", "Новосибирск")
    page.page.get_by_role("button", name="Курьером").click()
    (estimate_id,) = set(marked)
    offers = page.page.get_by_role("radiogroup", name="Варианты доставки")
    estimate = offers.locator(f'.cr-offer[data-offer="{estimate_id}"]')
    expect(estimate.locator(".cr-badge-estimate")).to_have_text("оценка")
    assert offers.locator(".cr-badge-estimate").count() == 1  # only the estimate says so
    estimate.get_by_role("button", name="Почему такая цена").click()
    expect(estimate.locator(".cr-estimate")).to_contain_text("не закреплена")

    estimate.get_by_role("radio").check()
    (event,) = page.events()
    assert event["detail"]["offer_id"] == estimate_id and event["detail"]["offer"]["estimate"] is True
    expect(page.page.locator("#delivery").locator(".cr-summary")).to_contain_text("(оценка)")
