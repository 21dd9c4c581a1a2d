"""Re-rating history: invoice audit, what-if with day plans, tariff change, bad rows, the CLI.

The tariffs here are hand-written flat rate cards, so every expected price is known by hand.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from carriers.ratecard import load_ratecards
from router.allocation import DiscountTier, SolverOptions, Terms
from router.allocation.orders import RowError
from router.cli.main import main
from router.core.errors import PlaceNotFound
from router.core.models import Policy, PolicyKind, RateRequest
from router.core.settings import Settings
from router.quoting.engine import QuoteEngine
from router.quoting.places import Places
from router.quoting.selection import select
from router.rerating.results import Rerated, Tolerance, Verdict
from router.rerating.run import Rerater
from router.rerating.shipments import ColumnMap, HistoricalShipment, read_history

HEADER = "id,shipped_at,origin,destination,weight_g,length_cm,width_cm,height_cm,carrier,service,billed\n"


def flat_card(code: str, base: str) -> dict[str, Any]:
    """Any Russian shipment up to 30 kg for exactly `base` roubles."""
    return {
        "code": code,
        "name": {"ru": code.title(), "en": code.title()},
        "cutoff": "18:00",
        "countries": ["RU"],
        "zones": {"type": "distance", "bands": [{"zone": "ALL", "max_km": 20000}]},
        "services": [
            {
                "code": "std",
                "name": {"ru": "Стандарт", "en": "Standard"},
                "delivery_type": "courier",
                "limits": {"max_weight_g": 30000},
                "zones": {
                    "ALL": {
                        "base": base,
                        "weight_breaks": [{"max_g": 30000, "price": "0.00"}],
                        "transit_days": {"min": 2, "max": 3},
                    }
                },
            }
        ],
    }


def tariffs(root: Path, name: str, **bases: str) -> Path:
    directory = root / name
    directory.mkdir()
    for code, base in bases.items():
        (directory / f"{code}.json").write_text(json.dumps(flat_card(code, base)))
    return directory


@pytest.fixture(scope="module")
def places() -> Places:
    return Places()


def row(n: int, billed: str, carrier: str = "flat", day: str = "2026-09-01", destination: str = "Омск") -> str:
    return f"S{n},{day},Москва,{destination},1000,20,15,10,{carrier},std,{billed}\n"


def rerate(rater: Rerater, lines: list[str], columns: ColumnMap | None = None) -> list[Rerated | RowError]:
    async def go() -> list[Rerated | RowError]:
        return [item async for item in rater.run(read_history(lines, columns or ColumnMap()))]

    return asyncio.run(go())


# --- invoice audit


def test_the_audit_flags_exactly_the_bills_beyond_the_tolerance(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00")), places, tolerance=Tolerance.parse("1%"))
    # The tariff is 300.00; 1 % of it is 3.00.
    bills = ["300.00", "302.99", "303.00", "303.01", "450.00", "250.00", ""]
    out = [r for r in rerate(rater, [HEADER] + [row(i, b) for i, b in enumerate(bills)]) if isinstance(r, Rerated)]
    assert [r.verdict for r in out] == [
        Verdict.OK, Verdict.OK, Verdict.OK, Verdict.OVERBILLED, Verdict.OVERBILLED, Verdict.OK, Verdict.NOT_BILLED,
    ]  # fmt: skip
    assert [r.tariff for r in out] == [Decimal("300.00")] * len(bills)
    assert out[4].difference == Decimal("150.00")


def test_a_tolerance_in_roubles_is_an_absolute_margin(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00")), places, tolerance=Tolerance.parse("5"))
    out = rerate(rater, [HEADER, row(1, "305.00"), row(2, "305.01")])
    assert [r.verdict for r in out if isinstance(r, Rerated)] == [Verdict.OK, Verdict.OVERBILLED]


def test_a_carrier_missing_from_the_tariffs_is_reported_not_flagged(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00")), places)
    (out,) = rerate(rater, [HEADER, row(1, "999.00", carrier="gone")])
    assert isinstance(out, Rerated)
    assert out.verdict is Verdict.NO_TARIFF and "gone" in out.tariff_note


@pytest.mark.parametrize("text", ["-1%", "abc", "-5", "100%"])
def test_a_nonsense_tolerance_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Tolerance.parse(text)


# --- bad rows


def test_bad_rows_are_reported_with_their_line_and_the_rest_is_re_rated(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00")), places)
    lines = [
        HEADER,
        row(1, "300.00"),
        "S2,2026-09-01,Москва,Омск,-5,20,15,10,flat,std,300.00\n",
        "S3,2026-31-09,Москва,Омск,1000,20,15,10,flat,std,300.00\n",
        row(4, "3OO.00"),
        row(5, "300.00", destination="Qwzxyville"),
        "S6,2026-09-01,Москва\n",
        row(7, "300.00"),
    ]
    out = rerate(rater, lines)
    assert sorted(r.shipment.id for r in out if isinstance(r, Rerated)) == ["S1", "S7"]
    errors = {e.line: e.message for e in out if isinstance(e, RowError)}
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert errors[3].startswith("weight_g") and errors[4].startswith("shipped_at")
    assert errors[5].startswith("billed") and errors[6].startswith("destination")
    assert errors[7].startswith("destination")  # a short row: its later cells are empty


def test_columns_can_be_renamed(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00")), places)
    header = HEADER.replace("billed", "amount_rub").replace("carrier,", "partner,")
    out = rerate(rater, [header, row(1, "350.00")], ColumnMap({"billed": "amount_rub", "carrier": "partner"}))
    assert [r.verdict for r in out if isinstance(r, Rerated)] == [Verdict.OVERBILLED]


def test_a_missing_column_is_one_error_on_the_header(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00")), places)
    out = rerate(rater, [HEADER.replace("service,", ""), "S1,2026-09-01,Москва,Омск,1000,20,15,10,flat,300\n"])
    assert out == [RowError(1, "missing column(s): service")]


# --- tariff change


def test_the_tariff_change_is_new_minus_old_for_the_same_carrier(tmp_path: Path, places: Places) -> None:
    now = load_ratecards(tariffs(tmp_path, "now", flat="300.00", cheap="200.00"))
    old = load_ratecards(tariffs(tmp_path, "old", flat="300.00", cheap="200.00"))
    new = load_ratecards(tariffs(tmp_path, "new", flat="330.00", cheap="180.00"))
    rater = Rerater(now, places, compare=(old, new))
    out = [r for r in rerate(rater, [HEADER, row(1, "300.00"), row(2, "200.00", carrier="cheap")])]
    changes = {r.shipment.carrier: r.new - r.old for r in out if isinstance(r, Rerated) and r.new and r.old}
    assert changes == {"flat": Decimal("30.00"), "cheap": Decimal("-20.00")}


# --- what-if


def test_the_what_if_names_the_cheapest_carrier_and_the_saving(tmp_path: Path, places: Places) -> None:
    rater = Rerater(load_ratecards(tariffs(tmp_path, "now", flat="300.00", cheap="200.00")), places)
    (out,) = rerate(rater, [HEADER, row(1, "310.00")])
    assert isinstance(out, Rerated) and out.best is not None
    assert (out.best.carrier, out.best.price) == ("cheap", Decimal("200.00"))
    assert out.paid - out.best.price == Decimal("110.00")  # measured against what was billed


def test_day_plans_count_the_month_so_far_towards_a_tier(tmp_path: Path, places: Places) -> None:
    # cheap: 200 a parcel, 10 % off once the month reaches 3 parcels. Two shipments a day:
    # day 1 reaches 2 (no discount, 400.00); day 2 reaches 4: 400 − 40 = 360.00.
    terms = Terms(tiers=(DiscountTier("cheap", 3, Decimal(10)),))
    rater = Rerater(
        load_ratecards(tariffs(tmp_path, "now", cheap="200.00")), places, terms=terms,
        solver=SolverOptions(num_workers=1),
    )  # fmt: skip
    lines = [HEADER, row(1, "200.00", "cheap"), row(2, "200.00", "cheap")]
    lines += [row(3, "200.00", "cheap", "2026-09-02"), row(4, "200.00", "cheap", "2026-09-02")]
    out = [r for r in rerate(rater, lines) if isinstance(r, Rerated)]
    assert [r.plan.price for r in out if r.plan] == [Decimal(p) for p in ("200.00", "200.00", "180.00", "180.00")]
    assert [d.total_cost for d in rater.day_plans] == [Decimal("400.00"), Decimal("360.00")]


def test_a_capacity_moves_the_overflow_to_the_next_carrier_in_the_day_plan(tmp_path: Path, places: Places) -> None:
    from router.allocation import CarrierCapacity, Warehouse
    from router.core.models import Location

    terms = Terms(capacities=(CarrierCapacity("cheap", "MSK", 1),))
    rater = Rerater(
        load_ratecards(tariffs(tmp_path, "now", cheap="200.00", flat="300.00")), places, terms=terms,
        warehouses=(Warehouse("MSK", Location(city="Moscow")),), solver=SolverOptions(num_workers=1),
    )  # fmt: skip
    out = [r for r in rerate(rater, [HEADER, row(1, "300.00"), row(2, "300.00")]) if isinstance(r, Rerated)]
    assert sorted(r.plan.carrier for r in out if r.plan) == ["cheap", "flat"]
    assert rater.day_plans[0].total_cost == Decimal("500.00")


# --- agreement with quoting


async def test_a_shipment_re_rated_alone_costs_what_a_quote_says(places: Places) -> None:
    settings = Settings()
    carriers = load_ratecards(settings.carriers_dir)
    lines = [HEADER, "S1,2026-09-01,Москва,Новосибирск,1200,30,20,10,magistral,pickup,\n"]
    (record,) = [r for r in read_history(lines) if isinstance(r, HistoricalShipment)]
    rerated, _ = await Rerater(carriers, places).rate(record)
    quote = await QuoteEngine(carriers, places, settings).quote(record.shipment, Policy(PolicyKind.CHEAPEST))
    offer = next(o for o in quote.offers if o.id == "magistral:pickup")
    assert rerated.tariff == offer.price.total


CITIES = ("Москва", "Екатеринбург", "Новосибирск", "Омск", "Казань", "Saint Petersburg", "Kirov", "Norilsk", "Sochi")


def random_history(n: int, seed: int) -> list[HistoricalShipment]:
    """Shipments across weight breaks, size limits, declared values and COD, many sharing a lane."""
    from datetime import date, datetime, timedelta

    from router.core.models import Location, Parcel, Shipment
    from router.rerating.shipments import MOSCOW

    rng = random.Random(seed)
    out = []
    for i in range(n):
        origin, destination = rng.choice(CITIES[:3]), rng.choice(CITIES)
        weight = rng.choice((rng.randint(50, 3000), rng.randint(3000, 45_000), rng.choice((500, 1000, 2000, 5000))))
        sides = [rng.randint(1, 60), rng.randint(1, 60), rng.randint(1, 200 if rng.random() < 0.1 else 60)]
        parcels = tuple(Parcel(weight + 100 * k, *sides) for k in range(rng.choice((1, 1, 1, 2, 3))))
        declared = Decimal(rng.choice((0, 0, rng.randint(1, 50_000)))) / (100 if rng.random() < 0.3 else 1)
        moment = datetime.combine(date(2026, 9, 1) + timedelta(days=rng.randint(0, 20)), datetime.min.time(), MOSCOW)
        shipment = Shipment(
            Location(city=origin), Location(city=destination), parcels, declared, rng.random() < 0.3, moment
        )
        out.append(HistoricalShipment(i + 2, f"R{i}", moment, origin, destination, shipment, "", "", None))
    return out


@pytest.mark.parametrize("kind", [PolicyKind.CHEAPEST, PolicyKind.FASTEST, PolicyKind.BALANCED])
async def test_every_service_re_rated_costs_what_the_carriers_quote_and_the_pick_is_the_selections(
    places: Places, kind: PolicyKind
) -> None:
    # Prices are worked out once per lane and weight band; here every shipment is also quoted by
    # each carrier in full, so any band that lumps together shipments priced apart shows up.
    settings = Settings()
    carriers = load_ratecards(settings.carriers_dir)
    policy = Policy(kind=kind, day_value=Decimal("37.50"))
    rater = Rerater(carriers, places, policy=policy)
    compared = 0
    for record in random_history(1500, seed=len(kind.value)):
        try:
            origin = places.resolve(record.shipment.origin, "origin")
            destination = places.resolve(record.shipment.destination, "destination")
        except PlaceNotFound:
            continue
        request = RateRequest(record.shipment, origin, destination, record.shipped_at)
        offers = [o.with_id() for c in carriers for o in (await c.quote(request)).offers]
        rerated, quoted, _ = await rater.price(record)
        rates = quoted.rates()
        assert sorted((r.id, r.total, r.eta) for r in rates) == sorted((o.id, o.price.total, o.eta) for o in offers)
        chosen = select(offers, policy).recommended
        assert (f"{rerated.best.carrier}:{rerated.best.service}" if rerated.best else None) == chosen
        compared += len(offers)
    assert compared > 3000


async def test_lanes_priced_alike_share_fares_and_each_still_costs_what_its_quote_says(places: Places) -> None:
    # Fares are kept per card by what the card prices a lane on (zone, line-haul, started
    # kilometres), not per lane: over many demo lanes, a fare one lane found must be right for
    # every other lane that reuses it.
    from datetime import date, datetime

    from router.core.models import Location, Parcel, Shipment
    from router.rerating.demo_data import WAREHOUSES, _destinations
    from router.rerating.shipments import MOSCOW

    carriers = load_ratecards(Settings().carriers_dir)
    rater = Rerater(carriers, places)
    moment = datetime.combine(date(2026, 9, 1), datetime.min.time(), MOSCOW)
    parcels = (Parcel(700, 20, 15, 10), Parcel(2600, 40, 30, 20), Parcel(12_340, 60, 40, 40))
    names, _ = _destinations()
    compared = 0
    for _, origin, _ in WAREHOUSES:
        for destination in names[:40]:
            for n, parcel in enumerate(parcels):
                shipment = Shipment(
                    Location(city=origin), Location(city=destination), (parcel,), Decimal(0), False, moment
                )
                record = HistoricalShipment(n, f"L{n}", moment, origin, destination, shipment, "", "", None)
                request = RateRequest(
                    shipment, places.resolve(shipment.origin, "origin"),
                    places.resolve(shipment.destination, "destination"), moment,
                )  # fmt: skip
                offers = [o.with_id() for c in carriers for o in (await c.quote(request)).offers]
                _, quoted, _ = await rater.price(record)
                assert sorted((r.id, r.total, r.eta) for r in quoted.rates()) == sorted(
                    (o.id, o.price.total, o.eta) for o in offers
                )
                compared += len(offers)
    shared = sum(len(kept) for kept in rater._book._by_terms)
    assert shared < len(WAREHOUSES) * 40 * len(carriers)  # lanes did share
    assert compared > 1000


async def test_a_zone_charged_by_the_kilometre_keeps_each_distance_its_own_fare(tmp_path: Path, places: Places) -> None:
    card = flat_card("km", "100.00")
    card["services"][0]["zones"]["ALL"]["per_km"] = "0.50"
    (tmp_path / "km").mkdir()
    (tmp_path / "km" / "km.json").write_text(json.dumps(card))
    rater = Rerater(load_ratecards(tmp_path / "km"), places)
    lines = [HEADER] + [row(n, "300.00", "km", destination=city) for n, city in enumerate(CITIES[1:], start=1)]
    out = [r async for r in rater.run(read_history(lines)) if isinstance(r, Rerated)]
    quotes = QuoteEngine(load_ratecards(tmp_path / "km"), places, Settings())
    expected = [
        next(o.price.total for o in (await quotes.quote(r.shipment.shipment, Policy(PolicyKind.CHEAPEST))).offers)
        for r in out
    ]
    assert [r.tariff for r in out] == expected
    assert len(set(expected)) == len(expected)  # one zone, every distance its own price


async def test_a_refused_service_is_explained_in_the_carriers_own_words(places: Places) -> None:
    carriers = load_ratecards(Settings().carriers_dir)
    lines = [HEADER, "S1,2026-09-01,Москва,Новосибирск,1200,30,20,10,magistral,pickup,\n",
             "S2,2026-09-01,Москва,Новосибирск,1250,30,20,10,magistral,pickup,\n",
             "S3,2026-09-01,Москва,Новосибирск,1200,30,20,300,magistral,pickup,\n"]  # fmt: skip
    records = [r for r in read_history(lines) if isinstance(r, HistoricalShipment)]
    rater = Rerater(carriers, places)
    (_, _, oversize) = [(await rater.price(r))[0] for r in records]
    assert oversize.tariff is None and "300 cm" in oversize.tariff_note


# --- the command


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_the_command_writes_its_files_and_exits_3_when_rows_were_rejected(tmp_path: Path) -> None:
    now = tariffs(tmp_path, "now", flat="300.00", cheap="200.00")
    lines = [HEADER.replace("billed", "amount_rub"), row(1, "300.00"), row(2, "450.00")]
    source = write(tmp_path / "history.csv", [*lines, "S3,2026-09-01,Москва,Омск,0,1,1,1,flat,std,1\n"])
    out, rejects, chart = tmp_path / "rows.csv", tmp_path / "rejects.csv", tmp_path / "chart.png"
    result = CliRunner().invoke(
        main,
        ["rerate", str(source), "--tariffs", str(now), "--map", "billed=amount_rub", "--out", str(out),
         "--rejects", str(rejects), "--chart", str(chart), "--json"],
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["rejected"], summary["overbilled"]) == (3, 1, 1)
    assert summary["total"]["audit"]["overcharge"] == "150.00"
    assert summary["total"]["what_if"]["saving"] == "350.00"  # 300 − 200 and 450 − 200
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["id"], r["verdict"], r["best_carrier"]) for r in rows] == [
        ("S1", "ok", "cheap"),
        ("S2", "overbilled", "cheap"),
    ]
    assert list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8")))) == [
        ["line", "reason"],
        ["4", "weight_g: 0 is not between 1 and 1000000"],
    ]
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_the_command_prints_tables_and_exits_0_on_a_clean_file(tmp_path: Path) -> None:
    now = tariffs(tmp_path, "now", flat="300.00")
    source = write(tmp_path / "history.csv", [HEADER, row(1, "300.00"), row(2, "400.00")])
    result = CliRunner().invoke(main, ["rerate", str(source), "--tariffs", str(now), "--tolerance", "5"])
    assert result.exit_code == 0, result.output
    assert "Invoice audit: 1 shipment(s)" in result.output and "100.00" in result.output


def test_the_report_names_a_region_by_its_city_and_iso_3166_2_code(tmp_path: Path) -> None:
    now = tariffs(tmp_path, "now", flat="300.00")
    source = write(tmp_path / "history.csv", [HEADER, row(1, "300.00"), row(2, "300.00", destination="Новосибирск")])
    result = CliRunner().invoke(main, ["rerate", str(source), "--tariffs", str(now)])
    assert result.exit_code == 0, result.output
    assert "Omsk (RU-OMS)" in result.output and "Novosibirsk (RU-NVS)" in result.output


def test_an_unknown_mapped_field_is_a_usage_error(tmp_path: Path) -> None:
    source = write(tmp_path / "history.csv", [HEADER, row(1, "300.00")])
    result = CliRunner().invoke(main, ["rerate", str(source), "--map", "price=amount"])
    assert result.exit_code == 2 and "unknown field" in result.output


def test_a_file_re_rated_on_two_processes_reads_as_if_on_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from router.cli import rerate as rerate_cli
    from router.rerating import pool as rerate_pool

    now = tariffs(tmp_path, "now", flat="300.00", cheap="200.00")
    lines = [HEADER]
    for n in range(1, 400):
        day = f"2026-09-{1 + n // 40:02d}"
        lines.append(row(n, f"{300 + n % 7 * 10}.00", "flat" if n % 3 else "cheap", day))
        if n % 97 == 0:
            lines.append(f'S{n}b,{day},Москва,"Qwz\nxy",1000,20,15,10,flat,std,300\n')  # two lines, one row
        if n % 61 == 0:
            lines.append(f"S{n}c,{day},Москва,Омск,0,20,15,10,flat,std,300\n")
    source = write(tmp_path / "history.csv", lines)
    monkeypatch.setattr(rerate_cli, "POOL_FROM_BYTES", 0)
    monkeypatch.setattr(rerate_pool, "BLOCK_BYTES", 700)  # dozens of chunks, cut inside the quoted row too

    def run(workers: int) -> tuple[str, str, dict[str, Any]]:
        out, rejects = tmp_path / f"rows{workers}.csv", tmp_path / f"rejects{workers}.csv"
        result = CliRunner().invoke(
            main,
            ["rerate", str(source), "--tariffs", str(now), "--out", str(out), "--rejects", str(rejects), "--json",
             "--workers", str(workers)],
        )  # fmt: skip
        assert result.exit_code == 3, result.output
        return out.read_text(encoding="utf-8"), rejects.read_text(encoding="utf-8"), json.loads(result.stdout)

    alone, pooled = run(1), run(2)
    assert pooled == alone
    assert alone[2]["rejected"] == 10 and alone[2]["day_plans"]["days"] == 10
    rejected = [r["line"] for r in csv.DictReader(io.StringIO(alone[1]))]
    assert rejected[:3] == ["63", "101", "127"]  # a row over two lines is told by its last, as csv counts


def test_the_cheapest_offer_is_picked_as_the_full_key_would_pick_it() -> None:
    from datetime import date, timedelta

    from router.core.models import Eta
    from router.rerating.prices import Rate
    from router.rerating.run import _best

    rng = random.Random(5)
    start = date(2026, 8, 3)
    cheapest = Policy(kind=PolicyKind.CHEAPEST)
    for _ in range(300):
        rates = []
        for _ in range(rng.randint(1, 6)):
            carrier, service = rng.choice(["a", "b", "c"]), rng.choice(["x", "y"])
            end = start + timedelta(days=rng.randint(1, 3))
            # Few prices, written with one or two decimals: ties on the amount are common.
            total = Decimal(rng.choice(["100", "100.0", "100.00", "99.99", "120.5"]))
            rates.append(Rate(carrier, service, total, Eta(1, 3, start, start, end), f"{carrier}:{service}"))
        expected = min(rates, key=lambda r: (r.total, r.eta.max_date, r.id))
        assert _best(rates, cheapest, Decimal(0)) is expected


def test_a_text_cell_is_quoted_as_the_csv_module_quotes_it() -> None:
    from router.rerating.report import _quoted

    rng = random.Random(11)
    alphabet = ["a", "Я", " ", ",", '"', "\r", "\n", ";", "'", "\t", "-"]
    texts = ["", '"', ",", "\r\n"] + ["".join(rng.choices(alphabet, k=rng.randint(1, 8))) for _ in range(3000)]
    for text in texts:
        out = io.StringIO()
        csv.writer(out).writerow(["x", text])
        assert "x," + _quoted(text) + "\r\n" == out.getvalue(), repr(text)


def test_each_row_keeps_its_own_shipping_time_when_two_rows_name_one_moment_in_different_zones(tmp_path: Path) -> None:
    now = tariffs(tmp_path, "now", flat="300.00")
    moments = ["2026-09-01T10:00:00+03:00", "2026-09-01T07:00:00+00:00", "2026-09-01T10:00:00+03:00"]
    lines = [row(n, "300.00", day=moment) for n, moment in enumerate(moments, 1)]
    source = write(tmp_path / "history.csv", [HEADER, *lines])
    out = tmp_path / "rows.csv"
    result = CliRunner().invoke(main, ["rerate", str(source), "--tariffs", str(now), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["shipped_at"] for r in rows] == moments
