"""Sealing a table: canonical rows, salted digests, proofs that disclose one row, and malformed input."""

from __future__ import annotations

import hashlib
import hmac
import sys
from pathlib import Path

import pytest

from registry.evidence import verify_proof_document
from registry.merkle import StandardMerkleTree
from registry.sealing import EmptyInputError, InputChangedError, MalformedTableError, SealError, SecretError
from registry.sealing.seal import prove, seal
from registry.sealing.tables import RowSalter, read_secret, seal_rows

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


def reference_salt(secret: bytes, context: str, index: int) -> bytes:
    key = hmac.digest(secret, b"dataseal/row-salt/v1\x00" + context.encode(), "sha256")
    return hmac.digest(key, index.to_bytes(8, "big"), "sha256")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_csv_rows_are_canonical_json_objects(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    result = seal(path, rows=True)
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
    result = seal(path, rows=True)
    assert result.root == root_of(rows)
    assert result.manifest.content.columns is None  # type: ignore[union-attr]


def test_salted_rows_use_hmac_salts_and_proofs_disclose_only_their_row(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    salted = seal(path, rows=True, secret=SECRET, salt_context="2024 census", out_dir=tmp_path / "salted")
    salts = [reference_salt(SECRET, "2024 census", i) for i in range(3)]
    assert salted.root == root_of(CSV_ROWS, salts)
    assert salted.root != seal(path, rows=True, out_dir=tmp_path / "plain").root
    assert salted.root != seal(path, rows=True, secret=SECRET, out_dir=tmp_path / "other-context").root
    assert salted.manifest.content.salt.context == "2024 census"  # type: ignore[union-attr]
    proof = prove(path, salted.manifest, row=1, secret=SECRET)
    assert proof.subject.salt == "0x" + salts[1].hex()  # type: ignore[union-attr]
    assert proof.subject.row == CSV_ROWS[1]  # type: ignore[union-attr]
    assert CSV_ROWS[0] not in proof.model_dump_json() and salts[0].hex() not in proof.model_dump_json()
    verify_proof_document(proof, root=salted.root)


def test_proving_a_salted_row_needs_the_same_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    sealed = seal(path, rows=True, secret=SECRET)
    with pytest.raises(SecretError, match="sealed with per-row salts: give the same salt secret"):
        prove(path, sealed.manifest, row=0)
    with pytest.raises(InputChangedError, match="the salt secret is not the one it was sealed with"):
        prove(path, sealed.manifest, row=0, secret=b"another secret of 32 bytes......")


def test_the_fast_hmac_is_hmac_sha256() -> None:
    salter = RowSalter(SECRET, "ctx")
    assert [salter.salt(i) for i in (0, 1, 2**40)] == [reference_salt(SECRET, "ctx", i) for i in (0, 1, 2**40)]


def test_short_or_missing_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="the salt secret is 5 bytes; use at least 16 random bytes"):
        RowSalter(b"short")
    with pytest.raises(SecretError, match="salt secret file .*nope.key does not exist"):
        read_secret(tmp_path / "nope.key")
    path = write(tmp_path, "f.bin", b"data")
    with pytest.raises(SecretError, match="a salt secret applies to table rows only"):
        seal(path, secret=SECRET)


@pytest.mark.parametrize(
    ("name", "text", "error", "message"),
    [
        ("t.csv", "", EmptyInputError, r"is empty \(0 bytes\): there are no rows to seal"),
        ("t.csv", "a,b\n", EmptyInputError, "has no data rows"),
        ("t.csv", "\n\n", EmptyInputError, "has no header and no rows"),
        ("t.csv", "a,b\n1,2\n3\n", MalformedTableError, "line 3: 1 fields, but the header has 2"),
        ("t.csv", 'a,b\n1,"2"x\n', MalformedTableError, "line 2: malformed CSV"),
        ("t.csv", "a,b\n1,\xff\n".encode("latin-1"), MalformedTableError, "is not valid UTF-8"),
        ("t.csv", "a,a\n1,2\n", MalformedTableError, r"column name 'a' appears twice \(columns 1 and 2\)"),
        ("t.csv", "a,\n1,2\n", MalformedTableError, "column 2 of the header has no name"),
        ("t.jsonl", '{"a": 1}\n{"a": \n', MalformedTableError, "line 2 is not valid JSON: Expecting value"),
        ("t.jsonl", '{"a": NaN}\n', MalformedTableError, "line 1: NaN is not valid JSON"),
        ("t.jsonl", '{"a": 1, "a": 2}\n', MalformedTableError, "line 1: duplicate key 'a'"),
        ("t.jsonl", b'{"a": "\xff"}\n', MalformedTableError, "line 1 is not valid UTF-8"),
        ("t.jsonl", "\n\n", EmptyInputError, "has no data rows"),
        ("t.tsv", "a\tb\n", SealError, r"cannot tell the table format of .*t.tsv from its extension '.tsv'"),
    ],
)
def test_malformed_and_empty_tables_are_refused(
    tmp_path: Path, name: str, text: str | bytes, error: type[Exception], message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(error, match=message):
        seal(path, rows=True)
    assert not (tmp_path / f"{name}.dataseal" / "manifest.json").exists()


def test_an_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "export.txt", "a\n1\n")
    assert seal(path, rows=True, table_format="csv").leaf_count == 1
    with pytest.raises(SealError, match="unknown table format 'xlsx'; use one of csv, jsonl, parquet"):
        seal(path, rows=True, table_format="xlsx")


def test_a_table_growing_while_read_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", "a\n" + "1\n" * 100)

    def append(phase: str, done: int, total: int | None) -> None:
        if phase == "rows":
            with open(path, "a") as f:
                f.write("2\n")

    with pytest.raises(InputChangedError, match="changed while it was being read"):
        seal(path, rows=True, progress=append)


def test_a_row_out_of_range_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", CSV)
    sealed = seal(path, rows=True)
    with pytest.raises(SealError, match=r"has 3 rows \(0 to 2\); row 3 does not exist"):
        prove(path, sealed.manifest, row=3)


def test_parquet_without_pyarrow_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pyarrow is a test dependency; hide it as on a machine without it (None in sys.modules makes
    # `import pyarrow...` raise ImportError).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = write(tmp_path, "t.parquet", b"PAR1....PAR1")
    with pytest.raises(SealError, match="needs pyarrow, which is not installed: `pip install pyarrow`"):
        seal(path, rows=True)


def test_parquet_rows_when_pyarrow_is_installed(tmp_path: Path) -> None:
    import pyarrow as pa  # a test dependency (pyproject [test])
    import pyarrow.parquet as pq
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2], "name": ["a", "b"], "blob": [b"\x01", None]}), path)
    result = seal(path, rows=True)
    assert result.root == root_of(['{"blob":"0x01","id":1,"name":"a"}', '{"blob":null,"id":2,"name":"b"}'])
