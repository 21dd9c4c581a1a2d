"""`carrier-router shipments|manifest` and `allocate --book`, on the records the API books into."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from router.cli import shipments as shipments_cli
from router.cli.main import main
from router.core.models import Location, Parcel, Policy, PolicyKind
from router.core.models import Shipment as QuoteShipment
from router.core.settings import Settings
from router.quoting.book import OPEN
from router.quoting.wiring import open_engine
from router.shipping.model import Contact, Recipient, Shipment, ShipmentRequest
from router.shipping.ordering import read_quote
from router.shipping.shipper import working
from router.tracking.wiring import shipper_for
from tests.pdfs import barcodes, pages

# `open_engine` restores the track record in the background; a command shorter than that restore
# cancels it mid-query, and SQLite's worker thread may then answer a loop already closed. The
# command's own work is done by then: the warning is the wiring's, not these commands'.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception in thread .*_connection_worker_thread:pytest.PytestUnhandledThreadExceptionWarning"
)

RECIPIENT = Recipient(name="Анна Петрова", phone="+7 913 123-45-67")
SENDER = Contact(name="Склад Москва", phone="+7 495 123-45-67", company="Магазин")
ORDERS_HEADER = (
    "id,destination,weight_g,length_cm,width_cm,height_cm,recipient_name,recipient_phone,pickup_point_id,exclude"
)
A_VESTNIK_POINT = "vestnik:02379"  # in Novosibirsk


@pytest.fixture
def env(records_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": records_url, "CARRIER_ROUTER_STATE": str(tmp_path / "state"), "COLUMNS": "220"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def book(env: dict[str, str], order_numbers: list[str], offer_id: str = "magistral:door") -> list[Shipment]:
    """Shipments booked as `POST /v1/shipments` books them: a held quote, then the Shipper."""
    settings = Settings.from_env(env)

    async def go() -> list[Shipment]:
        async with (
            open_engine(settings) as wired,
            working(shipper_for(wired, settings, lambda _: None), run_jobs=False) as shipper,
        ):
            shipment = QuoteShipment(
                Location(city="Москва"),
                Location(city="Новосибирск", address="ул. Ленина, 1"),
                (Parcel(1200, 30, 20, 10),),
            )
            held = await wired.book.create(wired.engine, shipment, Policy(PolicyKind.CHEAPEST), owner=OPEN)
            quote = read_quote(held.body)
            made = []
            for number in order_numbers:
                request = ShipmentRequest(
                    quote_id=quote.quote_id,
                    offer_id=offer_id,
                    order_number=number,
                    recipient=RECIPIENT,
                    sender=SENDER,
                    warehouse="MSK",
                )
                answer, _ = await shipper.book(request, owner=OPEN, idempotency_key=str(uuid.uuid4()), readers={OPEN})
                made.append(answer)
            await shipper.runner.drain()  # however busy the machine, each booking decided
            return [await shipper.get(s.id, OPEN) for s in made]

    return asyncio.run(go())


def listed(env: dict[str, str], *filters: str) -> list[dict[str, Any]]:
    result = run(env, "shipments", "list", "--json", *filters)
    assert result.exit_code == 0, result.output + result.stderr
    return list(orjson.loads(result.stdout)["shipments"])


def test_booked_shipments_are_listed_newest_first_and_filtered(env: dict[str, str]) -> None:
    made = book(env, ["N-1", "N-2", "N-3"])

    assert [s["order_number"] for s in listed(env)] == ["N-3", "N-2", "N-1"]
    assert [s["order_number"] for s in listed(env, "--order-number", "N-2")] == ["N-2"]
    assert listed(env, "--carrier", "sibgonets") == []
    assert len(listed(env, "--status", "booked", "--date", made[0].ship_date.isoformat())) == 3
    assert [s["order_number"] for s in listed(env, "--limit", "2")] == ["N-3", "N-2"]
    table = run(env, "shipments", "list")
    assert table.exit_code == 0
    assert all(s.id in table.stdout and s.tracking_number in table.stdout for s in made if s.tracking_number)
    assert "3 shipment(s)" in table.stdout


def test_a_shipment_is_shown_with_who_sends_and_receives_it(env: dict[str, str]) -> None:
    (made,) = book(env, ["N-1"])

    shown = run(env, "shipments", "show", made.id)
    as_json = orjson.loads(run(env, "shipments", "show", made.id, "--json").stdout)

    assert shown.exit_code == 0, shown.output
    assert made.tracking_number and made.tracking_number in shown.stdout
    assert "Анна Петрова" in shown.stdout and "Склад Москва" in shown.stdout
    assert as_json["id"] == made.id and as_json["recipient"]["name"] == "Анна Петрова"
    assert as_json["booking_job"]["state"] == "done" and as_json["calls"] == []


def test_another_owners_shipments_are_not_found_and_an_owner_nobody_is_refused(env: dict[str, str]) -> None:
    (made,) = book(env, ["N-1"])
    created = run(env, "keys", "create", "--name", "shop-b")
    assert created.exit_code == 0, created.output
    other = created.stdout.split()[0]

    assert listed(env, "--owner", other) == []
    shown = run(env, "shipments", "show", made.id, "--owner", other)
    assert shown.exit_code == 1 and f"no shipment '{made.id}'" in shown.stderr
    nobody = run(env, "shipments", "list", "--owner", "key_typo")
    assert nobody.exit_code == 2 and "'key_typo' is no API key id" in nobody.stderr


def test_a_label_barcode_reads_back_as_the_tracking_number(env: dict[str, str], tmp_path: Path) -> None:
    (made,) = book(env, ["N-1"])
    out = tmp_path / "label.pdf"

    result = run(env, "shipments", "label", made.id, "-o", str(out))

    assert result.exit_code == 0, result.output
    assert barcodes(out.read_bytes()) == [made.tracking_number]


def test_a_batch_of_labels_is_fetched_in_chunks_into_one_pdf_in_the_order_asked(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = book(env, ["N-1", "N-2", "N-3"])
    monkeypatch.setattr(shipments_cli, "LABEL_CHUNK", 2)
    a6, a4 = tmp_path / "a6.pdf", tmp_path / "a4.pdf"
    ids = [s.id for s in reversed(made)]

    assert run(env, "shipments", "label", *ids, "-o", str(a6)).exit_code == 0
    assert run(env, "shipments", "label", *ids, "--format", "a4", "-o", str(a4)).exit_code == 0

    pdf = a6.read_bytes()
    assert len(pages(pdf)) == 3
    assert [barcodes(pdf, n) for n in range(3)] == [[s.tracking_number] for s in reversed(made)]
    assert len(pages(a4.read_bytes())) == 1  # four to a sheet, across the chunks
    assert sorted(barcodes(a4.read_bytes())) == sorted(s.tracking_number or "" for s in made)


def test_a_cancelled_shipment_is_listed_as_cancelled_and_has_no_label(env: dict[str, str], tmp_path: Path) -> None:
    (made,) = book(env, ["N-1"])

    cancelled = run(env, "shipments", "cancel", made.id)
    again = run(env, "shipments", "cancel", made.id)
    label = run(env, "shipments", "label", made.id, "-o", str(tmp_path / "x.pdf"))

    assert cancelled.exit_code == 0 and f"{made.id} is cancelled" in cancelled.stdout
    assert again.exit_code == 0
    assert [s["id"] for s in listed(env, "--status", "cancelled")] == [made.id]
    assert label.exit_code == 1 and "cancelled: it has no label" in label.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_a_partners_manifest_lists_the_days_booked_parcels(env: dict[str, str], tmp_path: Path) -> None:
    made = book(env, ["N-1", "N-2"])
    day = made[0].ship_date.isoformat()
    out, pdf = tmp_path / "manifest.csv", tmp_path / "manifest.pdf"

    result = run(env, "manifest", "--carrier", "magistral", "--date", day, "--warehouse", "MSK", "-o", str(out))
    as_pdf = run(env, "manifest", "--carrier", "magistral", "--date", day, "--format", "pdf", "-o", str(pdf))
    other_day = run(env, "manifest", "--carrier", "magistral", "--date", "2020-01-01", "-o", str(out.with_name("e")))

    assert result.exit_code == 0 and as_pdf.exit_code == 0 and other_day.exit_code == 0
    lines = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert sorted((r["shop_order_number"], r["tracking_number"]) for r in lines) == sorted(
        (s.order_number, s.tracking_number) for s in made
    )
    assert {r["warehouse_id"] for r in lines} == {"MSK"}
    assert pdf.read_bytes().startswith(b"%PDF")
    assert list(csv.DictReader(io.StringIO(out.with_name("e").read_text(encoding="utf-8")))) == []


def test_a_manifest_for_a_carrier_with_an_api_or_none_is_refused_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run(env, "manifest", "--carrier", "nobody", "--date", "2026-12-08", "-o", str(tmp_path / "m.csv"))

    assert result.exit_code == 1 and "no carrier 'nobody' is booked through this service" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def orders_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([ORDERS_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def allocate_and_book(env: dict[str, str], orders: Path) -> Result:
    return run(
        env, "allocate", str(orders), "--warehouse", "MSK=Москва", "--book",
        "--sender-name", "Склад Москва", "--sender-phone", "+7 495 123-45-67",
    )  # fmt: skip


def test_allocate_book_books_each_planned_order_once_and_lists_those_it_cannot(
    env: dict[str, str], tmp_path: Path
) -> None:
    orders = orders_file(
        tmp_path,
        f"A-1,Новосибирск,1200,30,20,10,Анна Петрова,+7 913 123-45-67,{A_VESTNIK_POINT},domovoy",
        f"A-2,Новосибирск,800,20,20,10,Иван Сидоров,8 912 123-45-67,{A_VESTNIK_POINT},domovoy",
        "A-3,Новосибирск,900,20,10,10,,,,domovoy",
    )

    first = allocate_and_book(env, orders)
    second = allocate_and_book(env, orders)

    assert first.exit_code == 4, first.output + first.stderr
    assert "not booked: A-3" in first.stdout and "no recipient_name, recipient_phone" in first.stdout
    booked = listed(env)
    assert sorted(s["order_number"] for s in booked) == ["A-1", "A-2"]
    assert {s["status"] for s in booked} == {"booked"} and {s["pickup_point_id"] for s in booked} == {A_VESTNIK_POINT}
    assert "manifest --carrier vestnik" in first.stdout
    assert second.exit_code == 4
    assert len(listed(env)) == 2  # nothing booked twice
    summary = next(line for line in second.stdout.splitlines() if line.startswith("│ all"))
    assert summary.split("│")[2:6] == ["      0 ", "             2 ", "       0 ", "      1 "]


def test_allocate_book_without_a_sender_refuses_before_booking(env: dict[str, str], tmp_path: Path) -> None:
    orders = orders_file(tmp_path, f"A-1,Новосибирск,1200,30,20,10,Анна,+79131234567,{A_VESTNIK_POINT},")

    half = run(env, "allocate", str(orders), "--warehouse", "MSK=Москва", "--book", "--sender-name", "Склад")
    no_book = run(
        env, "allocate", str(orders), "--warehouse", "MSK=Москва", "--sender-name", "S", "--sender-phone", "1"
    )

    assert half.exit_code == 2 and "give both --sender-name and --sender-phone" in half.stderr
    assert no_book.exit_code == 2 and "are for --book" in no_book.stderr
    assert listed(env) == []


def test_a_partners_pickup_is_recorded_and_points_to_its_manifest_and_can_be_called_off(env: dict[str, str]) -> None:
    made = book(env, ["N-1", "N-2"])
    day = made[0].ship_date.isoformat()
    where = ["--address", "ул. Складская, 1", "--city", "Москва", "--warehouse", "MSK"]
    who = ["--contact-name", "Кладовщик", "--contact-phone", "+7 495 123-45-67"]

    asked = run(env, "pickups", "request", *(s.id for s in made), "--carrier", "magistral", "--date", day, *where, *who)
    bad = run(env, "pickups", "request", "--carrier", "magistral", "--date", day, "--from", "25:00", *where, *who)

    assert asked.exit_code == 0, asked.output + asked.stderr
    pickup_id = asked.stdout.split(":", 1)[0]
    assert pickup_id.startswith("pku_") and "requested, 2 shipment(s), 2400 g" in asked.stdout
    assert f"GET /v1/manifests?carrier=magistral&date={day}" in asked.stdout
    assert bad.exit_code == 2 and "time_from" in bad.stderr
    cancelled = run(env, "pickups", "cancel", pickup_id)
    assert cancelled.exit_code == 0 and f"{pickup_id} is cancelled" in cancelled.stdout
