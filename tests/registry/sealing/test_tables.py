"""Sealing a table: canonical rows, salted digests, proofs that disclose one row, and malformed input."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
import sys
from pathlib import Path

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.evidence import verify_proof_document
from dataseal.registry.manifest import Manifest, read_manifest
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.sealing import (
    EmptyInputError,
    InputChangedError,
    MalformedTableError,
    SealError,
    SecretError,
    tables,
)
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import SealResult, prove, seal
from dataseal.registry.sealing.tables import SALT_NONCE_BYTES, RowSalter, read_secret, seal_rows

CSV = 'id,name,note\n1,alice,"x,y"\n2,bob,plain\n\n3,carol,"multi\nline ""quoted"""\n'
CSV_ROWS = [
    '{"id":"1","name":"alice","note":"x,y"}',
    '{"id":"2","name":"bob","note":"plain"}',
    '{"id":"3","name":"carol","note":"multi\\nline \\"quoted\\""}',
]
SECRET = bytes(range(32))


def root_of(rows: list[str], salts: list[bytes] | None = None) -> str:
    """The root as another implementation would compute it from the manifest's description."""
    digests = [
        hashlib.sha256((salts[i] if salts else b"") + row.encode("utf-8")).digest() for i, row in enumerate(rows)
    ]
    return StandardMerkleTree.of(list(enumerate(digests)), ["uint256", "bytes32"], sort_leaves=False).root_hex


def reference_salt(secret: bytes, nonce: bytes, context: str, index: int) -> bytes:
    """salt_i as the manifest's rowDigest describes it."""
    key = hmac.digest(secret, b"dataseal/row-salt/v2\x00" + nonce + context.encode(), "sha256")
    return hmac.digest(key, index.to_bytes(8, "big"), "sha256")


def nonce_of(manifest: Manifest) -> bytes:
    salt = manifest.content.salt  # type: ignore[union-attr]
    assert salt is not None
    return bytes.fromhex(salt.nonce[2:])


def tree_digests(result: SealResult) -> list[str]:
    """The row digests (d_i) in a sealed table's tree dump."""
    dump = json.loads(result.tree_path.read_text())
    return [entry["value"][1] for entry in sorted(dump["values"], key=lambda entry: int(entry["value"][0]))]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_csv_rows_are_canonical_json_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    result = seal(path, SealOptions(rows=True))
    assert result.root == root_of(CSV_ROWS)
    content = result.manifest.content
    assert content.kind == "table"
    assert (content.row_count, content.columns, content.salt) == (3, ("id", "name", "note"), None)  # type: ignore[union-attr]
    assert "RFC 4180" in content.canonicalization  # type: ignore[union-attr]
    proof = prove(path, result.manifest, row=2)
    assert proof.subject is not None and proof.subject.row == CSV_ROWS[2]  # type: ignore[union-attr]
    verify_proof_document(proof, root=result.root)


def test_columns_are_ordered_by_utf16_and_a_bom_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "\ufeff\uffff,\U0001f600,b\r\n1,2,3\r\n")
    sealed = seal_rows(path, capture=frozenset({0}))
    sealed.tree.close()
    assert sealed.captured[0][0] == '{"b":"3","\U0001f600":"2","\uffff":"1"}'  # U+1F600 is D83D DE00 in UTF-16
    assert sealed.columns == ["\uffff", "\U0001f600", "b"]  # the header as written


def test_jsonl_rows_are_re_serialised_canonically(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.jsonl",
        '{"b": 1.0, "a": [1e21, 0.5, -0]}\n\n  \n{"big": 123456789012345678901234567890}\n"just a string"\n',
    )
    rows = ['{"a":[1e+21,0.5,0],"b":1}', '{"big":123456789012345678901234567890}', '"just a string"']
    result = seal(path, SealOptions(rows=True))
    assert result.root == root_of(rows)
    assert result.manifest.content.columns is None  # type: ignore[union-attr]


def test_salted_rows_use_hmac_salts_and_proofs_disclose_only_their_row(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    salted = seal(path, SealOptions(rows=True, secret=SECRET, salt_context="2024 census"), out_dir=tmp_path / "salted")
    salts = [reference_salt(SECRET, nonce_of(salted.manifest), "2024 census", i) for i in range(3)]
    assert salted.root == root_of(CSV_ROWS, salts)
    assert salted.root != seal(path, SealOptions(rows=True), out_dir=tmp_path / "plain").root
    assert salted.manifest.content.salt.context == "2024 census"  # type: ignore[union-attr]
    assert salted.manifest.content.salt.scheme == "hmac-sha256-v2"  # type: ignore[union-attr]
    proof = prove(path, salted.manifest, row=1, secret=SECRET)
    assert proof.subject.salt == "0x" + salts[1].hex()  # type: ignore[union-attr]
    assert proof.subject.row == CSV_ROWS[1]  # type: ignore[union-attr]
    assert CSV_ROWS[0] not in proof.model_dump_json() and salts[0].hex() not in proof.model_dump_json()
    verify_proof_document(proof, root=salted.root)


def test_the_fast_hmac_is_hmac_sha256() -> None:
    nonce = bytes(range(100, 116))
    salter = RowSalter(SECRET, nonce, "ctx")
    assert [salter.salt(i) for i in (0, 1, 2**40)] == [reference_salt(SECRET, nonce, "ctx", i) for i in (0, 1, 2**40)]


def test_a_row_proof_discloses_no_salt_of_another_table_sealed_with_the_same_secret(tmp_path: Path) -> None:
    """The reviewer's reproducer: with salts from (secret, context, index) alone, the salt disclosed by a
    proof of row 0 of table A was the salt of row 0 of every table sealed with that secret, so anyone
    could test guesses of B's row 0 against B's public tree."""
    table_a = write(tmp_path, "a.csv", "name\nalice\n")
    table_b = write(tmp_path, "b.csv", "name\nbob\n")
    sealed_a = seal(table_a, SealOptions(rows=True, secret=SECRET))
    sealed_b = seal(table_b, SealOptions(rows=True, secret=SECRET))
    proof_a = prove(table_a, sealed_a.manifest, row=0, secret=SECRET)
    salt_a = bytes.fromhex(proof_a.subject.salt[2:])  # type: ignore[union-attr]
    guess = '{"name":"bob"}'  # B's row 0, which the attacker guesses
    leaf_b = tree_digests(sealed_b)[0]
    assert "0x" + hashlib.sha256(salt_a + guess.encode()).hexdigest() != leaf_b
    assert nonce_of(sealed_a.manifest) != nonce_of(sealed_b.manifest)
    proof_b = prove(table_b, sealed_b.manifest, row=0, secret=SECRET)  # B's own salt does reproduce it
    assert "0x" + hashlib.sha256(bytes.fromhex(proof_b.subject.salt[2:]) + guess.encode()).hexdigest() == leaf_b  # type: ignore[union-attr]


def test_sealing_a_table_twice_with_one_secret_gives_two_roots_both_provable(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    first = seal(path, SealOptions(rows=True, secret=SECRET), out_dir=tmp_path / "first")
    second = seal(path, SealOptions(rows=True, secret=SECRET), out_dir=tmp_path / "second")
    assert first.root != second.root and nonce_of(first.manifest) != nonce_of(second.manifest)
    assert len(first.manifest.content.salt.nonce) == 2 + 2 * SALT_NONCE_BYTES  # type: ignore[union-attr]
    for sealed in (first, second):
        manifest = read_manifest(sealed.manifest_path)  # prove from the manifest file, as the CLI does
        proof = prove(path, manifest, row=2, secret=SECRET)
        verify_proof_document(proof, root=sealed.root)
        assert proof.subject.salt == "0x" + reference_salt(SECRET, nonce_of(manifest), "", 2).hex()  # type: ignore[union-attr]
    other_salt = prove(path, second.manifest, row=2, secret=SECRET).subject.salt  # type: ignore[union-attr]
    assert prove(path, first.manifest, row=2, secret=SECRET).subject.salt != other_salt  # type: ignore[union-attr]


def test_a_salt_nonce_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(SecretError) as caught:
        RowSalter(SECRET, b"abc")
    assert caught.value.message == "the salt nonce is 3 bytes, expected 16 bytes"
    assert caught.value.hint == "take it from the manifest's salt.nonce (0x and 32 hex digits)"


def test_short_or_missing_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as caught:
        RowSalter(b"short", bytes(16))
    assert caught.value.message == "the salt secret is 5 bytes, fewer than 16"
    assert caught.value.hint.startswith("use at least 16 random bytes")
    with pytest.raises(SecretError) as caught:
        read_secret(tmp_path / "nope.key")
    assert str(caught.value) == (
        f"salt secret file {tmp_path / 'nope.key'} does not exist: check the path (a row is proved with the secret "
        "file its table was sealed with)"
    )
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.options == ("salt_secret",)
    with pytest.raises(SecretError) as caught:
        read_secret(tmp_path)
    assert str(caught.value) == (
        f"salt secret file {tmp_path} is not a regular file (it is a folder): give the path of a regular file"
    )
    assert caught.value.kind is ErrorKind.INVALID_INPUT


MEANT = "check that this is the table you meant"
QUOTE_IT = 'write the field as "x""y" (quoted, the quote doubled)'
SURROGATE = "write the character it stands for, or remove it"


@pytest.mark.parametrize(
    ("name", "text", "error", "message", "hint"),
    [
        ("t.csv", "", EmptyInputError, r"is empty \(0 bytes\): there are no rows to seal$", MEANT),
        ("t.csv", "a,b\n", EmptyInputError, "has no data rows", MEANT),
        ("t.csv", "\n\n", EmptyInputError, "has no header and no rows", MEANT),
        ("t.csv", "a,b\n1,2\n3\n", MalformedTableError, "line 3: 1 fields, but the header has 2$",
         "fix the row (quote fields that contain commas or newlines)"),
        ("t.csv", 'a,b\n1,"2"x\n', MalformedTableError, r"line 2: malformed CSV \(.*\)$",
         "fix the quoting of that record"),
        ("t.csv", "a,b\n1,\xff\n".encode("latin-1"), MalformedTableError, "is not valid UTF-8",
         "convert the file to UTF-8"),
        ("t.csv", "a,a\n1,2\n", MalformedTableError, r"column name 'a' appears twice \(columns 1 and 2\)",
         "rename one of the two columns"),
        ("t.csv", "a,\n1,2\n", MalformedTableError, "column 2 of the header has no name$", "name every column"),
        ("t.jsonl", '{"a": 1}\n{"a": \n', MalformedTableError, "line 2 is not valid JSON: Expecting value",
         "write each row as one JSON value on one line"),
        ("t.jsonl", '{"a": NaN}\n', MalformedTableError, r"line 1 \(row 0\): NaN is not valid JSON$",
         "write null or a string instead"),
        ("t.jsonl", '{"a": 1, "a": 2}\n', MalformedTableError, r"line 1 \(row 0\): duplicate key 'a'$",
         "keep one value per key"),
        ("t.jsonl", b'{"a": "\xff"}\n', MalformedTableError, r"line 1 is not valid UTF-8 \(.*\)$",
         "convert the file to UTF-8"),
        (
            "t.jsonl",
            '{"a": 1}\n\n{"a": "x\\ud800"}\n',
            MalformedTableError,
            r"line 3 \(row 1\): the string 'x\\ud800' holds a lone surrogate U\+D800, which is not Unicode text "
            r"\(I-JSON, RFC 7493, refuses it\)$",
            SURROGATE,
        ),
        ("t.jsonl", '{"\\udc00": 1}\n', MalformedTableError, r"line 1 \(row 0\): the string '\\udc00' holds a lone",
         SURROGATE),
        ("t.jsonl", "[" * 257 + "]" * 257, MalformedTableError, r"line 1 \(row 0\) nests arrays or objects more than",
         "flatten the row"),
        (
            "t.csv",
            'a,b\nx"y,1\n',
            MalformedTableError,
            "line 2: field 1 holds a double quote but is not enclosed in double quotes, and RFC 4180 allows quotes "
            "only in quoted fields$",
            QUOTE_IT,
        ),
        ("t.csv", 'a,b,c\n1,"multi\nline",x"y\n', MalformedTableError, "line 3: field 3 holds a double quote but",
         QUOTE_IT),
        ("t.csv", 'a"b,c\n1,2\n', MalformedTableError, "line 1: field 1 holds a double quote but is not enclosed",
         QUOTE_IT),
        ("t.csv", 'a,b\n1, "2"\n', MalformedTableError, "line 2: field 2 holds a double quote but is not enclosed",
         QUOTE_IT),
        ("t.jsonl", "\n\n", EmptyInputError, "has no data rows", MEANT),
        ("t.tsv", "a\tb\n", SealError, r"cannot tell the table format of .*t.tsv from its extension '.tsv'$",
         "name it .csv, .jsonl/.ndjson or .parquet, or give the format (csv, jsonl, parquet)"),
    ],
)
def test_malformed_and_empty_tables_are_refused(
    tmp_path: Path, name: str, text: str | bytes, error: type[SealError], message: str, hint: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(error) as caught:
        seal(path, SealOptions(rows=True))
    assert re.search(message, caught.value.message)
    assert caught.value.hint == hint
    assert not (tmp_path / f"{name}.dataseal" / "manifest.json").exists()


def test_an_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "export.txt", "a\n1\n")
    assert seal(path, SealOptions(rows=True, table_format="csv")).leaf_count == 1


def test_a_table_growing_while_read_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "a\n" + "1\n" * 100)

    def append(phase: str, done: int, total: int | None) -> None:
        if phase == "rows":
            with open(path, "a") as f:
                f.write("2\n")

    with pytest.raises(InputChangedError) as caught:
        seal(path, SealOptions(rows=True), progress=append)
    assert caught.value.message.startswith(f"{path} changed while it was being read")
    assert caught.value.hint == "try again when nothing is writing to it"


def test_parquet_without_pyarrow_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pyarrow is a test dependency; hide it as on a machine without it (None in sys.modules makes
    # `import pyarrow...` raise ImportError).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = write(tmp_path, "t.parquet", b"PAR1....PAR1")
    with pytest.raises(SealError) as caught:
        seal(path, SealOptions(rows=True))
    assert caught.value.message == f"sealing the Parquet table {path} needs pyarrow, which is not installed"
    assert caught.value.hint == "install pyarrow (`pip install pyarrow`), or convert the table to CSV or JSON Lines"
    assert caught.value.kind is ErrorKind.INTERNAL


def test_parquet_rows_when_pyarrow_is_installed(tmp_path: Path) -> None:
    import pyarrow as pa  # a test dependency (pyproject [test])
    import pyarrow.parquet as pq
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2], "name": ["a", "b"], "blob": [b"\x01", None]}), path)
    result = seal(path, SealOptions(rows=True))
    assert result.root == root_of(['{"blob":"0x01","id":1,"name":"a"}', '{"blob":null,"id":2,"name":"b"}'])


def test_quoted_fields_with_doubled_quotes_commas_and_newlines_pass_the_rfc4180_check(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", 'a,b\r\n"x""y","1,\r\n""2"""\r\n"",""""\r\nplain,\r\n')
    sealed = seal_rows(path, capture=frozenset({0, 1, 2}))
    sealed.tree.close()
    assert [sealed.captured[i][0] for i in range(3)] == [
        '{"a":"x\\"y","b":"1,\\r\\n\\"2\\""}',
        '{"a":"","b":"\\""}',
        '{"a":"plain","b":""}',
    ]


def test_csv_fields_over_128_kib_are_read_and_over_the_limit_have_their_own_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = "x" * (200 << 10)  # Python's csv module refuses fields over 128 KiB unless told otherwise
    path = write(tmp_path, "big.csv", f'a,b\n"{big}",1\n{big},2\n')
    result = seal(path, SealOptions(rows=True))
    assert result.root == root_of([f'{{"a":"{big}","b":"1"}}', f'{{"a":"{big}","b":"2"}}'])
    limit = csv.field_size_limit()
    monkeypatch.setattr(tables, "MAX_CSV_FIELD", 1000)
    try:
        with pytest.raises(
            MalformedTableError, match=r"line 2: a field is longer than 1,000 characters, the most"
        ) as caught:
            seal(path, SealOptions(rows=True), out_dir=tmp_path / "limited")
        assert caught.value.hint == "check the quoting, or seal the file by its bytes rather than its rows"
        assert caught.value.options == ("rows",) and "--" not in str(caught.value)
    finally:
        csv.field_size_limit(limit)  # the limit is process-wide


def test_jsonl_rows_nested_up_to_the_limit_are_sealed(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.jsonl", "[" * 256 + "]" * 256 + "\n" + '"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n')
    assert seal(path, SealOptions(rows=True)).leaf_count == 2


def test_parquet_nan_is_refused_naming_the_row_and_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": [1, 2], "f": [0.5, float("nan")]}), path)
    with pytest.raises(MalformedTableError) as caught:
        seal(path, SealOptions(rows=True))
    assert str(caught.value) == (
        f"{path} row 1, column 'f' cannot be sealed: nan has no JSON form (rows are sealed as canonical JSON): fix the "
        "value in the table (use null or a string), and seal it again"
    )
    pq.write_table(pa.table({"nested": [[1.0, float("-inf")]]}), path)
    with pytest.raises(MalformedTableError, match=r"row 0, column 'nested' cannot be sealed: -inf has no JSON form"):
        seal(path, SealOptions(rows=True))


def test_a_file_that_is_not_parquet_is_refused_naming_the_format(tmp_path: Path) -> None:
    path = write(tmp_path, "t.parquet", "a,b\n1,2\n")
    with pytest.raises(MalformedTableError) as caught:
        seal(path, SealOptions(rows=True))
    assert caught.value.message.startswith(f"{path} is not a readable Parquet file: ")
    assert caught.value.hint == "check that the file is a whole Parquet file, or give its real format"
    assert caught.value.options == ("table_format",)


def test_a_table_format_the_extension_does_not_tell_names_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, "t.tsv", "a\tb\n")
    with pytest.raises(SealError, match="cannot tell the table format of .*t.tsv from its extension") as caught:
        seal(path, SealOptions(rows=True))
    assert caught.value.options == ("table_format",)
    assert "give the format" in caught.value.hint


def test_a_jsonl_integer_of_more_digits_than_python_reads_is_refused(tmp_path: Path) -> None:
    limit = sys.get_int_max_str_digits()
    path = write(tmp_path, "big.jsonl", '{"a": 1}\n{"n": ' + "9" * (limit + 1) + "}\n")
    with pytest.raises(
        MalformedTableError, match=rf"line 2 \(row 1\) holds an integer of more than {limit} digits, more than"
    ) as caught:
        seal(path, SealOptions(rows=True))
    assert caught.value.hint == "write such a number as a string"


@pytest.mark.parametrize("scan_block", [1 << 20, 3])  # 3: a sequence split between two blocks of the scan
@pytest.mark.parametrize(
    ("data", "line", "offset", "reason"),
    [
        (b"id,name\n1,a\n2,b\xff\n3,c\n", 3, 15, "invalid start byte"),
        (b"id,name\n" + b"".join(b"%d,abc\n" % i for i in range(50_000)) + b"x,\xe2\x82\n", 50_002, 488_900,
         "invalid continuation byte"),
        (b"id,name\n1,a\n2,\xc3", 3, 14, "unexpected end of data"),
        (b"id,\xe4\xb8\xad\xe6\n1,a\n", 1, 6, "invalid continuation byte"),
    ],
)
def test_a_csv_utf8_error_names_the_line_and_byte_it_is_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_block: int, data: bytes, line: int, offset: int, reason: str
) -> None:
    monkeypatch.setattr(tables, "_SCAN_BLOCK", scan_block)
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(MalformedTableError) as caught:
        seal_rows(path)
    assert caught.value.message == f"{path} line {line} is not valid UTF-8 ({reason} at byte {offset} of the file)"
    assert data.count(b"\n", 0, offset) + 1 == line  # (the cases themselves are right)
