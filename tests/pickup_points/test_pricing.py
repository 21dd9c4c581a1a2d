from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pickup_points.importers import import_csv
from pickup_points.pricing import destination, price_points
from router.core.models import DeliveryType, Eta, Offer, Place, PointType, Price, PriceLine, PriceLineKind
from tests.pickup_points.factories import point


def offer(carrier: str, total: str, service: str = "pickup", *kinds: PointType) -> Offer:
    return Offer(
        carrier=carrier,
        carrier_name=carrier.title(),
        service=service,
        service_name="To a pickup point",
        delivery_type=DeliveryType.PICKUP,
        price=Price.of([PriceLine(PriceLineKind.BASE, Decimal(total), "base")]),
        eta=Eta(2, 3, date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 5)),
        chargeable_weight_g=1000,
        id=f"{carrier}:{service}",
        point_types=frozenset(kinds),
    )


async def test_each_carrier_and_city_is_quoted_once_and_shared_by_its_points() -> None:
    asked: list[tuple[str, str | None]] = []

    async def quote_for(carrier: str, where: Place) -> list[Offer]:
        asked.append((carrier, where.city))
        return [offer(carrier, "300" if where.city == "Москва" else "500")]

    points = [
        point("1", network="a", city="Москва"),
        point("2", network="b", city="Москва"),
        point("3", network="a", city="Москва"),
        point("4", network="a", city="Тверь"),
        point("5", network="a", city="москва"),
    ]
    pricing = await price_points(points, quote_for)
    assert sorted(asked) == [("a", "Москва"), ("a", "Тверь"), ("b", "Москва")]
    assert pricing.quotes_asked == 3
    totals = [o.price.total if o else None for o in pricing.offers]
    assert totals == [Decimal("300.00"), Decimal("300.00"), Decimal("300.00"), Decimal("500.00"), Decimal("300.00")]
    assert [o.carrier for o in pricing.offers if o] == ["a", "b", "a", "a", "a"]


async def test_a_failing_carrier_leaves_only_its_points_unpriced() -> None:
    async def quote_for(carrier: str, where: Place) -> list[Offer]:
        if carrier == "broken":
            raise RuntimeError("upstream said no")
        return [] if carrier == "none" else [offer(carrier, "250")]

    points = [point("1", network="ok"), point("2", network="broken"), point("3", network="none")]
    pricing = await price_points(points, quote_for)
    assert [o is not None for o in pricing.offers] == [True, False, False]
    assert [(e.carrier, e.kind) for e in pricing.errors] == [("broken", "error")]
    assert "upstream said no" in pricing.errors[0].message


async def test_each_point_carries_the_offer_of_its_own_kind_from_one_quote() -> None:
    asked: list[str | None] = []

    async def quote_for(carrier: str, where: Place) -> list[Offer]:
        asked.append(where.city)
        # The locker tariff is the cheaper one: it must not reach an office.
        return [offer(carrier, "360", "136", PointType.PVZ), offer(carrier, "340", "368", PointType.LOCKER)]

    points = [
        point("1", network="cdek", type=PointType.PVZ),
        point("2", network="cdek", type=PointType.LOCKER),
        point("3", network="cdek", type=PointType.PVZ),
        point("4", network="cdek", type=PointType.STORE),
    ]
    pricing = await price_points(points, quote_for)
    assert asked == ["Москва"]
    assert [o.id if o else None for o in pricing.offers] == ["cdek:136", "cdek:368", "cdek:136", None]
    assert [o.price.total if o else None for o in pricing.offers][:2] == [Decimal("360.00"), Decimal("340.00")]


async def test_an_offer_for_any_kind_of_point_prices_every_kind_and_the_cheapest_fitting_wins() -> None:
    async def quote_for(carrier: str, where: Place) -> list[Offer]:
        return [offer(carrier, "400", "any"), offer(carrier, "380", "lockers", PointType.LOCKER)]

    points = [point("1", type=PointType.PVZ), point("2", type=PointType.LOCKER), point("3", type=PointType.POST)]
    pricing = await price_points(points, quote_for)
    assert [o.service if o else None for o in pricing.offers] == ["any", "lockers", "any"]


@pytest.mark.parametrize(("written", "region"), [("77", "RU-TVE"), ("RU-MOW", "RU-MOW"), ("Москва", "RU-MOW")])
def test_a_point_is_quoted_to_the_iso_3166_2_region_its_network_wrote_as_a_code_or_a_name(
    written: str, region: str
) -> None:
    (imported,) = import_csv(
        f"code,address,region,lat,lon,timezone,hours\n1,ул. Ленина 1,{written},55.75,37.62,Europe/Moscow,24/7\n", "net"
    ).points

    assert destination(imported).region == region
