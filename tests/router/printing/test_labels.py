"""Labels as a scanner and a reader see them: the PDF rasterised and its Code 128 decoded, its text
extracted; label PDFs merged at A6 and four to an A4 page."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import zxingcpp
from pypdf import PdfReader, PdfWriter
from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from router.printing import LabelData, LabelNotPdf, Paper, PrintingError, merge, render_label, render_labels
from tests.pdfs import LASER_DPI, THERMAL_DPI, barcodes, pages, raster, text

A6_PT = (105 * mm, 148 * mm)
A4_PT = (210 * mm, 297 * mm)

LABEL = LabelData(
    tracking_number="1234567890123",
    carrier_name="СДЭК",
    service_name="Посылка склад-склад",
    shipment_id="shp_01JF2Q8K7Z",
    shop_order_number="ORD-2026-000123",
    sender_name="ООО «Ромашка»",
    sender_phone="+7 495 123-45-67",
    sender_address="Москва, ул. Складская, д. 5, стр. 2",
    recipient_name="Иванова Мария Петровна",
    recipient_phone="+7 916 555-01-02",
    recipient_address="630099, Новосибирск, ул. Советская, д. 18, кв. 44",
    pickup_point=None,
    weight_g=1250,
    cod_rub=Decimal("1234.50"),
    ship_date=date(2026, 12, 8),
)


def same_size(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return abs(a[0] - b[0]) < 1 and abs(a[1] - b[1]) < 1


@pytest.mark.parametrize(
    ("tracking", "name"),
    [
        ("1234567890123", "Иванова Мария Петровна"),
        ("RA123456789RU", "Щукин Эдуард Юрьевич"),
        ("10000123456789012345", "Ёлкина Жанна"),
        ("CDEK-7741-0093", "Смирнов-Задунайский Пётр"),
        ("8", "Ли Вэй"),
        ("ZX-ABCDEFGHJKLMNPQRSTUVWXYZ", "Длинный Номер"),  # 27 characters: two-dot bars still fit A6
    ],
)
def test_the_barcode_reads_back_as_the_tracking_number(tracking: str, name: str) -> None:
    pdf = render_label(replace(LABEL, tracking_number=tracking, recipient_name=name))

    assert barcodes(pdf, dpi=THERMAL_DPI) == [tracking]
    assert barcodes(pdf, dpi=LASER_DPI) == [tracking]
    assert name in text(pdf)
    assert tracking in text(pdf)


def test_a_label_is_one_a6_page() -> None:
    pdf = render_label(LABEL)

    assert len(pages(pdf)) == 1
    assert same_size(pages(pdf)[0], A6_PT)


def test_the_label_shows_the_recipient_in_cyrillic_and_the_cod_amount_in_roubles() -> None:
    page = text(render_label(LABEL))

    assert "Иванова Мария Петровна" in page
    assert "Наложенный платёж: 1 234,50 ₽" in page
    assert "Новосибирск" in page


def test_a_label_without_cod_says_there_is_none() -> None:
    page = text(render_label(replace(LABEL, cod_rub=Decimal(0))))

    assert "Наложенный платёж:" not in page
    assert "no COD" in page


def test_the_label_shows_weight_in_kilograms_parcel_of_count_order_shipment_and_ship_date() -> None:
    page = text(render_label(replace(LABEL, weight_g=1250, parcel_index=2, parcel_count=3)))

    assert "1.250 kg" in page
    assert "2/3" in page
    assert "ORD-2026-000123" in page
    assert "shp_01JF2Q8K7Z" in page
    assert "08.12.2026" in page
    assert "СДЭК" in page and "Посылка склад-склад" in page


def test_the_pickup_point_is_printed_for_pickup_offers_only() -> None:
    office = "NSK12 — Новосибирск, Красный проспект, 29"

    assert office in text(render_label(replace(LABEL, pickup_point=office)))
    assert "Pickup point" not in text(render_label(LABEL))


def test_an_overlong_address_is_cut_short_and_the_foot_of_the_label_survives() -> None:
    address = "Новосибирск, " + ", ".join(f"корпус {i}" for i in range(80))
    name = "Константинопольская-Хрисанфова Аделаида Вольдемаровна " * 3
    pdf = render_label(
        replace(
            LABEL,
            recipient_name=name,
            sender_name=name,
            recipient_address=address,
            sender_address=address,
            pickup_point="NSK12 — " + address,
        )
    )

    assert "корпус 79" not in text(pdf)
    assert "Константинопольская-Хрисанфова" in text(pdf), "a long surname is set smaller, not cut"
    assert "1.250 kg" in text(pdf)
    assert barcodes(pdf) == [LABEL.tracking_number]


def numbered(n: int) -> list[LabelData]:
    return [replace(LABEL, tracking_number=f"10{i:011d}", recipient_name=f"Получатель №{i}") for i in range(n)]


def test_nine_labels_merge_into_three_a4_pages_and_nine_a6_pages() -> None:
    labels = [render_label(label) for label in numbered(9)]

    a4 = merge(labels, Paper.A4)
    a6 = merge(labels, Paper.A6)

    assert len(pages(a4)) == 3 and all(same_size(p, A4_PT) for p in pages(a4))
    assert len(pages(a6)) == 9 and all(same_size(p, A6_PT) for p in pages(a6))


def test_four_labels_on_an_a4_page_each_still_scan_in_reading_order() -> None:
    labels = numbered(5)
    a4 = merge([render_label(label) for label in labels], Paper.A4)

    assert barcodes(a4, 0) == sorted(label.tracking_number for label in labels[:4])
    assert barcodes(a4, 1) == [labels[4].tracking_number]
    # Reading order: top-left, top-right, bottom-left, bottom-right.
    image = raster(a4, 0)
    found = zxingcpp.read_barcodes(image)
    by_place = sorted(found, key=lambda r: (r.position.top_left.y > image.height / 2, r.position.top_left.x))
    assert [r.text for r in by_place] == [label.tracking_number for label in labels[:4]]


def test_labels_drawn_as_one_document_paginate_like_merged_ones() -> None:
    labels = numbered(9)

    assert len(pages(render_labels(labels, Paper.A4))) == 3
    assert len(pages(render_labels(labels, Paper.A6))) == 9
    assert barcodes(render_labels(labels, Paper.A4), 2) == [labels[8].tracking_number]


def carrier_label(tracking: str, size: tuple[float, float], pages_: int = 1) -> bytes:
    """A label as a carrier's API might send it: its own page size, a Code 128 across it."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=size)
    for i in range(pages_):
        code = Code128(f"{tracking}{i}" if pages_ > 1 else tracking, barWidth=1.4, barHeight=60)
        code.drawOn(c, (size[0] - code.width) / 2, size[1] / 2)
        c.drawString(20, 20, f"{tracking} page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize(
    "size",
    [A4_PT, (150 * mm, 100 * mm), (100 * mm, 150 * mm), (4 * 72, 6 * 72)],
    ids=["a4", "landscape-150x100", "portrait-100x150", "4x6-inch"],
)
def test_a_carriers_page_of_any_size_is_scaled_into_an_a6_page_and_still_scans(size: tuple[float, float]) -> None:
    pdf = merge([carrier_label("CAR0001234", size)], Paper.A6)

    assert len(pages(pdf)) == 1 and same_size(pages(pdf)[0], A6_PT)
    assert barcodes(pdf) == ["CAR0001234"]


def test_a_rotated_carrier_page_is_placed_as_a_viewer_shows_it() -> None:
    reader = PdfReader(io.BytesIO(carrier_label("ROT0001", (150 * mm, 100 * mm))))
    writer = PdfWriter()
    writer.add_page(reader.pages[0]).rotate(90)  # shown portrait, the code reading downwards
    buf = io.BytesIO()
    writer.write(buf)
    shown = zxingcpp.read_barcodes(raster(buf.getvalue()))[0]

    placed = zxingcpp.read_barcodes(raster(merge([buf.getvalue()], Paper.A6)))

    assert [r.text for r in placed] == ["ROT0001"]
    # Ignoring /Rotate would turn the landscape content the other way to fit the portrait cell.
    assert placed[0].orientation == shown.orientation == 90


def test_every_page_of_a_several_page_input_is_kept_in_order() -> None:
    pdf = merge([carrier_label("MULTI", A4_PT, pages_=3), render_label(LABEL)], Paper.A6)

    assert len(pages(pdf)) == 4
    assert [barcodes(pdf, i) for i in range(4)] == [["MULTI0"], ["MULTI1"], ["MULTI2"], [LABEL.tracking_number]]


@pytest.mark.parametrize(
    "bad",
    [b"", b"<html>502 Bad Gateway</html>", b"%PDF-1.7\nnot really\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 64],
    ids=["empty", "html", "broken-pdf", "png"],
)
def test_an_input_that_is_not_a_pdf_is_refused_naming_its_index(bad: bytes) -> None:
    good = render_label(LABEL)

    with pytest.raises(LabelNotPdf) as refused:
        merge([good, good, bad, good], Paper.A4)

    assert refused.value.index == 2
    assert "#2" in str(refused.value)
    assert isinstance(refused.value, PrintingError)


def test_merging_nothing_gives_an_empty_document() -> None:
    assert pages(merge([], Paper.A4)) == []
