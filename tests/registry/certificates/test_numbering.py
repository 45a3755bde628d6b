"""ISO/IEC 7064 check characters against the standard's published examples, and the two numbers built on them:
every single-character substitution and every adjacent transposition is caught."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dataseal.registry.certificates.numbering import (
    ALPHANUMERIC,
    DIGITS,
    MOD11_2_ALPHABET,
    MOD37_2_ALPHABET,
    NumberError,
    compute_certificate_number,
    compute_mod11_2,
    compute_mod37_2,
    compute_registration_number,
    is_valid_mod11_2,
    is_valid_mod37_2,
    parse_certificate_number,
    parse_registration_number,
    to_base36,
)


@pytest.mark.parametrize(("digits", "check"), [
    ("079", "X"),  # ISO/IEC 7064 MOD 11-2's own example
    ("0794", "0"),
    ("11010519491231002", "X"),  # GB 11643-1999's example citizen ID number 11010519491231002X
    ("44052418800101001", "4"),  # GB 11643's second example, 440524188001010014
    ("000000021825009", "7"),  # ORCID 0000-0002-1825-0097 (ISO 7064 MOD 11-2)
    ("000000021694233", "X"),  # ORCID 0000-0002-1694-233X
])
def test_mod11_2_matches_the_published_examples(digits: str, check: str) -> None:
    assert compute_mod11_2(digits) == check
    assert is_valid_mod11_2(digits + check)


@pytest.mark.parametrize(("text", "check"), [
    ("G123489654321", "Y"),  # the MOD 37-2 example of the standard's implementations (python-stdnum, konfirm)
])
def test_mod37_2_matches_the_published_example(text: str, check: str) -> None:
    assert compute_mod37_2(text) == check
    assert is_valid_mod37_2(text + check)


def test_mod37_2_uses_the_star_for_thirty_six() -> None:
    starred = next(text for text in (f"DS{n}" for n in range(1000)) if compute_mod37_2(text) == "*")
    assert is_valid_mod37_2(starred + "*") and not is_valid_mod37_2(starred + "0")


def test_characters_outside_the_alphabet_are_refused() -> None:
    with pytest.raises(NumberError, match="holds 'a', which is not one of"):
        compute_mod37_2("DSa")
    assert not is_valid_mod11_2("12X4") and not is_valid_mod11_2("7") and not is_valid_mod37_2("D*S")


def _substitutions(text: str, alphabet: str) -> list[str]:
    return [text[:i] + c + text[i + 1:] for i in range(len(text)) for c in alphabet if c != text[i]]


def _transpositions(text: str) -> list[str]:
    return [text[:i] + text[i + 1] + text[i] + text[i + 2:] for i in range(len(text) - 1) if text[i] != text[i + 1]]


@given(st.text(alphabet=DIGITS, min_size=1, max_size=24))
def test_mod11_2_catches_every_substitution_and_adjacent_transposition(digits: str) -> None:
    full = digits + compute_mod11_2(digits)
    assert is_valid_mod11_2(full)
    assert not any(is_valid_mod11_2(t) for t in _substitutions(full, MOD11_2_ALPHABET))
    assert not any(is_valid_mod11_2(t) for t in _transpositions(full))


@given(st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=24))
def test_mod37_2_catches_every_substitution_and_adjacent_transposition(text: str) -> None:
    full = text + compute_mod37_2(text)
    assert is_valid_mod37_2(full)
    assert not any(is_valid_mod37_2(t) for t in _substitutions(full, MOD37_2_ALPHABET))
    assert not any(is_valid_mod37_2(t) for t in _transpositions(full))


ids = st.integers(min_value=1, max_value=2**64)


@given(st.integers(min_value=1970, max_value=9999), ids, ids)
def test_a_registration_number_reads_back_and_any_typo_is_refused(year: int, chain: int, asset: int) -> None:
    number = compute_registration_number(year, chain, asset)
    parsed = parse_registration_number(number)
    assert (parsed.year, parsed.chain_id, parsed.asset_id) == (year, chain, asset)
    for typo in [*_substitutions(number, MOD11_2_ALPHABET), *_transpositions(number)]:
        with pytest.raises(NumberError):
            if parse_registration_number(typo) != parsed:  # a hyphen moved by a transposition may still parse
                raise NumberError("read as another registration")


@given(ids, ids, st.integers(min_value=0, max_value=2**63 - 1))
def test_a_certificate_number_reads_back_and_any_typo_is_refused(chain: int, asset: int, block: int) -> None:
    number = compute_certificate_number(chain, asset, block)
    parsed = parse_certificate_number(number)
    assert (parsed.chain_id, parsed.asset_id, parsed.block_number) == (chain, asset, block)
    for typo in [*_substitutions(number, MOD37_2_ALPHABET), *_transpositions(number)]:
        with pytest.raises(NumberError):
            if parse_certificate_number(typo) != parsed:
                raise NumberError("read as another certificate")


def test_a_number_naming_an_id_or_block_beyond_the_chains_is_refused() -> None:
    with pytest.raises(NumberError, match="names an asset id of 78 digits, larger than any asset id"):
        parse_certificate_number(compute_certificate_number(1, 2**256, 1))
    with pytest.raises(NumberError, match="names a chain id of 78 digits, larger than any chain id"):
        parse_registration_number(compute_registration_number(2025, 2**256, 1))
    with pytest.raises(NumberError, match="names block 9223372036854775808, beyond any chain's"):
        parse_certificate_number(compute_certificate_number(1, 1, 2**63))
    assert parse_certificate_number(compute_certificate_number(1, 2**256 - 1, 2**63 - 1)).asset_id == 2**256 - 1


def test_the_numbers_look_as_documented() -> None:
    assert to_base36(31337) == "O6H" and to_base36(0) == "0"
    assert compute_registration_number(2025, 31337, 1) == "2025-31337-00000001-4"
    assert compute_certificate_number(31337, 1, 87) == "DS-O6H-1-2F-Y"
    assert compute_registration_number(2025, 1, 123_456_789) == "2025-1-123456789-" + compute_mod11_2("20251123456789")


def test_malformed_numbers_say_what_a_number_looks_like() -> None:
    with pytest.raises(NumberError, match=r"'2025-31337-1-4' is not a registration number: expected YEAR-CHAIN"):
        parse_registration_number("2025-31337-1-4")
    with pytest.raises(NumberError, match=r"fails its check character \(ISO/IEC 7064 MOD 11-2\): it ends in 5, its "
                       "digits give 4"):
        parse_registration_number("2025-31337-00000001-5")
    with pytest.raises(NumberError, match=r"'ds-o6h-1-2f-y' is not a certificate number"):
        parse_certificate_number("ds-o6h-1-2f-y")
    with pytest.raises(NumberError, match=r"MOD 37-2\): it ends in Z, its characters give Y"):
        parse_certificate_number("DS-O6H-1-2F-Z")
    with pytest.raises(NumberError, match="needs a four-digit year and ids of 1 or more"):
        compute_registration_number(2025, 0, 1)
    with pytest.raises(NumberError, match="needs ids of 1 or more and a block of 0 or more"):
        compute_certificate_number(1, 1, -1)
    with pytest.raises(NumberError, match="cannot be negative"):
        to_base36(-1)


def test_numbers_longer_than_any_chain_id_asset_id_and_block_give_are_refused() -> None:
    """Python refuses to convert more than 4300 digits; such a number is malformed, never an internal error."""
    digits = "1" * 5000
    registration = f"2025-1-{digits}-{compute_mod11_2('20251' + digits)}"
    with pytest.raises(NumberError, match=r"is not a registration number: it is 5009 characters long, at most 200"):
        parse_registration_number(registration)
    certificate = f"DS-1-{digits}-0-{compute_mod37_2('DS1' + digits + '0')}"
    with pytest.raises(NumberError, match=r"is not a certificate number: it is 5009 characters long, at most 200"):
        parse_certificate_number(certificate)
    longest = compute_certificate_number(2**256 - 1, 2**256 - 1, 2**63 - 1)
    assert parse_certificate_number(longest).asset_id == 2**256 - 1 and len(longest) <= 200
    longest = compute_registration_number(9999, 2**256 - 1, 2**256 - 1)
    assert parse_registration_number(longest).chain_id == 2**256 - 1 and len(longest) <= 200
