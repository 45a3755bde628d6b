"""Prices are shown as what the chain records (the currency's smallest unit), with the currency's decimals."""
from __future__ import annotations

import pytest

from dataseal.registry.prices import format_price


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (500, "CNY", "5.00 CNY (500 in the smallest unit)"),
    (500_000_001, "USD", "5,000,000.01 USD (500,000,001 in the smallest unit)"),
    (7, "CNY", "0.07 CNY (7 in the smallest unit)"),
    (1_234, "KWD", "1.234 KWD (1,234 in the smallest unit)"),
    (500, "JPY", "500 JPY"),
    (500, "XYZ", "500 in the smallest unit of XYZ"),
    (0, "CNY", "0.00 CNY (0 in the smallest unit)"),
])
def test_an_amount_of_the_smallest_unit_is_shown_with_the_currencys_decimals(amount: int, currency: str,
                                                                              shown: str) -> None:
    assert format_price(amount, currency) == shown
