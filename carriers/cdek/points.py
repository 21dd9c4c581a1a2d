"""CDEK's delivery points (offices and lockers), read page by page and handed to the importer.

The points stay as CDEK shapes them (`carriers.cdek.wire.DeliveryPointsPage`): what their fields
mean — weight limits in kilograms, hours as text, a locker's cells — is the pickup-point
importer's to read (`pickup_points.importers.import_cdek`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carriers.api import within
from carriers.cdek import wire
from carriers.cdek.client import CdekClient

if TYPE_CHECKING:
    from pickup_points.importers import ImportResult


@dataclass(slots=True)
class Paging:
    """How far a paging got: when a page fails, `pages + 1` is the page that did."""

    pages: int = 0
    points: int = 0


async def delivery_points(
    client: CdekClient,
    carrier: str,
    filters: Mapping[str, Any] | None = None,
    *,
    page_size: int = 1000,
    page_timeout_s: float = 30.0,
    paging: Paging | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every delivery point matching `filters`, as CDEK shapes it, page by page.

    Paging stops at `X-Total-Elements`, or at a short or empty page when a server does not send
    the total. Each page has `page_timeout_s` of its own. `paging` counts the pages read.
    """
    paging = paging or Paging()
    page = 0
    seen = 0
    while True:
        page_call = client.deliverypoints_page(filters, page, page_size)
        items, total = await within(page_timeout_s, carrier, page_call)
        paging.pages += 1
        paging.points += len(items)
        for item in items:
            yield item
        seen += len(items)
        if not items or (total is not None and seen >= total) or (total is None and len(items) < page_size):
            return
        page += 1


async def import_delivery_points(
    client: CdekClient,
    carrier: str,
    filters: Mapping[str, Any] | None = None,
    *,
    page_size: int = 1000,
    zone_for: Callable[[float, float], str] | None = None,
) -> ImportResult:
    """Every matching point as `PickupPoint`s, with the records that could not be read.

    CDEK gives no time zone per point; `zone_for(lat, lon)` finds it (offline by default).
    """
    from pickup_points.importers import import_cdek

    if zone_for is None:
        from pickup_points.timezones import TimezoneLookup

        zone_for = TimezoneLookup()
    items = [item async for item in delivery_points(client, carrier, filters, page_size=page_size)]
    return import_cdek(wire.encode(items), carrier=carrier, zone_for=zone_for)
