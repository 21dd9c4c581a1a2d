"""Which carriers this service asks: the bundled rate cards, plus API carriers from config, and
which of those take orders over their API (`load_booking`) and how often they may be polled for
tracking (`load_polls_per_minute`)."""

from __future__ import annotations

import os

import aiohttp

from carriers.base import Carrier
from carriers.booking import BookingApi
from carriers.cdek.booking import CdekBooking
from carriers.cdek.carrier import CdekCarrier
from carriers.cdek.client import CdekClient
from carriers.config import (
    CarriersConfig,
    CdekEntry,
    CourierEntry,
    RatecardEntry,
    load_config,
)
from carriers.courier import CourierBooking, CourierCarrier, CourierClient
from carriers.ratecard import RateCardCarrier, load_ratecard, load_ratecards
from carriers.ratecard.tariff import TrackingRange
from router.core.errors import ConfigError
from router.core.settings import Settings


def load_carriers(settings: Settings, http: aiohttp.ClientSession | None = None) -> list[Carrier]:
    """Every configured carrier; raises ConfigError naming the file and field that is wrong.

    With no config file, the rate cards in `settings.carriers_dir`. API carriers share `http`
    (the app's one session); without it they can be listed and validated but not asked.
    """
    if settings.config_path is None:
        return list(load_ratecards(settings.carriers_dir))
    config = load_config(settings.config_path, env=os.environ, sandbox=settings.extra)
    return build_carriers(config, settings, http)


def close_carriers(carriers: list[Carrier]) -> None:
    """Release what each carrier holds of its own (the aiohttp session is the caller's to close)."""
    for carrier in carriers:
        carrier.close()


def build_carriers(config: CarriersConfig, settings: Settings, http: aiohttp.ClientSession | None) -> list[Carrier]:
    carriers: list[Carrier] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(config.entries):
        where = f"carriers[{index}]"
        built: list[Carrier]
        if isinstance(entry, RatecardEntry):
            path = entry.path or settings.carriers_dir
            built = list(load_ratecards(path)) if path.is_dir() else [load_ratecard(path)]
        elif isinstance(entry, CdekEntry):
            built = [_cdek(entry, settings, http)]
        elif isinstance(entry, CourierEntry):
            built = [_courier(entry, settings, http)]
        else:  # pragma: no cover - load_config only makes the three
            raise ConfigError(str(config.source), where, f"cannot build {type(entry).__name__}")
        for carrier in built:
            if carrier.code in seen:
                raise ConfigError(
                    str(config.source),
                    where,
                    f"duplicate carrier code {carrier.code!r}, also from {seen[carrier.code]}",
                )
            seen[carrier.code] = where
            carriers.append(carrier)
    return carriers


def cdek_client(entry: CdekEntry, http: aiohttp.ClientSession | None) -> CdekClient:
    """The client of one configured CDEK account: quotes and delivery points go through it."""
    return CdekClient(
        http, client_id=entry.client_id, client_secret=entry.client_secret, base_url=entry.base_url, carrier=entry.code
    )


# Booking makes a few calls per shipment, not one per quote: it can wait longer than a quote.
MIN_BOOKING_TIMEOUT_S = 10.0


def load_booking(settings: Settings, http: aiohttp.ClientSession | None) -> dict[str, BookingApi]:
    """The booking side of every configured API carrier, by carrier code; none without a config
    file (rate-card partners are booked by the service itself)."""
    if settings.config_path is None:
        return {}
    config = load_config(settings.config_path, env=os.environ, sandbox=settings.extra)
    return build_booking(config, settings, http)


def build_booking(
    config: CarriersConfig, settings: Settings, http: aiohttp.ClientSession | None
) -> dict[str, BookingApi]:
    booking: dict[str, BookingApi] = {}
    for entry in config.entries:
        if isinstance(entry, CdekEntry):
            timeout_s = max(entry.timeout_s or settings.carrier_timeout_s, MIN_BOOKING_TIMEOUT_S)
            booking[entry.code] = CdekBooking(cdek_client(entry, http), code=entry.code, timeout_s=timeout_s)
        elif isinstance(entry, CourierEntry):
            client = CourierClient(http, base_url=entry.base_url, token=entry.token, carrier=entry.code)
            timeout_s = max(entry.timeout_s or settings.carrier_timeout_s, MIN_BOOKING_TIMEOUT_S)
            booking[entry.code] = CourierBooking(
                client, code=entry.code, timeout_s=timeout_s, matter=entry.matter, vehicle_type_id=entry.vehicle_type_id
            )
    return booking


def load_polls_per_minute(settings: Settings) -> dict[str, int]:
    """Each API carrier's tracking polls a minute at most (`polls_per_minute`), by carrier code."""
    if settings.config_path is None:
        return {}
    config = load_config(settings.config_path, env=os.environ, sandbox=settings.extra)
    return {e.code: e.polls_per_minute for e in config.entries if isinstance(e, CdekEntry | CourierEntry)}


def _cdek(entry: CdekEntry, settings: Settings, http: aiohttp.ClientSession | None) -> CdekCarrier:
    client = cdek_client(entry, http)
    return CdekCarrier(
        client,
        code=entry.code,
        name=entry.name,
        name_ru=entry.name_ru,
        tariffs=entry.tariffs,
        cutoff=entry.cutoff,
        timeout_s=entry.timeout_s or settings.carrier_timeout_s,
        lang=entry.lang,
    )


def _courier(entry: CourierEntry, settings: Settings, http: aiohttp.ClientSession | None) -> CourierCarrier:
    client = CourierClient(http, base_url=entry.base_url, token=entry.token, carrier=entry.code)
    return CourierCarrier(
        client,
        code=entry.code,
        name=entry.name,
        service=entry.service,
        service_name=entry.service_name,
        service_name_ru=entry.service_name_ru,
        matter=entry.matter,
        vehicle_type_id=entry.vehicle_type_id,
        cutoff=entry.cutoff,
        timeout_s=entry.timeout_s or settings.carrier_timeout_s,
    )


def partner_ranges(carriers: list[Carrier]) -> dict[str, TrackingRange]:
    """The rate-card partners booked here, by code, with their ranges of tracking numbers."""
    return {c.code: c.card.tracking for c in carriers if isinstance(c, RateCardCarrier) and c.card.tracking is not None}
