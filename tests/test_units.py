from __future__ import annotations

from decimal import Decimal

import pytest

from gridanim.units import human_bytes, money


@pytest.mark.parametrize("n, text", [(0, "0 B"), (812, "812 B"), (34 * 1024, "34 KB"), (int(2.1 * 1048576), "2.1 MB")])
def test_human_bytes(n, text):
    assert human_bytes(n) == text


@pytest.mark.parametrize(
    "amount, text", [(Decimal("0.5"), "$0.50"), (Decimal("0.0312"), "$0.0312"), (Decimal("12"), "$12.00"), (0, "$0.00")]
)
def test_money(amount, text):
    assert money(amount) == text
