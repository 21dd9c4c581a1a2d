"""Parcel labels: our own A6 label drawn from `LabelData`, and label PDFs merged for printing.

A batch of our own labels is drawn straight into one document (`render_labels`): the font is
embedded once and nothing is parsed back, so 500 labels take about a second and under 1 MB where
rendering them one by one and merging takes ten and 14 MB (bench/labels.py). `render_label` is the
same drawing for one parcel.
`merge` is for PDFs we did not draw (a carrier's own labels, of any page size): each page is
scaled into an A6 cell, one cell a page at A6, four (2×2) at A4.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import cast

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
)
from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, A6  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.lib.utils import simpleSplit  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from router.printing import fonts
from router.printing.errors import LabelNotPdf
from router.printing.figures import kg, rub


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelData:
    tracking_number: str
    carrier_name: str
    service_name: str
    shipment_id: str
    shop_order_number: str
    sender_name: str
    sender_phone: str
    sender_address: str
    recipient_name: str
    recipient_phone: str
    recipient_address: str
    pickup_point: str | None  # code and name/address of the office, for pickup offers
    weight_g: int
    parcel_index: int = 1
    parcel_count: int = 1
    cod_rub: Decimal = Decimal(0)
    ship_date: date


class Paper(StrEnum):
    A6 = "a6"  # 105 × 148 mm, one label a page (thermal label printers)
    A4 = "a4"  # four A6 labels a page, 2 × 2 (office printers)

    @property
    def size(self) -> tuple[float, float]:
        return (CELL_W, CELL_H) if self is Paper.A6 else (float(A4[0]), float(A4[1]))


CELL_W, CELL_H = float(A6[0]), float(A6[1])
MARGIN: float = 4 * mm
# Thermal label printers print at 203 dpi: a bar that is a whole number of dots keeps every bar of
# one width alike, so the code is drawn in dots, as wide as the page allows up to four (wider
# only makes the code taller-looking, not easier to read). Two dots (0.25 mm) is what scans
# reliably off such a printer: about 380 modules across A6, some thirty digits.
DOT = 72 / 203
BAR_MAX_DOTS = 4
BAR_H: float = 20 * mm
QUIET_MODULES = 10  # Code 128 asks for at least ten module widths clear on either side


def render_label(data: LabelData) -> bytes:
    """One label as a one-page A6 PDF."""
    return render_labels([data], Paper.A6)


def render_labels(labels: Sequence[LabelData], paper: Paper = Paper.A6) -> bytes:
    """Many of our own labels as one PDF, drawn directly: one a page at A6, four a page at A4."""
    fonts.register()
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=paper.size, pageCompression=1, invariant=1)
    canvas.setTitle("Labels")
    cells = _cells(paper)
    first = _first_cell(paper)
    for i, label in enumerate(labels):
        x, y = next(cells)
        if i and (x, y) == first:
            canvas.showPage()
        canvas.saveState()
        canvas.translate(x, y)
        _draw(canvas, label)
        canvas.restoreState()
    if labels:
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def merge(pdfs: Sequence[bytes], paper: Paper) -> bytes:
    """Every page of every PDF, in order, each scaled into an A6 cell keeping its aspect ratio.

    Raises LabelNotPdf naming the index of the first input that cannot be read as a PDF.
    """
    writer = PdfWriter()
    cells = _cells(paper)
    first = _first_cell(paper)
    sheet: PageObject | None = None
    placed: list[bytes] = []
    for page in _pages(pdfs):
        x, y = next(cells)
        if paper is Paper.A6 and _is_a6(page):
            # Already the right size: copied as it is, the cheap path for A6 labels.
            writer.add_page(page)
            continue
        if sheet is None or (x, y) == first:
            _finish(sheet, placed)
            sheet = writer.add_blank_page(*paper.size)
            sheet[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject()})
        name = f"/L{len(placed)}"
        xobjects = cast(DictionaryObject, cast(DictionaryObject, sheet["/Resources"])["/XObject"])
        xobjects[NameObject(name)] = _as_form(writer, page)
        a, b, c, d, e, f = _fit(page, x, y).ctm
        placed.append(f"q {a:.6f} {b:.6f} {c:.6f} {d:.6f} {e:.4f} {f:.4f} cm {name} Do Q".encode())
    _finish(sheet, placed)
    # Carriers' labels repeat their logos and fonts on every page: kept once.
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _finish(sheet: PageObject | None, placed: list[bytes]) -> None:
    if sheet is not None:
        content = DecodedStreamObject()
        content.set_data(b"\n".join(placed))
        sheet.replace_contents(content.flate_encode())
    placed.clear()


def _as_form(writer: PdfWriter, page: PageObject) -> IndirectObject:
    """The page as a form XObject: placed with one `cm` and `Do`, its content stream is copied as
    bytes, never parsed (parsing a barcode's thousands of operators is what makes
    `merge_transformed_page` slow)."""
    contents = page.get_contents()
    form = DecodedStreamObject()
    form.set_data(contents.get_data() if contents is not None else b"")
    box = page.cropbox
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(FloatObject(v) for v in (box.left, box.bottom, box.right, box.top)),
        }
    )
    resources = page.get("/Resources")
    if resources is not None:
        form[NameObject("/Resources")] = resources.get_object().clone(writer)
    return writer._add_object(form.flate_encode())


def _pages(pdfs: Sequence[bytes]) -> Iterator[PageObject]:
    for index, data in enumerate(pdfs):
        # pypdf reads leniently and would take almost any bytes for a PDF with no pages.
        if b"%PDF-" not in data[:1024]:
            raise LabelNotPdf(index, "no %PDF- header")
        try:
            reader = PdfReader(io.BytesIO(data))
            pages = list(reader.pages)
        except (PyPdfError, ValueError, KeyError, TypeError) as e:
            raise LabelNotPdf(index, str(e) or type(e).__name__) from e
        if not pages:
            raise LabelNotPdf(index, "no pages")
        yield from pages


def _cells(paper: Paper) -> Iterator[tuple[float, float]]:
    """Lower-left corners of the cells, in reading order, page after page."""
    if paper is Paper.A6:
        order = [(0.0, 0.0)]
    else:
        w, h = paper.size
        order = [(0.0, h / 2), (w / 2, h / 2), (0.0, 0.0), (w / 2, 0.0)]
    while True:
        yield from order


def _first_cell(paper: Paper) -> tuple[float, float]:
    return next(_cells(paper))


def _is_a6(page: PageObject) -> bool:
    box = page.cropbox
    return (
        page.rotation % 360 == 0
        and abs(float(box.left)) < 0.5
        and abs(float(box.bottom)) < 0.5
        and abs(float(box.width) - CELL_W) < 1
        and abs(float(box.height) - CELL_H) < 1
    )


def _fit(page: PageObject, x: float, y: float) -> Transformation:
    """From the page's own space to the cell at (x, y): the visible box moved to the origin, turned
    as the page's /Rotate asks (a viewer would), turned a quarter more if its orientation differs
    from the cell's (a landscape label would otherwise print at half the size), scaled to fit,
    centred."""
    box = page.cropbox
    w, h = float(box.width), float(box.height)
    t = Transformation().translate(-float(box.left), -float(box.bottom))
    rotation = page.rotation % 360
    if rotation == 90:
        t, w, h = t.rotate(-90).translate(0, w), h, w
    elif rotation == 180:
        t = t.rotate(180).translate(w, h)
    elif rotation == 270:
        t, w, h = t.rotate(90).translate(h, 0), h, w
    if (w > h) != (CELL_W > CELL_H):
        t, w, h = t.rotate(90).translate(h, 0), h, w
    scale = min(CELL_W / w, CELL_H / h)
    return t.scale(scale).translate(x + (CELL_W - w * scale) / 2, y + (CELL_H - h * scale) / 2)


# Drawing one label. The page is read top to bottom: who carries it, the code a scanner reads, where
# it goes (biggest), where it comes from, then the small facts a courier checks at the door.


def _draw(c: Canvas, d: LabelData) -> None:
    left, right = MARGIN, CELL_W - MARGIN
    width = right - left
    top = CELL_H - MARGIN

    c.setFont(fonts.BOLD, 13)
    c.drawString(left, top - 12, _clip(d.carrier_name, fonts.BOLD, 13, width * 0.62))
    c.setFont(fonts.REGULAR, 8)
    c.drawRightString(right, top - 10, f"Дата отгрузки: {d.ship_date:%d.%m.%Y}")
    c.drawString(left, top - 23, _clip(d.service_name, fonts.REGULAR, 8, width))
    y = top - 28
    c.setLineWidth(0.8)
    c.line(left, y, right, y)

    y = _barcode(c, d.tracking_number, y - 4)
    c.line(left, y, right, y)

    y = _block(c, "Получатель / To", y - 10, width, d.recipient_name, 14, d.recipient_phone, d.recipient_address, 10)
    if d.pickup_point:
        c.setFont(fonts.BOLD, 7.5)
        c.drawString(left, y, "Пункт выдачи / Pickup point")
        y = _lines(c, d.pickup_point, fonts.REGULAR, 8.5, left, y - 10, width, 3)
    c.line(left, y + 3, right, y + 3)

    y = _block(c, "Отправитель / From", y - 7, width, d.sender_name, 8.5, d.sender_phone, d.sender_address, 7.5)
    c.line(left, y + 3, right, y + 3)

    # The foot is anchored to the bottom margin so a long address never pushes it off the page.
    foot = MARGIN + 48
    c.setFont(fonts.BOLD, 11)
    c.drawString(left, foot, f"Вес / Weight: {kg(d.weight_g)}")
    c.drawRightString(right, foot, f"Место / Parcel: {d.parcel_index}/{d.parcel_count}")
    cod = f"Наложенный платёж: {rub(d.cod_rub)}" if d.cod_rub > 0 else "Без наложенного платежа / no COD"
    c.setFont(fonts.BOLD if d.cod_rub > 0 else fonts.REGULAR, 10)
    c.drawString(left, foot - 15, cod)
    c.setFont(fonts.REGULAR, 7.5)
    c.drawString(left, foot - 29, _clip(f"Заказ / Order: {d.shop_order_number}", fonts.REGULAR, 7.5, width))
    c.drawString(left, foot - 40, _clip(f"Отправление / Shipment: {d.shipment_id}", fonts.REGULAR, 7.5, width))


def _barcode(c: Canvas, value: str, top: float) -> float:
    """Code 128 across the page's width with its quiet zones, the number under it; returns the
    y just below."""
    modules = float(Code128(value, barWidth=1, quiet=0).width) + 2 * QUIET_MODULES
    room = CELL_W - 2 * MARGIN
    dots = min(BAR_MAX_DOTS, math.floor(room / modules / DOT))
    # Longer than any tracking number seen: still kept on the page, bars no longer whole dots.
    bar = dots * DOT if dots >= 1 else room / modules
    code = Code128(
        value, barWidth=bar, barHeight=BAR_H, quiet=1, lquiet=QUIET_MODULES * bar, rquiet=QUIET_MODULES * bar
    )
    code.drawOn(c, (CELL_W - code.width) / 2, top - BAR_H)
    c.setFont(fonts.BOLD, 14)
    c.drawCentredString(CELL_W / 2, top - BAR_H - 15, value)
    return top - BAR_H - 21


def _block(
    c: Canvas,
    caption: str,
    y: float,
    width: float,
    name: str,
    name_size: float,
    phone: str,
    address: str,
    size: float,
) -> float:
    c.setFont(fonts.BOLD, 7.5)
    c.drawString(MARGIN, y, caption)
    y = _lines(c, name, fonts.BOLD, name_size, MARGIN, y - name_size - 2, width, 2)
    c.setFont(fonts.REGULAR, size)
    c.drawString(MARGIN, y, phone)
    return _lines(c, address, fonts.REGULAR, size, MARGIN, y - size - 2, width, 3)


def _lines(c: Canvas, text: str, font: str, size: float, x: float, y: float, width: float, most: int) -> float:
    """`text` wrapped to `width`, at most `most` lines (the last clipped with an ellipsis); returns
    the baseline for the next line."""
    # A word wider than the line (a long double-barrelled surname) is set smaller before any cut.
    widest = max((stringWidth(word, font, size) for word in text.split()), default=0.0)
    if widest > width:
        size = max(size * 0.7, size * width / widest * 0.99)
    lines = simpleSplit(text, font, size, width) or [""]
    if len(lines) > most:
        lines = lines[: most - 1] + [_clip(" ".join(lines[most - 1 :]), font, size, width)]
    c.setFont(font, size)
    for line in lines:
        # Still too long at the smallest size: cut rather than run off the page.
        c.drawString(x, y, _clip(line, font, size, width))
        y -= size * 1.2
    return y


def _clip(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
