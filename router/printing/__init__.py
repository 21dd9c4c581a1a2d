"""The documents handed to carriers: parcel labels and the day's manifests, as PDF and CSV.

Pure document work: no database, no HTTP. What is printed comes in as plain data
(`LabelData`, `ManifestHeader`, `ManifestLine`); what goes out is bytes.

    labels      our own A6 label (Code 128 of the tracking number, from/to, COD), many labels
                drawn as one document, and carriers' own label PDFs merged at A6 or four to an A4
    manifests   the list of parcels handed over at a pickup: CSV for machines, PDF to sign
    errors      PrintingError and what derives from it

Imports only `router.core` and libraries (reportlab draws, pypdf merges).
"""

from router.printing.errors import LabelNotPdf, PrintingError
from router.printing.labels import LabelData, Paper, merge, render_label, render_labels
from router.printing.manifests import ManifestHeader, ManifestLine, manifest_csv, manifest_pdf

__all__ = [
    "LabelData",
    "LabelNotPdf",
    "ManifestHeader",
    "ManifestLine",
    "Paper",
    "PrintingError",
    "manifest_csv",
    "manifest_pdf",
    "merge",
    "render_label",
    "render_labels",
]
