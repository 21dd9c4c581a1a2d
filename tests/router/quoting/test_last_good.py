"""Last good answers: what counts as the same lane, and a store that fails or holds garbage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from router.core.models import Parcel
from router.quoting.last_good import LastGood, lane_key
from router.store import MemoryStore, StoreUnavailable
from tests.carriers.sandbox_fixtures import MOSCOW, MOSCOW_EAST, NOVOSIBIRSK, rate_request
from tests.router.fakes import make_offer

AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_the_lane_changes_with_what_prices_change_with() -> None:
    base = rate_request(MOSCOW, NOVOSIBIRSK)
    assert lane_key(base) == lane_key(rate_request(MOSCOW, NOVOSIBIRSK))
    others = [
        rate_request(MOSCOW, MOSCOW_EAST),
        rate_request(MOSCOW, replace(NOVOSIBIRSK, lat=NOVOSIBIRSK.lat + 0.001)),  # the courier prices each km
        rate_request(MOSCOW, replace(NOVOSIBIRSK, address="Красный проспект, 1")),
        rate_request(MOSCOW, NOVOSIBIRSK, parcels=(Parcel(4000, 30, 20, 10),)),
        rate_request(MOSCOW, NOVOSIBIRSK, parcels=(Parcel(1201, 30, 20, 10),)),  # CDEK's bands are unknown
        rate_request(MOSCOW, NOVOSIBIRSK, parcels=(Parcel(1200, 31, 20, 10),)),
        rate_request(MOSCOW, NOVOSIBIRSK, parcels=(Parcel(1200, 30, 20, 10), Parcel(1200, 30, 20, 10))),
        rate_request(MOSCOW, NOVOSIBIRSK, declared_value="30000"),
        rate_request(MOSCOW, NOVOSIBIRSK, declared_value="3000.01"),  # insurance is a share of it
        rate_request(MOSCOW, NOVOSIBIRSK, cod=True),
        rate_request(MOSCOW, NOVOSIBIRSK, ship_at=base.ship_at + timedelta(days=1)),
    ]
    assert len({lane_key(r) for r in others} | {lane_key(base)}) == len(others) + 1


def test_a_1001_g_parcel_and_a_1499_g_one_are_not_the_same_lane() -> None:
    light = rate_request(parcels=(Parcel(1001, 30, 20, 10),))
    assert lane_key(light) != lane_key(rate_request(parcels=(Parcel(1499, 30, 20, 10),)))


def test_the_same_parcel_as_the_carrier_is_sent_it_is_the_same_lane() -> None:
    base = rate_request(parcels=(Parcel(1200, 30, 20, 10), Parcel(500, 10, 10, 10)), declared_value="3000")
    same = [
        # Sides in whole centimetres, as CDEK is sent them, in any orientation; parcels in any order.
        rate_request(parcels=(Parcel(500, 10, 10, 10), Parcel(1200, 10, 29.2, 20)), declared_value="3000.00"),
        # Later the same day: the policy and the hour do not change a price.
        rate_request(
            parcels=(Parcel(1200, 30, 20, 10), Parcel(500, 10, 10, 10)),
            declared_value="3000",
            ship_at=base.ship_at + timedelta(hours=1),
        ),
    ]
    assert {lane_key(r) for r in same} == {lane_key(base)}


def test_the_ship_day_is_the_origins_local_day() -> None:
    # 22:30 UTC is already the next day in Moscow (UTC+3).
    late = rate_request(MOSCOW, NOVOSIBIRSK, ship_at=datetime(2025, 4, 10, 22, 30, tzinfo=UTC))
    next_morning = rate_request(MOSCOW, NOVOSIBIRSK, ship_at=datetime(2025, 4, 11, 6, 0, tzinfo=UTC))
    assert lane_key(late) == lane_key(next_morning)


async def test_an_answer_comes_back_whole_and_marked_stale() -> None:
    last_good = LastGood(MemoryStore())
    offers = (make_offer("cdek", "136", "512.40", 4), make_offer("cdek", "368", "492.40", 5))
    last_good.remember("cdek", "lane", offers, AS_OF)
    await last_good.flush()
    kept = await last_good.recall("cdek", "lane")
    assert kept is not None and kept.as_of == AS_OF
    assert kept.offers == tuple(replace(o, stale=True, as_of=AS_OF) for o in offers)
    assert await last_good.recall("other", "lane") is None


async def test_a_store_that_is_down_or_holds_garbage_means_no_stale_answer_not_an_error() -> None:
    class Down(MemoryStore):
        async def get(self, key: str) -> bytes | None:
            raise StoreUnavailable("down")

        async def set(self, key: str, value: bytes, ttl_s: float) -> None:
            raise StoreUnavailable("down")

    down = LastGood(Down())
    down.remember("cdek", "lane", (make_offer("cdek", "136", "100.00", 2),), AS_OF)
    await down.flush()
    assert await down.recall("cdek", "lane") is None

    store = MemoryStore()
    await store.set("lastgood:cdek:lane", b'{"as_of": "yesterday", "offers": []}', 60)
    assert await LastGood(store).recall("cdek", "lane") is None


async def test_answers_written_in_the_earlier_shape_are_still_read() -> None:
    import msgspec
    import orjson

    from router.core.codec import offer_answer

    store = MemoryStore()
    offers = (make_offer("cdek", "136", "512.40", 4),)
    earlier = {"as_of": AS_OF.isoformat(), "offers": [msgspec.to_builtins(offer_answer(o, [])) for o in offers]}
    await store.set("lastgood:cdek:lane", orjson.dumps(earlier), 60)
    kept = await LastGood(store).recall("cdek", "lane")
    assert kept is not None and kept.offers == tuple(replace(o, stale=True, as_of=AS_OF) for o in offers)


async def test_a_flat_answer_missing_a_field_is_no_stale_answer() -> None:
    import orjson

    store = MemoryStore()
    last_good = LastGood(store)
    last_good.remember("cdek", "lane", (make_offer("cdek", "136", "100.00", 2),), AS_OF)
    await last_good.flush()
    when, rows = orjson.loads(await store.get("lastgood:cdek:lane"))  # type: ignore[arg-type]
    assert rows[0][6] == "100.00"  # money kept as the exact decimal string
    # The point types and Russian names are the newest fields (older rows lack them); the weight
    # before them may not be missing.
    await store.set("lastgood:cdek:lane", orjson.dumps([when, [rows[0][:-4]]]), 60)
    assert await last_good.recall("cdek", "lane") is None


async def test_a_quotes_answers_reach_redis_in_one_batch_and_come_back(redis_url: str) -> None:
    import uuid

    from router.store import RedisStore, ResilientStore

    redis = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    store = ResilientStore(redis)
    calls: list[int] = []
    set_many = redis.set_many

    async def counted(items):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        await set_many(items)

    redis.set_many = counted  # type: ignore[method-assign]
    try:
        last_good = LastGood(store)
        answers = {
            c: (make_offer(c, "136", f"{100 + i}.10", 2 + i),) for i, c in enumerate(("cdek1", "cdek2", "cdek3"))
        }
        for carrier, offers in answers.items():
            last_good.remember(carrier, "lane", offers, AS_OF)
        await last_good.flush()
        assert calls == [3]
        for carrier, offers in answers.items():
            kept = await LastGood(store).recall(carrier, "lane")
            assert kept is not None and kept.offers == tuple(replace(o, stale=True, as_of=AS_OF) for o in offers)
    finally:
        for carrier in ("cdek1", "cdek2", "cdek3"):
            await redis.delete(f"lastgood:{carrier}:lane")
        await store.close()


async def test_offers_sharing_a_price_and_prices_alike_in_total_come_back_each_with_its_own() -> None:
    from router.core.models import Price, PriceLine, PriceLineKind

    last_good = LastGood(MemoryStore())
    whole = Price(Decimal("300.00"), (PriceLine(PriceLineKind.BASE, Decimal("300.00"), "delivery"),))
    split = Price(
        Decimal("300.00"),
        (
            PriceLine(PriceLineKind.BASE, Decimal("260.00"), "delivery"),
            PriceLine(PriceLineKind.FUEL, Decimal("40.00"), "fuel"),
        ),
    )
    # More prices than are packed ahead, so the shared ones are packed again along the way.
    for n in range(5000):
        own = Price(Decimal(n + 1), (PriceLine(PriceLineKind.BASE, Decimal(n + 1), "delivery"),))
        offers = tuple(
            replace(make_offer("cdek", service, "1.00", 3), price=price)
            for service, price in (("136", whole), ("137", whole), ("139", split), ("368", own))
        )
        last_good.remember("cdek", f"lane{n}", offers, AS_OF)
        if n % 97 == 0 or n == 4999:
            await last_good.flush()
            kept = await last_good.recall("cdek", f"lane{n}")
            assert kept is not None and kept.offers == tuple(replace(o, stale=True, as_of=AS_OF) for o in offers)


def test_a_kept_answer_keeps_the_kinds_of_point_its_offers_deliver_to() -> None:
    # A stale office tariff standing in for CDEK must not reach lockers again.
    from dataclasses import replace
    from datetime import UTC, datetime

    from router.core.models import PointType
    from router.quoting.last_good import _pack, _unpack

    office = replace(make_offer("cdek", "136", "360.00", 2), point_types=frozenset({PointType.PVZ}))
    import orjson

    row = orjson.loads(orjson.dumps(_pack(office)))  # as it is kept
    back = _unpack(row, datetime.now(UTC))
    assert back.point_types == {PointType.PVZ} and back.stale
    assert _unpack(row[:-3], datetime.now(UTC)).point_types == frozenset()  # kept before point types


def test_a_kept_answer_keeps_the_names_in_russian() -> None:
    # A Russian widget shown an estimate reads the carrier's Russian names, not the English ones.
    from datetime import UTC, datetime

    import orjson

    from router.quoting.last_good import _pack, _unpack

    offer = make_offer("cdek", "136", "360.00", 2)
    row = orjson.loads(orjson.dumps(_pack(offer)))
    back = _unpack(row, datetime.now(UTC))
    assert (back.carrier_name_ru, back.service_name_ru) == ("Перевозчик cdek", "Услуга 136")
    older = _unpack(row[:-2], datetime.now(UTC))  # kept before offers named themselves in Russian
    assert (older.carrier_name_ru, older.service_name_ru, older.carrier_name) == ("", "", "Cdek")
