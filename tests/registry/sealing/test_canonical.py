"""Canonical JSON (RFC 8785 with exact integers): the rows' and the manifest hash's serialisation."""

from __future__ import annotations

import json
import math
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataseal.errors import DatasealError
from dataseal.registry.sealing.canonical import CanonicalJsonError, canonical_json, exceeds_json_depth, format_float


@pytest.mark.parametrize(
    ("number", "text"),
    [  # ECMAScript Number.prototype.toString, as RFC 8785 requires (checked against node)
        (1.0, "1"),
        (0.5, "0.5"),
        (-0.0, "0"),
        (100.0, "100"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (-2.5e-10, "-2.5e-10"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (0.000001234, "0.000001234"),
        (1234.5678, "1234.5678"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_floats_are_written_as_ecmascript_does(number: float, text: str) -> None:
    assert format_float(number) == text


def test_objects_sort_keys_by_utf16_and_strings_escape_as_json_stringify() -> None:
    value = {"b": [1, 2.0, None, True, False], "a": 'é\n"\\\x01\u2028', "\U0001f600": 1, "\uffff": 2, "": 0}
    assert canonical_json(value) == '{"":0,"a":"é\\n\\"\\\\\\u0001\u2028","b":[1,2,null,true,false],"😀":1,"\uffff":2}'


def test_integers_stay_exact_beyond_doubles() -> None:
    assert canonical_json([2**64 + 1, -(2**70)]) == "[18446744073709551617,-1180591620717411303424]"


SURROGATE = "write the character it stands for, or remove it"


@pytest.mark.parametrize(
    ("value", "message", "hint"),
    [
        (float("nan"), "nan has no JSON form", "use null or a string"),
        (math.inf, "inf has no JSON form", "use null or a string"),
        ({1: "x"}, "object key 1 is not a string", "give every object key as a string"),
        ({"a": {1, 2}}, r"set value \{1, 2\} has no canonical JSON form",
         "give JSON values only: objects, arrays, strings, numbers, booleans and null"),
        (["ok", "x\ud800y"], r"the string 'x\\ud800y' holds a lone surrogate U\+D800, which is not Unicode text",
         SURROGATE),
        ({"\udfff": 1}, r"the string '\\udfff' holds a lone surrogate U\+DFFF", SURROGATE),
    ],
)
def test_values_without_a_canonical_form_are_refused(value: object, message: str, hint: str) -> None:
    with pytest.raises(CanonicalJsonError) as caught:
        canonical_json(value)
    assert re.match(message, caught.value.message)
    assert caught.value.hint == hint


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_round_trips_and_uses_exponents_only_where_ecmascript_does(number: float) -> None:
    text = format_float(number)
    assert float(text) == number
    magnitude = abs(number)
    assert ("e" in text) == (magnitude != 0 and not 1e-6 <= magnitude < 1e21)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_json_parses_back_to_the_same_value_and_is_idempotent(value: object) -> None:
    text = canonical_json(value)
    assert same(json.loads(text), value)
    assert canonical_json(json.loads(text)) == text


def same(a: object, b: object) -> bool:
    """Equal as JSON: numbers by value (JSON, like JCS, does not tell 2.0 from 2)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) | isinstance(b, bool):
        return float(a) == float(b) if isinstance(a, float) or isinstance(b, float) else a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


bracket_text = st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=8)
nested_values = st.recursive(
    st.none() | st.integers() | bracket_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(bracket_text, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(nested_values, st.booleans())
def test_exceeds_json_depth_counts_levels_and_ignores_brackets_quotes_and_escapes_in_strings(
    value: object, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    levels = depth(value)
    assert not exceeds_json_depth(text, levels)
    if levels:
        assert exceeds_json_depth(text, levels - 1)


def test_exceeds_json_depth_on_hostile_text() -> None:
    assert exceeds_json_depth(b"[" * 100_000, 64)
    assert not exceeds_json_depth(b'["' + b"[" * 1000 + b'"]', 1)  # inside a string
    assert not exceeds_json_depth(b'["\\\\\\"' + b"[" * 1000 + b'"]', 1)  # escaped backslash, escaped quote
    assert exceeds_json_depth(b'["\\\\"' + b", [" * 3, 3)  # the string ends after the escaped backslash
    assert not exceeds_json_depth(b'[["unterminated ' + b"[" * 100, 2)


def test_a_value_without_a_canonical_form_is_a_dataseal_error_not_a_value_error() -> None:
    with pytest.raises(CanonicalJsonError) as caught:
        canonical_json(float("nan"))
    assert isinstance(caught.value, DatasealError) and not isinstance(caught.value, ValueError)


def test_integers_of_more_digits_than_python_writes_are_refused() -> None:
    limit = sys.get_int_max_str_digits()
    with pytest.raises(CanonicalJsonError) as caught:
        canonical_json({"n": 10 ** (limit + 1)})
    assert caught.value.message.endswith(f"has more than {limit} digits, more than dataseal writes")
    assert caught.value.hint == "write such a number as a string"
