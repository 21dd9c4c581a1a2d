"""How numbers read on paper: roubles the Russian way, weights in kilograms."""

from __future__ import annotations

from decimal import Decimal

NBSP = "\u00a0"
CENT = Decimal("0.01")


def rub(amount: Decimal) -> str:
    """`1 234,50 ₽`: a no-break space between thousands so an amount never wraps across lines."""
    text = f"{amount.quantize(CENT):,.2f}"
    return text.replace(",", NBSP).replace(".", ",") + NBSP + "₽"


def kg(weight_g: int) -> str:
    """`1.250 kg`: three decimals, so a gram is still visible."""
    return f"{Decimal(weight_g) / 1000:.3f} kg"
