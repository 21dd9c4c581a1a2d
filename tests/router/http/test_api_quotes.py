from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from router.core.settings import Settings
from router.http import appkeys as keys
from router.quoting.engine import QuoteEngine
from tests.router.fakes import FakeCarrier

MOSCOW_NOVOSIBIRSK: dict[str, Any] = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
    "declared_value": "3000",
}


async def test_moscow_to_novosibirsk_gets_offers_from_several_carriers_with_honest_prices(make_api) -> None:
    api = await make_api()
    resp = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    assert resp.status == 201
    quote = await resp.json()
    offers = quote["offers"]
    assert len({o["carrier"] for o in offers}) >= 4
    assert {o["delivery_type"] for o in offers} == {"courier", "pickup"}
    for offer in offers:
        lines = [Decimal(line["amount"]) for line in offer["price"]["breakdown"]]
        assert sum(lines) == Decimal(offer["price"]["total"])
        assert offer["eta"]["min_date"] <= offer["eta"]["max_date"]
        assert offer["eta"]["ship_date"] <= offer["eta"]["min_date"]
    rec = quote["recommended"]
    assert rec["offer_id"] in {o["id"] for o in offers}
    assert rec["reason"]
    assert "recommended" in next(o for o in offers if o["id"] == rec["offer_id"])["tags"]


async def test_a_quote_carries_iso_3166_2_regions(make_api) -> None:
    api = await make_api()
    quote = await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).json()

    assert (quote["origin"]["region"], quote["destination"]["region"]) == ("RU-MOW", "RU-NVS")


async def test_a_city_with_coordinates_elsewhere_is_a_422_naming_both(make_api) -> None:
    api = await make_api()
    body = {**MOSCOW_NOVOSIBIRSK, "destination": {"city": "Новосибирск", "lat": 55.0, "lon": 37.0}}

    resp = await api.post("/v1/quotes", json=body)

    assert resp.status == 422 and resp.content_type == "application/problem+json"
    paths = [e["path"] for e in (await resp.json())["errors"]]
    assert paths == ["destination.city", "destination.lat", "destination.lon"]


async def test_a_quote_is_returned_unchanged_until_it_expires(make_api) -> None:
    api = await make_api()
    created = await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).read()
    quote_id = (await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).json())["quote_id"]
    again = await api.get(f"/v1/quotes/{quote_id}")
    assert again.status == 200
    assert await again.read() == created


async def test_an_identical_request_is_answered_from_cache(make_api) -> None:
    api = await make_api()
    first = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    second = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert (await first.json())["quote_id"] == (await second.json())["quote_id"]
    heavier = {**MOSCOW_NOVOSIBIRSK, "parcels": [{**MOSCOW_NOVOSIBIRSK["parcels"][0], "weight_g": 5000}]}
    third = await api.post("/v1/quotes", json=heavier)
    assert third.headers["X-Cache"] == "miss"


async def test_an_expired_quote_is_gone_with_a_clear_body(make_api) -> None:
    api = await make_api()
    quote_id = (await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).json())["quote_id"]
    book = api.server.app[keys.QUOTES]
    book._clock = lambda: datetime.now(UTC) + timedelta(hours=1)
    resp = await api.get(f"/v1/quotes/{quote_id}")
    assert resp.status == 410
    assert resp.content_type == "application/problem+json"
    assert quote_id in (await resp.json())["detail"]


async def test_an_unknown_quote_is_404_problem_json(make_api) -> None:
    api = await make_api()
    resp = await api.get("/v1/quotes/q_nope")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"


async def test_quotes_live_in_redis_when_redis_is_configured(make_api, redis_url: str, redis_prefix: str) -> None:
    import redis

    api = await make_api(Settings(redis_url=redis_url, redis_prefix=redis_prefix))
    quote_id = (await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).json())["quote_id"]
    direct = redis.Redis.from_url(redis_url)
    try:
        assert direct.exists(f"{redis_prefix}quote:{quote_id}") == 1
        assert direct.pttl(f"{redis_prefix}quote:{quote_id}") > Settings().quote_ttl_s * 1000
        assert direct.exists(f"cr:quote:{quote_id}") == 0
    finally:
        direct.close()
    health = await (await api.get("/healthz")).json()
    assert health["store"] == {"backend": "redis", "ok": True, "fallback": None, "memory": None}


async def test_a_hanging_carrier_costs_no_more_than_the_deadline(make_api) -> None:
    async def add_stuck_carrier(app) -> None:  # type: ignore[no-untyped-def]
        real = app[keys.ENGINE]
        stuck = FakeCarrier("stuck", behaviour="hang")
        app[keys.ENGINE] = QuoteEngine([*real.carriers, stuck], app[keys.PLACES], app[keys.SETTINGS])

    api = await make_api(Settings(deadline_s=0.3, carrier_timeout_s=0.3), on_startup=add_stuck_carrier)
    resp = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    quote = await resp.json()
    assert resp.status == 201
    assert len(quote["offers"]) > 0
    assert [(e["carrier"], e["kind"]) for e in quote["errors"]] == [("stuck", "timeout")]


async def test_carriers_are_listed_with_their_services(make_api) -> None:
    api = await make_api()
    carriers = (await (await api.get("/v1/carriers")).json())["carriers"]
    assert len(carriers) >= 6
    assert all(c["services"] for c in carriers)


def test_the_cache_key_moves_with_the_hour_and_the_place_and_is_written_as_before() -> None:
    import hashlib

    import orjson

    from router.core.models import Location, Parcel, Place, Policy, Shipment
    from router.quoting.book import QuoteBook
    from router.store import MemoryStore

    now = [datetime(2026, 11, 23, 9, 59, 59, tzinfo=UTC)]
    book = QuoteBook(MemoryStore(), Settings(), clock=lambda: now[0])
    moscow = Place(55.75583, 37.61730, "RU", "Москва", "48", "Europe/Moscow")
    kazan = Place(55.78874, 49.12214, "RU", "Казань", "73", "Europe/Moscow")
    shipment = Shipment(
        Location(city="Москва"), Location(city="Казань"), (Parcel(1200, 30, 20, 10),), Decimal("3000.50")
    )
    key = book.cache_key(shipment, Policy(), moscow, kazan)
    # The key's parts, as they were written before the hour and the places were remembered.
    parts = [
        "",
        [55.75583, 37.6173, "RU", "Москва", None, None],
        [55.78874, 49.12214, "RU", "Казань", None, None],
        [[1200, 30, 20, 10]],
        "3000.5",
        False,
        "2026-11-23T09",
        "balanced",
        "5E+1",
        None,
        [],
        [],
        None,
        None,
    ]
    assert key == hashlib.blake2b(orjson.dumps(parts), digest_size=16).hexdigest()
    assert book.cache_key(shipment, Policy(), moscow, kazan) == key
    assert book.cache_key(shipment, Policy(), kazan, moscow) != key
    # Another caller, or another street in the same city, never shares the entry.
    assert book.cache_key(shipment, Policy(), moscow, kazan, owner="key_b") != key
    street = Place(55.75583, 37.61730, "RU", "Москва", "48", "Europe/Moscow", address="Тверская, 1, кв. 5")
    assert book.cache_key(shipment, Policy(), street, kazan) != key
    now[0] += timedelta(seconds=1)  # 10:00: a cut-off may have passed
    assert book.cache_key(shipment, Policy(), moscow, kazan) != key
    now[0] += timedelta(days=1, hours=-1)  # the same hour, a day later
    assert book.cache_key(shipment, Policy(), moscow, kazan) != key


async def test_the_quote_book_keeps_resolved_ends_per_engine_and_never_keeps_a_failure() -> None:
    import pytest

    from router.core.errors import PlaceNotFound
    from router.core.models import Location, Parcel, Place, Policy, Shipment
    from router.quoting.book import QuoteBook
    from router.store import MemoryStore

    class Ends:
        """Resolves every location to its own place, counting the questions; one city is unknown."""

        def __init__(self, lat: float) -> None:
            self.lat, self.asked = lat, 0

        def resolve(self, location: Location, path: str) -> Place:
            self.asked += 1
            if location.city == "Нигде":
                raise PlaceNotFound(f"{path}.city", "unknown city")
            return Place(self.lat, 37.6, "RU", location.city, None, "Europe/Moscow")

    def engine(places: Ends) -> QuoteEngine:
        return QuoteEngine([FakeCarrier("a")], places, Settings())  # type: ignore[arg-type]

    book = QuoteBook(MemoryStore(), Settings())
    first, second = Ends(55.0), Ends(56.0)
    parcels = (Parcel(1200, 30, 20, 10),)
    trip = Shipment(Location(city="Москва"), Location(city="Казань"), parcels)
    one = engine(first)
    stored = [await book.create(one, trip, Policy(), owner="open") for _ in range(3)]
    assert first.asked == 2 and [s.cached for s in stored] == [False, True, True]
    other = await book.create(engine(second), trip, Policy(), owner="open")  # another engine's places are its own
    assert second.asked == 2 and not other.cached and b'"lat":56.0' in other.body
    nowhere = Shipment(Location(city="Москва"), Location(city="Нигде"), parcels)
    for _ in range(2):
        with pytest.raises(PlaceNotFound):
            await book.create(one, nowhere, Policy(), owner="open")
    assert first.asked == 2 + 2 * 2
