"""PDFs as a scanner and a reader see them: pages rasterised and barcodes decoded, text extracted."""

from __future__ import annotations

import io

import pypdfium2  # type: ignore[import-untyped]
import zxingcpp
from PIL.Image import Image
from pypdf import PdfReader

# Rasterised as printers print: 203 dpi for thermal label printers (the bars are whole dots
# there), 300 dpi for office lasers. An arbitrary scale puts bar edges between pixels, and the
# decoder then occasionally reads a second, wrong number beside the right one.
THERMAL_DPI = 203
LASER_DPI = 300


def raster(pdf: bytes, page: int = 0, dpi: int = LASER_DPI) -> Image:
    return pypdfium2.PdfDocument(pdf)[page].render(scale=dpi / 72).to_pil()


def barcodes(pdf: bytes, page: int = 0, dpi: int = LASER_DPI) -> list[str]:
    return sorted(r.text for r in zxingcpp.read_barcodes(raster(pdf, page, dpi)))


def text(pdf: bytes, page: int = 0) -> str:
    # A no-break space separates thousands; compared as a plain space.
    return PdfReader(io.BytesIO(pdf)).pages[page].extract_text().replace("\u00a0", " ")


def pages(pdf: bytes) -> list[tuple[float, float]]:
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(io.BytesIO(pdf)).pages]
