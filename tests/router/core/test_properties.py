"""Properties that must hold for any input: parsers, money and delivery-date arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from router.core.calendar import add_working_days, is_working_day, make_eta
from router.core.errors import InvalidRequest
from router.core.models import Parcel, Price, PriceLine, PriceLineKind, money
from router.http.schemas.quotes import parse_quote_request

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
FIELDS = ["origin", "destination", "parcels", "declared_value", "cod", "ship_at", "policy"]


@given(st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=7)))
@settings(max_examples=400, deadline=None)
def test_any_json_body_parses_or_is_refused_with_named_fields(body: object) -> None:
    try:
        parse_quote_request(body, max_parcels=50, day_value=Decimal("50"))
    except InvalidRequest as exc:
        assert exc.errors and all(isinstance(e.path, str) and e.message for e in exc.errors)


amounts = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), allow_nan=False, places=4)


@given(st.lists(amounts, min_size=1, max_size=8))
def test_price_lines_always_sum_to_the_total(values: list[Decimal]) -> None:
    price = Price.of(PriceLine(PriceLineKind.OTHER, v, "x") for v in values)
    assert sum(line.amount for line in price.lines) == price.total
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in price.lines)


@given(amounts)
def test_money_rounds_half_up_to_kopecks_and_never_moves_more_than_half_a_kopeck(value: Decimal) -> None:
    rounded = money(value)
    assert abs(rounded - value) <= Decimal("0.005")
    assert rounded.as_tuple().exponent == -2


@given(
    st.integers(1, 100_000),
    st.floats(0.1, 300),
    st.floats(0.1, 300),
    st.floats(0.1, 300),
    st.sampled_from([4000, 5000, 6000]),
)
def test_chargeable_weight_is_the_larger_of_actual_and_volumetric(w: int, a: float, b: float, c: float, d: int) -> None:
    parcel = Parcel(w, a, b, c)
    charged = parcel.chargeable_weight_g(d)
    assert charged >= w and charged >= a * b * c * 1000 / d - 1e-6
    assert charged in (w, parcel.volumetric_weight_g(d))


zones = st.sampled_from(["Europe/Kaliningrad", "Europe/Moscow", "Asia/Novosibirsk", "Asia/Vladivostok", "Asia/Anadyr"])


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 1), timezones=st.just(UTC)),
    zones,
    st.times(),
    st.integers(0, 15),
    st.integers(0, 10),
)
@settings(max_examples=300, deadline=None)
def test_delivery_dates_are_working_days_in_order(
    ship_at: datetime, zone: str, cutoff: time, min_days: int, extra: int
) -> None:
    eta = make_eta(ship_at, zone, cutoff, min_days, min_days + extra)
    assert is_working_day(eta.ship_date)
    assert eta.ship_date <= eta.min_date <= eta.max_date
    assert eta.min_date == add_working_days(eta.ship_date, min_days)
    assert eta.max_date == add_working_days(eta.ship_date, min_days + extra)
    if min_days > 0:
        assert is_working_day(eta.min_date) and is_working_day(eta.max_date)
    # The parcel never leaves before it was handed over, nor more than two weeks later.
    assert timedelta(0) <= eta.ship_date - (ship_at - timedelta(hours=12)).date() <= timedelta(days=15)
