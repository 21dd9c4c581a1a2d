"""Carriers that call back told where: each is asked once at start, and again until it agrees."""

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
    """Subscribe every carrier that calls back; one that fails is asked again later, the rest are not held up."""

    async def one(api: CallsBack) -> None:
        url = inbound_url(public_url, api.code, token)
        for attempt in range(1_000_000):
            try:
                subscription = await api.subscribe(url)
            except (CarriersError, OSError) as exc:
                pause = RETRY_S[min(attempt, len(RETRY_S) - 1)]
                log.warning("tracking: %s not subscribed (%s); again in %g s", api.code, exc, pause)
                await asyncio.sleep(pause)
                continue
            log.info("tracking: %s calls back at its inbound URL (subscription %s)", api.code, subscription)
            return

    callers = [api for api in bookings.values() if isinstance(api, CallsBack)]
    await asyncio.gather(*(one(api) for api in callers))
