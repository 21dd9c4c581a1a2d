"""The demo shop page's tracking section on the real service: a parcel booked through the API and
given its history is shown in the tracking view; a number typed there is shown without a reload."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.widget.conftest import Page, Services

RECIPIENT = {"name": "Анна Петрова", "phone": "+7 913 123-45-67"}
SENDER = {"name": "Склад Москва", "phone": "+7 495 123-45-67", "company": "Магазин"}
# The carrier's clock, oldest first; sent in another order to show the view orders by it.
EVENTS = [
    {"status": "in_transit", "at": "2026-12-09T06:40:00+07:00", "city": "Новосибирск", "text": "Прибыл в СЦ"},
    {"status": "accepted", "at": "2026-12-08T10:15:00+03:00", "city": "Москва", "text": "Принят"},
]


def call(service: str, method: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        f"{service}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=20) as resp:
        return json.load(resp)


def booked_parcel(service: str) -> str:
    """A rate-card partner's door offer: booked at once, with a number from its range."""
    quote = call(
        service,
        "POST",
        "/v1/quotes",
        {
            "origin": {"city": "Москва"},
            "destination": {"city": "Новосибирск", "address": "ул. Ленина, 1"},
            "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
            "declared_value": "3000",
        },
    )
    shipment = call(
        service,
        "POST",
        "/v1/shipments",
        {
            "quote_id": quote["quote_id"],
            "offer_id": "magistral:door",
            "order_number": "A-1042",
            "recipient": RECIPIENT,
            "sender": SENDER,
            "items": [{"name": "Самовар", "sku": "SAM-5", "quantity": 1, "unit_price": "3000.00", "weight_g": 1200}],
        },
        {"Idempotency-Key": str(uuid.uuid4())},
    )
    call(service, "POST", f"/v1/shipments/{shipment['id']}/events", {"events": EVENTS})
    return str(shipment["tracking_number"])


# `services` before `widget_page`: the service starts before this module's browser does.
def test_a_booked_parcel_is_shown_on_the_demo_page_with_its_history_newest_first(
    services: Services, widget_page: Page
) -> None:
    page = widget_page
    number = booked_parcel(services.open)
    page.page.goto(f"{services.open}/widget/demo?track={number}")
    section = page.page.get_by_role("region", name="Где мой заказ")
    view = section.get_by_role("region", name="Где посылка")
    expect(view.locator(".cr-track-now")).to_have_text("В пути")
    expect(view).to_contain_text(f"Трек-номер {number}")
    items = view.get_by_role("list").get_by_role("listitem")
    expect(items).to_have_count(2)
    texts = [" ".join(t.split()) for t in items.all_inner_texts()]
    assert texts[0].startswith("В пути Прибыл в СЦ") and texts[0].endswith("06:40, Новосибирск")
    assert texts[1].startswith("Принята перевозчиком Принят") and texts[1].endswith("10:15, Москва")
    page.screenshot("tracking-demo.png")


def test_the_demo_page_says_an_unknown_number_plainly_and_shows_a_typed_one_without_a_reload(
    services: Services, widget_page: Page
) -> None:
    page = widget_page
    page.page.goto(f"{services.open}/widget/demo?lang=en&track=NO-SUCH-PARCEL")
    section = page.page.get_by_role("region", name="Where is my order")
    box = section.get_by_role("textbox", name="Tracking number")
    expect(box).to_have_value("NO-SUCH-PARCEL")
    expect(section.get_by_role("status")).to_contain_text("No parcel with tracking number NO-SUCH-PARCEL")

    box.fill("ALSO-UNKNOWN")
    box.press("Enter")
    expect(section.get_by_role("status")).to_contain_text("No parcel with tracking number ALSO-UNKNOWN")
    assert "track=ALSO-UNKNOWN" in page.page.url
