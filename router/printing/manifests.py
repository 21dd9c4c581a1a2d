"""The manifest: the list of parcels handed to one carrier at one warehouse on one day.

Two forms of the same facts. CSV for the carrier's systems: one header row, then one row a
shipment, money as `1234.50`, no totals row (a reader sums what it needs). PDF for the courier at
the dock: an A4 table that breaks across pages repeating its header, the totals, and the lines
where the sender and the courier sign.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from router.printing import fonts
from router.printing.figures import CENT, kg, rub


@dataclass(frozen=True, slots=True)
class ManifestLine:
    shipment_id: str
    tracking_number: str
    shop_order_number: str
    recipient_name: str
    recipient_city: str
    recipient_address: str
    parcels: int
    weight_g: int
    declared_value_rub: Decimal
    cod_rub: Decimal


@dataclass(frozen=True, slots=True)
class ManifestHeader:
    carrier_code: str
    carrier_name: str
    warehouse_id: str
    warehouse_address: str
    day: date
    generated_at: datetime


# The header facts repeat on every row: a row copied out of the file still says whose and which day.
CSV_FIELDS = (
    "carrier_code",
    "warehouse_id",
    "day",
    "shipment_id",
    "tracking_number",
    "shop_order_number",
    "recipient_name",
    "recipient_city",
    "recipient_address",
    "parcels",
    "weight_g",
    "declared_value_rub",
    "cod_rub",
)


def manifest_csv(header: ManifestHeader, lines: Sequence[ManifestLine]) -> bytes:
    """UTF-8 CSV (no byte-order mark), comma-separated, `\\r\\n` rows as RFC 4180 has them."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for line in lines:
        writer.writerow(
            (
                header.carrier_code,
                header.warehouse_id,
                header.day.isoformat(),
                line.shipment_id,
                line.tracking_number,
                line.shop_order_number,
                line.recipient_name,
                line.recipient_city,
                line.recipient_address,
                line.parcels,
                line.weight_g,
                _money(line.declared_value_rub),
                _money(line.cod_rub),
            )
        )
    return out.getvalue().encode("utf-8")


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(CENT):.2f}"


PAGE = landscape(A4)  # eleven columns with addresses do not fit across a portrait A4
MARGIN = 12 * mm


def manifest_pdf(header: ManifestHeader, lines: Sequence[ManifestLine]) -> bytes:
    fonts.register()
    small = ParagraphStyle("cell", fontName=fonts.REGULAR, fontSize=7, leading=8.5)
    body = ParagraphStyle("body", fontName=fonts.REGULAR, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=fonts.BOLD, fontSize=14, leading=18)

    story: list[Any] = [
        Paragraph(f"Реестр передачи отправлений / Manifest — {_esc(header.carrier_name)}", title),
        Paragraph(
            f"Дата / Day: <b>{header.day:%d.%m.%Y}</b> &nbsp; Перевозчик / Carrier: {_esc(header.carrier_code)}"
            f" &nbsp; Склад / Warehouse: {_esc(header.warehouse_id)}, {_esc(header.warehouse_address)}",
            body,
        ),
        Paragraph(f"Сформирован / Generated: {header.generated_at:%d.%m.%Y %H:%M %Z}".rstrip(), body),
        Spacer(1, 4 * mm),
    ]

    head = [
        "№",
        "Отправление\nShipment",
        "Трек-номер\nTracking",
        "Заказ\nOrder",
        "Получатель\nRecipient",
        "Город\nCity",
        "Адрес\nAddress",
        "Мест\nParcels",
        "Вес, кг\nWeight",
        "Объявл., ₽\nDeclared",
        "НП, ₽\nCOD",
    ]
    rows: list[list[Any]] = [head]
    for n, line in enumerate(lines, 1):
        rows.append(
            [
                str(n),
                Paragraph(_esc(line.shipment_id), small),
                line.tracking_number,
                Paragraph(_esc(line.shop_order_number), small),
                Paragraph(_esc(line.recipient_name), small),
                Paragraph(_esc(line.recipient_city), small),
                Paragraph(_esc(line.recipient_address), small),
                str(line.parcels),
                _kg(line.weight_g),
                _rub(line.declared_value_rub),
                _rub(line.cod_rub),
            ]
        )
    parcels = sum(line.parcels for line in lines)
    weight_g = sum(line.weight_g for line in lines)
    declared = sum((line.declared_value_rub for line in lines), Decimal(0))
    cod = sum((line.cod_rub for line in lines), Decimal(0))
    rows.append(
        ["", "Итого / Total", f"{len(lines)} отпр.", "", "", "", "", str(parcels), _kg(weight_g)]
        + [_rub(declared), _rub(cod)]
    )

    widths = [9 * mm, 26 * mm, 28 * mm, 25 * mm, 36 * mm, 24 * mm, 50 * mm, 12 * mm, 17 * mm, 0, 0]
    widths[9] = widths[10] = (PAGE[0] - 2 * MARGIN - sum(widths)) / 2
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, 7),
                ("FONT", (0, 0), (-1, 0), fonts.BOLD, 7),
                ("FONT", (0, -1), (-1, -1), fonts.BOLD, 7.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (7, 0), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("LINEABOVE", (0, -1), (-1, -1), 1, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 6 * mm))

    totals = (
        f"Всего / Total: отправлений <b>{len(lines)}</b>, мест <b>{parcels}</b>, вес <b>{kg(weight_g)}</b>, "
        f"объявленная ценность <b>{rub(declared)}</b>, наложенный платёж <b>{rub(cod)}</b>"
    )
    signatures = Table(
        [
            ["Сдал (отправитель) / Handed over", "Принял (перевозчик) / Received"],
            ["_______________ / _______________", "_______________ / _______________"],
            ["подпись / signature      Ф.И.О. / name", "подпись / signature      Ф.И.О. / name"],
            ["Дата, время / Date, time: ____________", "Дата, время / Date, time: ____________"],
        ],
        colWidths=[(PAGE[0] - 2 * MARGIN) / 2] * 2,
    )
    signatures.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, 9),
                ("FONT", (0, 0), (-1, 0), fonts.BOLD, 10),
                ("FONT", (0, 2), (-1, 2), fonts.REGULAR, 6.5),
                ("TOPPADDING", (0, 1), (-1, 1), 14),
                ("TOPPADDING", (0, 3), (-1, 3), 8),
            ]
        )
    )
    # Totals and signatures stay on one page: a signature under no figures signs for nothing.
    story.append(KeepTogether([Paragraph(totals, body), Spacer(1, 6 * mm), signatures]))

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Manifest {header.carrier_code} {header.day.isoformat()}",
        invariant=1,
    )

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(fonts.REGULAR, 7)
        canvas.drawString(
            MARGIN, MARGIN / 2, f"{header.carrier_code} · {header.warehouse_id} · {header.day.isoformat()}"
        )
        canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"Стр. / Page {doc.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _kg(weight_g: int) -> str:
    return f"{Decimal(weight_g) / 1000:.3f}"


def _rub(amount: Decimal) -> str:
    return rub(amount).removesuffix("\u00a0₽")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
