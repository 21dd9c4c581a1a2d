"""The demo shop page's tracking section on the real service: a number typed there is shown in the
tracking view, in the page's language."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.widget.conftest import Page, Services


# `services` before `widget_page`: the service starts before this module's browser does.
def test_the_demo_page_shows_the_tracking_view_for_the_number_it_is_given(
    services: Services, widget_page: Page
) -> None:
    page = widget_page
    page.page.goto(f"{services.open}/widget/demo?lang=en&track=NO-SUCH-PARCEL")
    section = page.page.get_by_role("region", name="Where is my order")
    expect(section.get_by_role("textbox", name="Tracking number")).to_have_value("NO-SUCH-PARCEL")
    expect(section.get_by_role("status")).to_contain_text("No parcel with tracking number NO-SUCH-PARCEL")

    # Another number typed in the form is shown without leaving the page.
    box = section.get_by_role("textbox", name="Tracking number")
    box.fill("ALSO-UNKNOWN")
    box.press("Enter")
    expect(section.get_by_role("status")).to_contain_text("No parcel with tracking number ALSO-UNKNOWN")
    assert "track=ALSO-UNKNOWN" in page.page.url
