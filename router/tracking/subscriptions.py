"""Carriers that call back told where: each is asked once at start for every kind of call it
makes (CDEK: `ORDER_STATUS` for statuses, `PRINT_FORM` for labels made), and again until it agrees."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from carriers.booking import BookingApi, CallsBack
from carriers.errors import CarriersError

log = logging.getLogger(__name__)

INBOUND_PATH = "/v1/inbound/{carrier}/{token}"
RETRY_S = (5.0, 30.0, 300.0)


def inbound_url(public_url: str, carrier: str, token: str) -> str:
    return public_url.rstrip("/") + INBOUND_PATH.format(carrier=carrier, token=token)


async def keep_subscribed(bookings: Mapping[str, BookingApi], public_url: str, token: str) -> None:
    """Subscribe every carrier that calls back to each kind of call it makes; one that fails is
    asked again later, the rest are not held up."""

    async def one(api: CallsBack, kind: str) -> None:
        url = inbound_url(public_url, api.code, token)
        for attempt in range(1_000_000):
            try:
                subscription = await api.subscribe(url, kind)
            except (CarriersError, OSError) as exc:
                pause = RETRY_S[min(attempt, len(RETRY_S) - 1)]
                log.warning("tracking: %s %s not subscribed (%s); again in %g s", api.code, kind, exc, pause)
                await asyncio.sleep(pause)
                continue
            log.info("tracking: %s calls back %s at its inbound URL (subscription %s)", api.code, kind, subscription)
            return

    callers = [api for api in bookings.values() if isinstance(api, CallsBack)]
    await asyncio.gather(*(one(api, kind) for api in callers for kind in api.calls))
