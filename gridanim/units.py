"""How sizes and money read to people: the one formatter of each, shared by the CLI, the app and the encoders."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal


def human_bytes(n: int) -> str:
    """``812 B``, ``34 KB``, ``2.1 MB`` (binary units, as file managers show them)."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1048576:.1f} MB"


def money(usd: Decimal | float | int) -> str:
    """``$0.05``, ``$0.0312`` (4 decimals under $1 when cents would hide it), ``$12.00``."""
    from decimal import ROUND_HALF_UP, Decimal  # here: the CLI's animate path prints no money

    d = Decimal(str(usd))
    if d != 0 and abs(d) < 1 and d != d.quantize(Decimal("0.01")):
        return f"${d.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP)}"
    return f"${d.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
