"""What can go wrong while printing, as one tree under `PrintingError`.

PrintingError       root for router.printing
└── LabelNotPdf     an input handed to `merge` is not a readable PDF; names its index
"""

from __future__ import annotations


class PrintingError(Exception):
    pass


class LabelNotPdf(PrintingError):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"label #{index} is not a PDF: {reason}")
        self.index = index
        self.reason = reason
