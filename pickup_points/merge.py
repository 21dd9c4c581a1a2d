"""One physical place served by several networks becomes one site, and so one map marker.

Two points are the same place when they stand within `MERGE_DISTANCE_M` of each other and their
addresses read the same once normalised. Coordinates alone would fuse neighbouring shops in a
mall; addresses alone would fuse "Lenina 1" in two towns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from pickup_points.geo import km_to_chord, unit_vectors
from pickup_points.model import PickupPoint, Site

MERGE_DISTANCE_M = 30.0

# Street-type words and their abbreviations say nothing about which building it is, and feeds
# spell them every which way ("ул.", "улица", "ул", before or after the name).
_NOISE = frozenset(
    """
    ул улица пр пр-т пркт просп проспект пер переулок ш шоссе б-р бул бульвар пл площадь наб набережная
    пр-д проезд туп тупик мкр мкрн микрорайон тц трц бц д дом г город гор пос п поселок пгт с село
    обл область р-н район рф россия стр строение
    st street str ave avenue rd road pr prospekt pereulok sh shosse ul ulitsa d dom
    """.split()
)
_ALIASES = {"корп": "к", "корпус": "к", "лит": "литера", "building": "к"}
_WORD = re.compile(r"[0-9]+(?:[а-яa-z](?![0-9]))?|[а-яa-z]+(?:-[а-яa-z]+)?")  # "5а" is a house, "10к1" is 10 к 1


def normalise_address(address: str, city: str | None = None) -> tuple[str, ...]:
    """Address words, sorted so that "ул. Ленина, 5" and "Ленина ул., д. 5" agree."""
    text = address.lower().replace("ё", "е")
    drop = set(_NOISE)
    if city:
        drop.update(_WORD.findall(city.lower().replace("ё", "е")))
    words = (_ALIASES.get(w, w) for w in _WORD.findall(text))
    return tuple(sorted(w for w in words if w not in drop))


def merge_sites(points: Sequence[PickupPoint]) -> tuple[tuple[Site, ...], np.ndarray]:
    """The sites and, for each point, the index of its site."""
    n = len(points)
    parent = np.arange(n)
    if n > 1:
        xyz = unit_vectors(np.array([p.lat for p in points]), np.array([p.lon for p in points]))
        pairs = cKDTree(xyz).query_pairs(km_to_chord(MERGE_DISTANCE_M / 1000.0), output_type="ndarray")
        keys: dict[int, tuple[str, ...]] = {}
        for a, b in pairs.tolist():
            ka = keys.setdefault(a, normalise_address(points[a].address, points[a].city))
            kb = keys.setdefault(b, normalise_address(points[b].address, points[b].city))
            if ka and ka == kb:
                _union(parent, a, b)
    roots = np.array([_find(parent, i) for i in range(n)], dtype=np.int64)
    _, site_of = np.unique(roots, return_inverse=True)
    members: dict[int, list[int]] = {}
    for i, site in enumerate(site_of.tolist()):
        members.setdefault(site, []).append(i)
    sites = tuple(_site([points[i] for i in members[s]]) for s in range(len(members)))
    return sites, site_of.astype(np.int32)


def _site(points: list[PickupPoint]) -> Site:
    ids = tuple(sorted(p.id for p in points))
    first = min(points, key=lambda p: p.id)
    return Site(
        id=f"site:{ids[0]}" if len(ids) > 1 else ids[0],
        lat=float(np.mean([p.lat for p in points])),
        lon=first.lon if len(points) == 1 else _mean_lon([p.lon for p in points]),
        address=first.address,
        city=first.city,
        point_ids=ids,
        networks=tuple(sorted({p.network for p in points})),
    )


def _mean_lon(lons: list[float]) -> float:
    # Points 30 m apart can still sit on both sides of 180°.
    angles = np.radians(lons)
    return float(np.degrees(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())))


def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = int(parent[i])
    return i


def _union(parent: np.ndarray, a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)
