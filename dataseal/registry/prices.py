"""Prices as TransactionLedger records them: a whole number of the currency's smallest unit (fen for CNY, cents
for USD, yen for JPY) beside a currency code of at most 32 bytes. The chain knows no decimals, so an amount is
never shown as if it were in whole currency units: :func:`format_price` writes it with the decimals ISO 4217 gives
the currency, and the recorded integer beside it (``500`` CNY is ``5.00 CNY (500 in the smallest unit)``); for a
code it does not know, only the integer, named as the smallest unit."""
from __future__ import annotations

from typing import Final

#: ISO 4217 minor-unit digits of the currencies dataseal shows with decimals.
MINOR_UNIT_DIGITS: Final[dict[str, int]] = {
    "AUD": 2, "BHD": 3, "CAD": 2, "CHF": 2, "CNY": 2, "EUR": 2, "GBP": 2, "HKD": 2, "INR": 2, "JPY": 0, "KRW": 0,
    "KWD": 3, "MOP": 2, "RUB": 2, "SGD": 2, "TWD": 2, "USD": 2,
}


def format_price(amount: int, currency: str) -> str:
    """``amount`` of ``currency``'s smallest unit, for people: ``5,000.00 CNY (500,000 in the smallest unit)``,
    ``500 JPY``, or ``500 in the smallest unit of XYZ``."""
    digits = MINOR_UNIT_DIGITS.get(currency)
    if digits is None:
        return f"{amount:,} in the smallest unit of {currency}"
    if digits == 0:
        return f"{amount:,} {currency}"
    major, minor = divmod(amount, 10**digits)
    return f"{major:,}.{minor:0{digits}d} {currency} ({amount:,} in the smallest unit)"
