"""The tracking view in a real browser: status in words, the carrier's history newest first at
the carrier's own local times, not found, errors with a retry by keyboard, Russian and English.

The view is driven against a small aiohttp app that serves the built script and answers
`GET /v1/track/{tracking_number}` in the documented shape, so every state (an empty history, every
status, a failure) is at hand; the demo page's tracking section runs on the real service
(test_tracking_demo.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from playwright.sync_api import expect

from tests.widget.conftest import DEEP_FOCUS, DIST, Page

KEY = "pk_test_tracking"
STATUSES = [
    "created",
    "accepted",
    "in_transit",
    "at_pickup_point",
    "out_for_delivery",
    "delivered",
    "delivery_failed",
    "returning",
    "returned",
    "lost",
    "damaged",
    "cancelled",
    "unknown",
]


def answer(number: str, status: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tracking_number": number,
        "carrier": "cdek",
        "carrier_name": "СДЭК",
        "service_name": "Посылка склад-склад",
        "status": status,
        "expected_from": "2026-12-10",
        "expected_by": "2026-12-12",
        "history": history,
    }


PARCELS = {
    # As the service orders a history: by the carrier's clock, oldest first. Each event keeps the
    # offset of the office that reported it.
    "1400000001": answer(
        "1400000001",
        "in_transit",
        [
            {
                "status": "accepted",
                "text": "Принят на склад отправителя",
                "at": "2026-12-08T10:15:00+03:00",
                "city": "Москва",
            },
            {
                "status": "in_transit",
                "text": "Прибыл в сортировочный центр",
                "at": "2026-12-09T06:40:00+07:00",
                "city": "Новосибирск",
            },
        ],
    ),
    "1400000002": answer("1400000002", "created", []),
    "1400000013": answer(
        "1400000013",
        "unknown",
        [
            {"status": s, "text": "", "at": f"2026-12-{8 + i // 6:02d}T{10 + i % 6:02d}:00:00+03:00", "city": None}
            for i, s in enumerate(STATUSES)
        ],
    ),
    "1400000020": answer(
        "1400000020",
        "delivered",
        [{"status": "delivered", "text": "Вручён", "at": "2026-12-11T15:02:00+05:00", "city": "Екатеринбург"}],
    ),
}

TAG_PAGE = """<!doctype html><html lang="ru"><body><main><h1>Заказ №1042</h1>
<carrier-router-tracking tracking-number="{number}" data-key="{key}" lang="{lang}"></carrier-router-tracking>
</main><script src="/widget.js"></script></body></html>"""

CODE_PAGE = """<!doctype html><html lang="en"><body><h1>Order 1042</h1><div id="track"></div>
<script src="/widget.js"></script>
<script>window.view = CarrierRouter.mountTracking(document.getElementById("track"),
  {{trackingNumber: "{number}", key: "{key}", lang: "{lang}"}});</script></body></html>"""

SCRIPT_PAGE = """<!doctype html><html lang="ru"><body><h1>Order 1042</h1><div id="track"></div>
<script src="/widget.js" data-tracking-number="{number}" data-key="{key}" data-lang="{lang}"
  data-target="#track"></script></body></html>"""
PAGES = {"tag": TAG_PAGE, "code": CODE_PAGE, "script": SCRIPT_PAGE}


class FakeService:
    """The documented answers of `GET /v1/track/{tracking_number}`, and the widget's script."""

    def __init__(self) -> None:
        self.authorization: list[str | None] = []
        self.url = ""
        self.loop = asyncio.new_event_loop()
        self.runner: web.AppRunner | None = None

    async def track(self, request: web.Request) -> web.Response:
        self.authorization.append(request.headers.get("Authorization"))
        found = PARCELS.get(request.match_info["tracking_number"])
        if found is None:
            body = {"type": "about:blank", "title": "No parcel with this tracking number", "status": 404}
            return web.Response(status=404, text=json.dumps(body), content_type="application/problem+json")
        return web.json_response(found)

    async def page(self, request: web.Request) -> web.Response:
        q = request.query
        template = PAGES[request.match_info["kind"]]
        text = template.format(number=q.get("number", ""), key=KEY, lang=q.get("lang", "ru"))
        return web.Response(text=text, content_type="text/html")

    async def script(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(DIST / "widget.js", headers={"Content-Type": "application/javascript"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/track/{tracking_number}", self.track)
        app.router.add_get("/order/{kind}", self.page)
        app.router.add_get("/widget.js", self.script)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeService]:
    if not (DIST / "widget.js").is_file():
        pytest.fail("widget/dist/widget.js is missing: run scripts/build-widget (scripts/test does)")
    service = FakeService()
    thread = threading.Thread(target=service.loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(service.start(), service.loop).result(10)
    yield service
    assert service.runner is not None
    asyncio.run_coroutine_threadsafe(service.runner.cleanup(), service.loop).result(10)
    service.loop.call_soon_threadsafe(service.loop.stop)
    thread.join(5)
    service.loop.close()


@pytest.fixture
def order_page(browser: Any, fake: FakeService) -> Iterator[Page]:
    # A buyer far from the parcel's cities: times must still read as the carrier gave them.
    context = browser.new_context(viewport={"width": 900, "height": 900}, timezone_id="America/New_York")
    page = Page(context.new_page(), fake.url)
    page.page.set_default_timeout(10_000)
    yield page
    context.close()
    assert page.errors == [], page.errors


def open_order(page: Page, number: str, lang: str = "ru", kind: str = "tag") -> None:
    page.page.goto(f"{page.service}/order/{kind}?number={number}&lang={lang}")


def steps(page: Page) -> list[str]:
    return [" ".join(t.split()) for t in page.page.get_by_role("list").get_by_role("listitem").all_inner_texts()]


def test_the_view_shows_carrier_status_in_words_expected_dates_and_the_history_newest_first(
    order_page: Page, fake: FakeService
) -> None:
    page = order_page
    open_order(page, "1400000001")
    view = page.page.get_by_role("region", name="Где посылка")
    expect(view.get_by_role("heading", name="Где посылка")).to_be_visible()
    expect(view.get_by_role("list")).to_be_visible()
    expect(view).to_contain_text("Трек-номер 1400000001 · СДЭК, Посылка склад-склад")
    expect(view.locator(".cr-track-now")).to_have_text("В пути")
    expected = view.locator(".cr-track-expected").inner_text()
    assert "10" in expected and "12" in expected and "дек" in expected

    # Newest first, each at the carrier's own wall-clock time beside its city, though the browser
    # is in New York: 06:40 in Novosibirsk, not 18:40 the day before.
    assert steps(page) == [
        "В пути Прибыл в сортировочный центр 9 дек. 2026 г., 06:40, Новосибирск",
        "Принята перевозчиком Принят на склад отправителя 8 дек. 2026 г., 10:15, Москва",
    ]
    assert view.locator("ol").get_attribute("reversed") is not None
    assert view.locator("time").first.get_attribute("datetime") == "2026-12-09T06:40:00+07:00"
    assert fake.authorization[-1] == f"Bearer {KEY}"
    page.screenshot("tracking.png")


def test_the_view_speaks_english_when_mounted_from_code(order_page: Page) -> None:
    page = order_page
    open_order(page, "1400000001", lang="en", kind="code")
    view = page.page.get_by_role("region", name="Where is the parcel")
    expect(view.locator(".cr-track-now")).to_have_text("In transit")
    expect(view).to_contain_text("Tracking number 1400000001")
    assert "Dec" in view.locator(".cr-track-expected").inner_text()
    assert steps(page) == [
        "In transit Прибыл в сортировочный центр Dec 9, 2026, 06:40, Новосибирск",
        "Accepted by the carrier Принят на склад отправителя Dec 8, 2026, 10:15, Москва",
    ]
    assert page.page.evaluate("window.view.data().status") == "in_transit"


def test_the_script_tag_alone_shows_the_parcel_it_names(order_page: Page, fake: FakeService) -> None:
    page = order_page
    open_order(page, "1400000020", lang="en", kind="script")
    expect(page.page.locator("#track .cr-track-now")).to_have_text("✓ Delivered")
    assert fake.authorization[-1] == f"Bearer {KEY}"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_status_has_its_words_in_both_languages(order_page: Page, lang: str) -> None:
    page = order_page
    open_order(page, "1400000013", lang=lang)
    expect(page.page.get_by_role("listitem")).to_have_count(len(STATUSES))
    words = page.page.evaluate(
        "[...document.querySelector('carrier-router-tracking').shadowRoot.querySelectorAll('.cr-track-word')]"
        ".map((el) => el.lastChild.textContent)"
    )
    assert len(set(words)) == len(STATUSES)
    # Words, never the codes: no status reaches the buyer as "in_transit".
    assert not set(words) & set(STATUSES)
    assert all("_" not in w for w in words)


def test_a_final_status_is_not_said_by_colour_alone_and_drops_the_expected_dates(order_page: Page) -> None:
    page = order_page
    open_order(page, "1400000020")
    now = page.page.locator(".cr-track-now")
    expect(now).to_have_text("✓ Доставлена")
    assert now.locator(".cr-track-mark").get_attribute("aria-hidden") == "true"
    expect(page.page.locator(".cr-track-expected")).to_have_count(0)
    assert steps(page) == ["✓ Доставлена Вручён 11 дек. 2026 г., 15:02, Екатеринбург"]


def test_a_parcel_without_events_says_the_carrier_has_not_reported_yet(order_page: Page) -> None:
    page = order_page
    open_order(page, "1400000002")
    expect(page.page.locator(".cr-track-empty")).to_have_text("Перевозчик ещё не сообщал о посылке.")
    expect(page.page.locator(".cr-track-now")).to_have_text("Заказ оформлен")
    expect(page.page.get_by_role("list")).to_have_count(0)


@pytest.mark.parametrize(
    ("lang", "message"),
    [("ru", "Посылки с трек-номером 999 не найдено"), ("en", "No parcel with tracking number 999")],
)
def test_an_unknown_number_is_said_plainly(order_page: Page, lang: str, message: str) -> None:
    page = order_page
    open_order(page, "999", lang=lang)
    expect(page.page.get_by_role("status")).to_contain_text(message)
    expect(page.page.locator(".cr-alert")).to_be_empty()
    expect(page.page.get_by_role("list")).to_have_count(0)


def test_on_an_error_the_keyboard_reaches_the_retry_button_and_it_loads_the_parcel(order_page: Page) -> None:
    page = order_page
    failures = {"left": 1}

    def flaky(route: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=503, content_type="application/problem+json", body='{"title": "Unavailable"}')
        else:
            route.continue_()

    page.page.route("**/v1/track/**", flaky)
    open_order(page, "1400000001")
    alert = page.page.get_by_role("alert")
    expect(alert).to_contain_text("Не удалось узнать, где посылка")
    focused = page.tab_to(lambda f: f["tag"] == "BUTTON")
    assert focused["name"] == "Попробовать снова"
    assert (
        page.page.evaluate(
            "document.querySelector('carrier-router-tracking').shadowRoot.activeElement.getAttribute('type')"
        )
        == "button"
    )
    page.page.keyboard.press("Enter")
    expect(page.page.locator(".cr-track-now")).to_have_text("В пути")
    expect(page.page.locator(".cr-alert")).to_be_empty()
    # The button went with the error: focus is on the view's heading, not lost to the page's top.
    assert page.page.evaluate(DEEP_FOCUS)["tag"] == "H3"


def test_a_new_number_on_the_element_shows_that_parcel_and_removing_it_stops_the_view(order_page: Page) -> None:
    page = order_page
    open_order(page, "1400000001")
    expect(page.page.locator(".cr-track-now")).to_have_text("В пути")
    page.page.evaluate(
        "document.querySelector('carrier-router-tracking').setAttribute('tracking-number', '1400000020')"
    )
    expect(page.page.locator(".cr-track-now")).to_have_text("✓ Доставлена")
    assert page.page.evaluate(
        "(() => { const el = document.querySelector('carrier-router-tracking'); el.remove();"
        " return [CarrierRouter.get(el), el.shadowRoot.childElementCount]; })()"
    ) == [None, 0]
