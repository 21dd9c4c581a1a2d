"""The real service in a subprocess and Debian's Chromium driven by Playwright.

One service and one browser serve every browser test; each test gets a fresh page. Map tiles
are refused, as they are offline in CI: the widget must work without them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from router.records.keys import KeyKind
from tests.keys import create_key
from tests.services import start_services

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "widget" / "dist"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TILES = "**/tile.openstreetmap.org/**"

# Reaches through shadow roots to the element that really has focus.
DEEP_FOCUS = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return el ? {tag: el.tagName, role: el.getAttribute('role'), name: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 60)} : null;
}"""
RECORD_EVENTS = """() => {
  window.__widgetEvents = [];
  for (const type of ['carrier-router:select', 'carrier-router:close']) {
    document.addEventListener(type, (e) => window.__widgetEvents.push({type, detail: e.detail}));
  }
}"""


SHOP_PAGES: dict[str, str] = {}


class ShopHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = SHOP_PAGES.get(self.path, "").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Services:
    open: str  # no keys: the demo as it runs out of the box
    keyed: str  # with one publishable key, bound to the shop's origin
    token: str
    shop: str  # the shop's own web server, another origin than the services'


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    if not (DIST / "widget.js").is_file():
        pytest.fail("widget/dist/widget.js is missing: run scripts/build-widget (scripts/test does)")
    # On loopback like the services: Chromium will not let a page from any other address space
    # call a loopback service.
    shop = ThreadingHTTPServer(("127.0.0.1", 0), ShopHandler)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    shop_url = f"http://127.0.0.1:{shop.server_address[1]}"
    keyed_state = tmp_path_factory.mktemp("keyed-state")
    _, token = asyncio.run(create_key(keyed_state, KeyKind.PUBLISHABLE, "shop widget", (shop_url,)))
    try:
        with start_services(tmp_path_factory.mktemp("state"), keyed_state) as (open_url, keyed_url):
            yield Services(open_url, keyed_url, token, shop_url)
    finally:
        shop.shutdown()
        shop.server_close()


@pytest.fixture(scope="session")
def service(services: Services) -> str:
    return services.open


# Per module, not per session: while Playwright's sync API runs, its event loop counts as the
# running one, and async tests in later modules could not start their own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A browser page on the service, recording what a test needs to look at afterwards."""

    def __init__(self, page: Any, service: str) -> None:
        self.page = page
        self.service = service
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.refused_tiles = 0
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))

        def refuse(route: Any) -> None:
            self.refused_tiles += 1
            route.abort()

        page.route(TILES, refuse)

    def open_demo(self, lang: str = "ru") -> None:
        self.page.goto(f"{self.service}/widget/demo?lang={lang}")
        self.page.evaluate(RECORD_EVENTS)

    def events(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("window.__widgetEvents"))

    def focused(self) -> dict[str, Any] | None:
        return self.page.evaluate(DEEP_FOCUS)  # type: ignore[no-any-return]

    def tab_to(self, wanted: Any, limit: int = 25, back: bool = False) -> dict[str, Any]:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            now = self.focused()
            if now and wanted(now):
                return now
        raise AssertionError(f"never reached by Tab; focus ended on {self.focused()}")

    def choose_city(self, typed: str, option: str, label: str = "Город доставки") -> None:
        city = self.page.get_by_role("combobox", name=label)
        city.press_sequentially(typed)
        self.page.get_by_role("option", name=option).wait_for()
        city.press("ArrowDown")
        city.press("Enter")

    def requested(self, part: str) -> list[str]:
        return [url for url in self.requests if part in url]

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.service}{path}", timeout=5) as resp:
            return json.load(resp)

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def widget_page(browser: Any, service: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    viewport = getattr(request, "param", {"width": 1100, "height": 900})
    context = browser.new_context(viewport=viewport, locale="ru-RU")
    page = Page(context.new_page(), service)
    page.page.set_default_timeout(10_000)
    yield page
    context.close()
    assert page.errors == [], page.errors
