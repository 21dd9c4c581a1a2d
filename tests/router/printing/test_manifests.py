"""Manifests: the CSV read back by a machine with exact money, the PDF read for its totals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from pypdf import PdfReader

from router.printing import ManifestHeader, ManifestLine, manifest_csv, manifest_pdf

HEADER = ManifestHeader(
    carrier_code="cdek",
    carrier_name="СДЭК",
    warehouse_id="MSK-1",
    warehouse_address="Москва, ул. Складская, д. 5",
    day=date(2026, 12, 8),
    generated_at=datetime(2026, 12, 8, 17, 45, tzinfo=UTC),
)


def line(i: int) -> ManifestLine:
    return ManifestLine(
        shipment_id=f"shp_{i:05d}",
        tracking_number=f"10{i:011d}",
        shop_order_number=f"ORD-{i}",
        recipient_name=f"Получатель «{i}», Ёжиков",
        recipient_city="Новосибирск",
        recipient_address=f'ул. Советская, д. {i}, кв. "{i % 7}"',
        parcels=1 + i % 3,
        weight_g=1000 + i,
        declared_value_rub=Decimal("1000.10") + i,
        cod_rub=Decimal("0") if i % 2 else Decimal("1234.5"),
    )


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text().replace("\u00a0", " ") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_csv_reads_back_row_for_row_with_exact_money() -> None:
    lines = [line(i) for i in range(5)] + [
        ManifestLine("shp_x", "X1", "O1", "Ли", "Тверь", "пр. Ленина, 1", 1, 1, Decimal("0.1"), Decimal("99999999.995"))
    ]

    rows = list(csv.DictReader(io.StringIO(manifest_csv(HEADER, lines).decode("utf-8"))))

    assert len(rows) == len(lines)
    for row, expected in zip(rows, lines, strict=True):
        assert row["shipment_id"] == expected.shipment_id
        assert row["tracking_number"] == expected.tracking_number
        assert row["recipient_name"] == expected.recipient_name
        assert row["recipient_address"] == expected.recipient_address
        assert int(row["parcels"]) == expected.parcels
        assert int(row["weight_g"]) == expected.weight_g
        assert Decimal(row["declared_value_rub"]) == expected.declared_value_rub.quantize(Decimal("0.01"))
        assert Decimal(row["cod_rub"]) == expected.cod_rub.quantize(Decimal("0.01"))
        assert (row["carrier_code"], row["warehouse_id"], row["day"]) == ("cdek", "MSK-1", "2026-12-08")
    assert rows[0]["cod_rub"] == "1234.50"
    assert rows[1]["cod_rub"] == "0.00"
    assert rows[-1]["declared_value_rub"] == "0.10"


def test_the_csv_has_one_header_row_and_no_totals_row() -> None:
    text = manifest_csv(HEADER, [line(1), line(2)]).decode("utf-8")

    assert not text.startswith("\ufeff")
    assert text.splitlines()[0].startswith("carrier_code,warehouse_id,day,shipment_id,")
    assert len(text.splitlines()) == 3


def test_a_manifest_of_300_lines_runs_to_several_pages_and_ends_with_its_totals_and_signatures() -> None:
    lines = [line(i) for i in range(300)]

    pages = pdf_text(manifest_pdf(HEADER, lines))

    assert len(pages) >= 5
    everything = "\n".join(pages)
    assert all(f"shp_{i:05d}" in everything for i in range(300))
    # The column headings repeat on every page the table runs onto.
    assert all("Трек-номер" in page for page in pages if "shp_" in page)
    parcels = sum(x.parcels for x in lines)
    declared = sum(x.declared_value_rub for x in lines)
    assert declared == Decimal("344880.00")
    last = pages[-1]
    assert f"мест {parcels}" in last
    assert "вес 344.850 kg" in last
    assert "объявленная ценность 344 880,00 ₽" in last
    assert "наложенный платёж 185 175,00 ₽" in last
    assert "Сдал" in last and "Принял" in last


def test_the_pdf_header_names_the_carrier_the_warehouse_and_the_day() -> None:
    first = pdf_text(manifest_pdf(HEADER, [line(1)]))[0]

    assert "СДЭК" in first
    assert "MSK-1" in first and "Москва, ул. Складская, д. 5" in first
    assert "08.12.2026" in first


def test_an_empty_manifest_still_prints_zero_totals_and_the_signatures() -> None:
    only = pdf_text(manifest_pdf(HEADER, []))

    assert len(only) == 1
    assert "отправлений 0" in only[0] and "Сдал" in only[0]
