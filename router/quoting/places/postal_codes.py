"""Russian postal codes: the bundled table of 3-digit prefixes and the city each one serves.

A Russian postal code's first three digits name a sorting centre, which sits in one city; the
table (`data/places/ru_postal_prefixes.csv`) maps each prefix of a major city to its geonames id.
A broken row fails loading with the file and the row named, before anything slow is built.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from router.core.errors import ConfigError, PlaceNotFound
from router.core.settings import DEFAULT_DATA_DIR

POSTAL_PREFIXES = DEFAULT_DATA_DIR / "places" / "ru_postal_prefixes.csv"
_RU_POSTAL_CODE = re.compile(r"[0-9]{6}")


class PrefixRow(NamedTuple):
    prefix: str
    geonameid: int
    source: str
    path: str  # the row's field, for errors


def read_postal_prefixes(source: Path) -> list[PrefixRow]:
    rows: list[PrefixRow] = []
    seen: set[str] = set()
    with source.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        for row_no, row in enumerate(reader, start=1):
            prefix = (row.get("prefix") or "").strip()
            if not re.fullmatch(r"[0-9]{3}", prefix):
                raise ConfigError(str(source), f"row {row_no}.prefix", f"expected 3 digits, got {prefix!r}")
            if prefix in seen:
                raise ConfigError(str(source), f"row {row_no}.prefix", f"{prefix} is listed twice")
            seen.add(prefix)
            geonameid = (row.get("geonameid") or "").strip()
            if not geonameid.isdigit():
                raise ConfigError(str(source), f"row {row_no}.geonameid", f"expected a number, got {geonameid!r}")
            rows.append(PrefixRow(prefix, int(geonameid), str(source), f"row {row_no}.geonameid"))
    return rows


class PostalTable:
    """Postal prefix → the city's rank in the place index."""

    def __init__(self, rows: list[PrefixRow], russian_rank: Callable[[int], int | None]) -> None:
        """`russian_rank`: a geonames id's rank, or None when it is not a Russian city in the data."""
        self._rank_by_prefix: dict[str, int] = {}
        for row in rows:
            rank = russian_rank(row.geonameid)
            if rank is None:
                raise ConfigError(row.source, row.path, f"{row.geonameid} is not a Russian city in the data")
            self._rank_by_prefix[row.prefix] = rank

    def find(self, postal_code: str, country: str | None, field: str, has_city: bool) -> int | None:
        """The city a postal code is in; None when it is not known and a city name can say.

        Raises PlaceNotFound naming `field` when the code is malformed, or unknown with no city
        to fall back on.
        """
        if country not in (None, "RU"):
            if has_city:
                return None
            raise PlaceNotFound(
                field,
                f"postal codes are bundled for RU only, not {country}; give a city or lat/lon",
            )
        digits = postal_code.replace(" ", "")
        if not _RU_POSTAL_CODE.fullmatch(digits):
            raise PlaceNotFound(field, f"a Russian postal code is 6 digits, got {postal_code!r}")
        rank = self._rank_by_prefix.get(digits[:3])
        if rank is None and not has_city:
            # The bundled table covers major cities only; a city name, when given, still helps.
            raise PlaceNotFound(
                field,
                f"postal code {postal_code} is outside the bundled table of major cities; give a city or lat/lon",
            )
        return rank
