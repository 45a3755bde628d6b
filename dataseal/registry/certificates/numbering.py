"""Certificate and registration numbers, each ending in an ISO/IEC 7064 check character.

Both numbers are derived from chain data alone, so that anyone holding a certificate recomputes them:

- **Registration number** (登记号) — names the registration: the UTC year of its block time, the chain id
  and the asset id (at least 8 digits), in groups, then the check character::

      2025-31337-00000001-4

  Digits only, so the check character is ISO/IEC 7064 **MOD 11-2** (digits, or ``X`` for ten): the
  system of the Chinese citizen ID number (GB 11643), ISNI and ORCID, which a registry clerk
  recognises. It is computed over the digits alone (the hyphens are separators, not data).

- **Certificate number** (证书编号) — names one certificate: the state of one registration as of one
  block. ``DS``, then the chain id, the asset id and the block number the certificate attests, each
  in base 36 (digits and capital letters: short even for block numbers in the hundreds of millions),
  then the check character::

      DS-O6H-1-2F-Y

  Letters and digits, so the check character is ISO/IEC 7064 **MOD 37-2** (the pure system for
  alphanumerics), computed over the characters without the hyphens (``DSO6H12F``). Its check
  character is one of the 36 characters or, for the value 36, ``*`` (as the standard has it).
  The hybrid MOD 37,36 would always give a letter or digit, but it lets about one adjacent
  transposition in a few hundred through (``NFE562K98`` and ``NFE652K98`` both pass it); a prime
  modulus with distinct neighbouring weights catches them all.

Both systems detect every single-character substitution and every transposition of two adjacent
characters (the tests check this exhaustively on sample numbers); the fields are separated by
hyphens, so a number cannot be read two ways.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from dataseal.errors import InvalidInput

DIGITS: Final = "0123456789"
ALPHANUMERIC: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: MOD 11-2's alphabet: the ten digits, and X for the value ten (check character only).
MOD11_2_ALPHABET: Final = DIGITS + "X"
#: MOD 37-2's: the 36 alphanumerics, and * for the value 36 (check character only).
MOD37_2_ALPHABET: Final = ALPHANUMERIC + "*"
CERTIFICATE_PREFIX: Final = "DS"
#: The asset id takes at least this many digits in a registration number.
ASSET_DIGITS: Final = 8
#: No number is longer: uint256 chain and asset ids and a 63-bit block give at most 164 characters (a registration
#: number) and 120 (a certificate number).
MAX_NUMBER_LENGTH: Final = 200


class NumberError(InvalidInput):
    """A certificate or registration number is malformed, or its check character is wrong."""


# ---------------------------------------------------------------------- ISO/IEC 7064


def _values(text: str, alphabet: str, what: str) -> list[int]:
    values = []
    for char in text:
        value = alphabet.find(char)
        if value < 0:
            raise NumberError(f"{what} {text!r} holds {char!r}, which is not one of {alphabet!r}",
                              hint="check the characters against the original")
        values.append(value)
    return values


def _pure_check(text: str, modulus: int, radix: int, alphabet: str, what: str) -> str:
    """The check character of an ISO/IEC 7064 pure system MOD ``modulus``-``radix`` (one character)."""
    partial = 0
    for value in _values(text, alphabet[:-1], what):  # the last character of the alphabet is for checks only
        partial = ((partial + value) * radix) % modulus
    return alphabet[(1 - partial) % modulus]


def compute_mod11_2(digits: str) -> str:
    """ISO/IEC 7064 MOD 11-2 check character of ``digits`` (``"079"`` → ``"X"``)."""
    return _pure_check(digits, 11, 2, MOD11_2_ALPHABET, "the digits")


def compute_mod37_2(text: str) -> str:
    """ISO/IEC 7064 MOD 37-2 check character of ``text`` (digits and capital letters; may be ``*``)."""
    return _pure_check(text, 37, 2, MOD37_2_ALPHABET, "the characters")


def is_valid_mod11_2(text: str) -> bool:
    """Whether ``text`` (digits, then a check character) passes MOD 11-2."""
    if len(text) < 2 or not text[:-1].isdigit() or not text[:-1].isascii():
        return False
    return compute_mod11_2(text[:-1]) == text[-1]


def is_valid_mod37_2(text: str) -> bool:
    """Whether ``text`` (alphanumerics, then a check character) passes MOD 37-2."""
    if len(text) < 2 or any(char not in ALPHANUMERIC for char in text[:-1]):
        return False
    return compute_mod37_2(text[:-1]) == text[-1]


# ---------------------------------------------------------------------- base 36


def to_base36(value: int) -> str:
    """``value`` (>= 0) in base 36, capital letters (``31337`` → ``"O6H"``)."""
    if value < 0:
        raise NumberError(f"a number in a certificate number cannot be negative, got {value}",
                          hint="give a chain id, asset id and block number of 0 or more")
    out = ""
    while True:
        value, digit = divmod(value, 36)
        out = ALPHANUMERIC[digit] + out
        if value == 0:
            return out


# ---------------------------------------------------------------------- the two numbers


@dataclass(frozen=True)
class RegistrationNumber:
    """What a registration number says."""

    year: int
    chain_id: int
    asset_id: int


@dataclass(frozen=True)
class CertificateNumber:
    """What a certificate number says."""

    chain_id: int
    asset_id: int
    block_number: int


_REGISTRATION = re.compile(r"(\d{4})-([1-9]\d*)-(\d{8,})-([0-9X])")
_CERTIFICATE = re.compile(r"DS-([1-9A-Z][0-9A-Z]*)-([1-9A-Z][0-9A-Z]*)-(0|[1-9A-Z][0-9A-Z]*)-([0-9A-Z*])")


def compute_registration_number(year: int, chain_id: int, asset_id: int) -> str:
    """``YYYY-CHAIN-ASSETID-C``: the registration number of ``asset_id`` on ``chain_id``, registered in ``year``."""
    if not 1970 <= year <= 9999 or chain_id < 1 or asset_id < 1:
        raise NumberError(f"a registration number needs a four-digit year and ids of 1 or more, got year {year}, "
                          f"chain {chain_id}, asset {asset_id}", hint="give the registration's own year and ids")
    asset = f"{asset_id:0{ASSET_DIGITS}d}"
    return f"{year}-{chain_id}-{asset}-{compute_mod11_2(f'{year}{chain_id}{asset}')}"


def compute_certificate_number(chain_id: int, asset_id: int, block_number: int) -> str:
    """``DS-CHAIN-ASSET-BLOCK-C`` (base 36): the number of the certificate of ``asset_id`` as of ``block_number``."""
    if chain_id < 1 or asset_id < 1 or block_number < 0:
        raise NumberError(f"a certificate number needs ids of 1 or more and a block of 0 or more, got chain "
                          f"{chain_id}, asset {asset_id}, block {block_number}", hint="give the certificate's own")
    fields = [CERTIFICATE_PREFIX, to_base36(chain_id), to_base36(asset_id), to_base36(block_number)]
    return "-".join([*fields, compute_mod37_2("".join(fields))])


def _verify_length(text: str, what: str) -> None:
    if len(text) > MAX_NUMBER_LENGTH:
        raise NumberError(f"{text[:24]!r}… is not a {what}: it is {len(text)} characters long, at most "
                          f"{MAX_NUMBER_LENGTH}", hint="copy the number exactly as the certificate shows it")


#: Chain ids and asset ids are uint256 on chain: a number naming a larger one names nothing.
_UINT256_MAX: Final = 2**256 - 1
#: The largest block number a node takes (JSON-RPC clients hold block numbers in signed 64-bit integers).
_MAX_BLOCK: Final = 2**63 - 1


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def _verify_ids(text: str, what: str, chain_id: int, asset_id: int) -> None:
    for name, value in (("chain id", chain_id), ("asset id", asset_id)):
        if value > _UINT256_MAX:
            raise NumberError(f"{what} {_shown(text)} names {'an' if name[0] == 'a' else 'a'} {name} of "
                              f"{len(str(value))} digits, larger than any "
                              f"{name} (they are below 2**256): it was not issued by dataseal",
                              hint="copy the number exactly as the certificate shows it")


def parse_registration_number(text: str) -> RegistrationNumber:
    """The year, chain id and asset id of a registration number; :class:`NumberError` if it is malformed or its
    check character is wrong."""
    _verify_length(text, "registration number")
    found = _REGISTRATION.fullmatch(text)
    if found is None:
        raise NumberError(f"{text!r} is not a registration number: expected YEAR-CHAIN-ASSET-C, such as "
                          "2025-31337-00000001-4 (digits; the last character a digit or X)",
                          hint="copy the number exactly as the certificate shows it")
    year, chain, asset, check = found.groups()
    expected = compute_mod11_2(f"{year}{chain}{asset}")
    if check != expected:
        raise NumberError(f"registration number {text} fails its check character (ISO/IEC 7064 MOD 11-2): it ends "
                          f"in {check}, its digits give {expected}; a character was changed or mistyped",
                          hint="copy the number exactly as the certificate shows it")
    _verify_ids(text, "registration number", int(chain), int(asset))
    return RegistrationNumber(int(year), int(chain), int(asset))


def parse_certificate_number(text: str) -> CertificateNumber:
    """The chain id, asset id and block of a certificate number; :class:`NumberError` if it is malformed or its
    check character is wrong."""
    _verify_length(text, "certificate number")
    found = _CERTIFICATE.fullmatch(text)
    if found is None:
        raise NumberError(f"{text!r} is not a certificate number: expected DS-CHAIN-ASSET-BLOCK-C in base 36, such "
                          "as DS-O6H-1-2F-Y (digits and capital letters; the last character may be *)",
                          hint="copy the number exactly as the certificate shows it")
    chain, asset, block, check = found.groups()
    expected = compute_mod37_2(f"{CERTIFICATE_PREFIX}{chain}{asset}{block}")
    if check != expected:
        raise NumberError(f"certificate number {text} fails its check character (ISO/IEC 7064 MOD 37-2): it ends "
                          f"in {check}, its characters give {expected}; a character was changed or mistyped",
                          hint="copy the number exactly as the certificate shows it")
    _verify_ids(text, "certificate number", int(chain, 36), int(asset, 36))
    if int(block, 36) > _MAX_BLOCK:
        raise NumberError(f"certificate number {_shown(text)} names block {int(block, 36)}, beyond any chain's (block "
                          f"numbers are below 2**63): it was not issued by dataseal",
                          hint="copy the number exactly as the certificate shows it")
    return CertificateNumber(int(chain, 36), int(asset, 36), int(block, 36))
