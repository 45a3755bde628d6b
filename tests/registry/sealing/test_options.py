"""SealOptions: every setting of a seal checked once, where the options are built; sizes in binary units."""

from __future__ import annotations

import dataclasses

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.sealing import SealError, SecretError
from dataseal.registry.sealing.options import SealOptions, parse_size

SECRET = bytes(range(32))


def test_the_defaults_seal_a_file_in_1_mib_chunks_refusing_links_and_special_files() -> None:
    options = SealOptions()
    assert (options.rows, options.chunk_size, options.symlinks, options.special, options.secret) == (
        False, 1 << 20, "refuse", "refuse", None
    )


def test_options_are_frozen_and_keep_the_secret_out_of_their_repr() -> None:
    options = SealOptions(rows=True, secret=SECRET, salt_context="census")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.rows = False  # type: ignore[misc]
    assert SECRET.hex() not in repr(options) and str(SECRET) not in repr(options)
    assert "census" in repr(options)


@pytest.mark.parametrize("chunk_size", [0, -5, (1 << 30) + 1])
def test_chunk_sizes_out_of_range_are_refused(chunk_size: int) -> None:
    with pytest.raises(SealError) as caught:
        SealOptions(chunk_size=chunk_size)
    assert caught.value.message == f"chunk size {chunk_size} is out of range"
    assert caught.value.hint == "use 1 byte to 1 GiB (1073741824 bytes); the default is 1048576 (1 MiB)"
    assert caught.value.options == ("chunk_size",) and caught.value.kind is ErrorKind.INVALID_INPUT


def test_the_largest_and_smallest_chunk_sizes_are_taken() -> None:
    assert SealOptions(chunk_size=1).chunk_size == 1
    assert SealOptions(chunk_size=1 << 30).chunk_size == 1 << 30


def test_unknown_policies_are_refused_naming_the_option() -> None:
    with pytest.raises(SealError) as caught:
        SealOptions(symlinks="maybe")  # type: ignore[arg-type]
    assert str(caught.value) == "'maybe' is not a symlink policy: use refuse, skip or follow"
    assert caught.value.options == ("symlinks",)
    with pytest.raises(SealError) as caught:
        SealOptions(special="follow")  # type: ignore[arg-type]
    assert str(caught.value) == "'follow' is not a policy for special files: use refuse or skip"
    assert caught.value.options == ("special",)


def test_an_unknown_table_format_is_refused() -> None:
    with pytest.raises(SealError) as caught:
        SealOptions(rows=True, table_format="xlsx")  # type: ignore[arg-type]
    assert str(caught.value) == "unknown table format 'xlsx': use one of csv, jsonl, parquet"
    assert caught.value.options == ("table_format",)


def test_a_salt_secret_applies_to_rows_only() -> None:
    with pytest.raises(SecretError, match="a salt secret applies to table rows only") as caught:
        SealOptions(secret=SECRET)
    assert caught.value.message == "a salt secret applies to table rows only"
    assert caught.value.hint.startswith("seal the table's rows, or leave out the secret")
    assert caught.value.options == ("rows", "salt_secret")
    assert "--" not in str(caught.value)


def test_short_secrets_nonces_of_the_wrong_length_and_contexts_that_are_not_text_are_refused() -> None:
    with pytest.raises(SecretError) as caught:
        SealOptions(rows=True, secret=b"short")
    assert caught.value.message == "the salt secret is 5 bytes, fewer than 16"
    assert caught.value.hint == (
        "use at least 16 random bytes, e.g. `head -c 32 /dev/urandom > secret.key`, and keep them: proofs of rows "
        "need them"
    )
    assert caught.value.options == ("salt_secret",)
    with pytest.raises(SecretError) as caught:
        SealOptions(rows=True, secret="a text secret of 32 characters!!")  # type: ignore[arg-type]
    assert str(caught.value) == "the salt secret is str, not bytes: give the secret's bytes"
    with pytest.raises(SecretError) as caught:
        SealOptions(rows=True, secret=SECRET, salt_nonce=b"abc")
    assert str(caught.value) == (
        "the salt nonce is 3 bytes, expected 16 bytes: take it from the manifest's salt.nonce (0x and 32 hex digits)"
    )
    with pytest.raises(SecretError, match="a salt nonce applies to salted rows only: give the salt secret too"):
        SealOptions(rows=True, salt_nonce=bytes(16))
    with pytest.raises(SecretError) as caught:
        SealOptions(rows=True, secret=SECRET, salt_context="x\ud800")
    assert caught.value.message == "the salt context 'x\\ud800' is not Unicode text (it holds a lone surrogate)"
    assert caught.value.hint == "give plain text, or no salt context"
    assert caught.value.options == ("salt_context",)


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1 << 20), ("1MiB", 1 << 20), ("64k", 64 << 10), ("4M", 4 << 20), ("2 GiB", 2 << 30)]
)
def test_chunk_sizes_take_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["1.5MiB", "lots", "", "-1", "9" * 5000])
def test_chunk_size_garbage_is_refused(text: str) -> None:
    with pytest.raises(SealError, match="is not a size") as caught:
        parse_size(text)
    assert caught.value.hint == "give bytes (1048576) or a binary unit (64KiB, 1MiB, 4M)"
    assert caught.value.options == ("chunk_size",)
