"""The manifest: schema file, deterministic hash over canonical JSON, and refusing what it cannot read."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.manifest import (
    Manifest,
    ManifestError,
    ManifestMetadata,
    load_manifest,
    manifest_json_schema,
    parse_rights,
    read_json,
    read_manifest,
    shipped_json_schema,
    verify_manifest_form,
)
from dataseal.registry.merkle import keccak256
from dataseal.registry.sealing.canonical import CanonicalJsonError
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import seal

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "dataseal" / "registry" / "schemas" / "manifest.schema.json"


def sealed_manifest(tmp_path: Path, **metadata: Any) -> dict[str, Any]:
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "data.bin"
    path.write_bytes(b"some data" * 100)
    result = seal(path, SealOptions(chunk_size=256), metadata=ManifestMetadata(**metadata), out_dir=tmp_path / "out")
    data: dict[str, Any] = json.loads(result.manifest_path.read_text())
    return data


def test_the_shipped_schema_is_the_models_schema() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == manifest_json_schema(), (
        'dataseal/registry/schemas/manifest.schema.json is stale; regenerate it: .venv/bin/python -c "import json; '
        "from dataseal.registry.manifest import manifest_json_schema as s; "
        "open('dataseal/registry/schemas/manifest.schema.json', 'w')"
        ".write(json.dumps(s(), indent=2, ensure_ascii=False) + '\\n')\""
    )
    assert shipped_json_schema() == manifest_json_schema()  # found as package data


def test_schema_requires_every_field_the_hash_covers() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                found.append(node)
            for child in node.values():
                found += objects(child)
        return found

    for obj in objects(manifest_json_schema()):
        assert set(obj["required"]) == set(obj["properties"]), obj.get("title")


def test_the_hash_is_keccak256_of_the_canonical_json(tmp_path: Path) -> None:
    data = sealed_manifest(tmp_path, title="Prices", description="Daily prices", rights_type=("holding", "operation"))
    manifest = load_manifest(data)
    # ASCII-only and no floats: canonical JSON is sorted keys without whitespace.
    expected = keccak256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    assert manifest.hash == expected
    assert manifest.rights_bitmask == 5
    reordered = json.loads(json.dumps(data, indent=4, sort_keys=True))
    assert load_manifest(reordered).hash == expected  # layout of the file does not matter


def test_the_same_data_and_metadata_give_the_same_hash(tmp_path: Path) -> None:
    one = load_manifest(sealed_manifest(tmp_path / "1", title="T"))
    two = load_manifest(sealed_manifest(tmp_path / "2", title="T"))
    other = load_manifest(sealed_manifest(tmp_path / "3", title="U"))
    assert one.hash == two.hash != other.hash


SEALED = "use the manifest.json written when the data was sealed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "has manifest version 2; this dataseal reads version 1: upgrade dataseal to "
         "read it"),
        (lambda d: d.update(version="1"), "has manifest version '1'; this dataseal reads version 1, so the file is not "
         f"a valid manifest: {SEALED}"),
        (lambda d: d.update(kind="dataseal.proof"), "is not a dataseal manifest: its kind is 'dataseal.proof', "
         f"expected 'dataseal.manifest': {SEALED}"),
        (lambda d: d.pop("tree"), "is invalid: tree: Field required"),
        (lambda d: d["tree"].update(root="0x1234"), "is invalid: tree.root: String should match pattern"),
        (lambda d: d.update(extra=1), "is invalid: extra: Extra inputs are not permitted"),
        (lambda d: d.update(rightsType=["operation", "holding"]), "in the order holding, processing, operation"),
        (lambda d: d["content"].update(kind="video"), "content: Input tag 'video' found using 'kind' does not match"),
    ],
)
def test_manifests_of_unknown_versions_or_wrong_shape_are_refused(tmp_path: Path, change: Any, message: str) -> None:
    data = sealed_manifest(tmp_path)
    change(data)
    with pytest.raises(ManifestError) as caught:
        load_manifest(data, where="m.json")
    assert message in str(caught.value)
    assert caught.value.hint in (SEALED, "upgrade dataseal to read it")


def test_truncated_or_missing_manifest_files_are_refused(tmp_path: Path) -> None:
    data = sealed_manifest(tmp_path)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data)[:100])
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert re.fullmatch(r"manifest file .*m.json is not valid JSON \(.*\); it is truncated or corrupted",
                        caught.value.message)
    assert caught.value.hint == "check that this is the file you meant, or use an intact copy"
    with pytest.raises(ManifestError) as caught:
        read_manifest(tmp_path / "absent.json")
    assert str(caught.value) == f"manifest file {tmp_path / 'absent.json'} does not exist: check the path"
    assert caught.value.kind is ErrorKind.NOT_FOUND and ManifestError.kind is ErrorKind.INVALID_INPUT
    with pytest.raises(ManifestError) as caught:
        load_manifest([1, 2])
    assert str(caught.value) == (
        f"manifest is not a JSON object; a manifest is an object with kind 'dataseal.manifest': {SEALED}"
    )


def test_unreadable_manifest_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value) == (
        f"manifest file {tmp_path} is not a regular file (it is a folder): give the path of a regular file"
    )
    path = tmp_path / "m.json"
    path.write_bytes(b'{"kind": "\xff"}')
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert caught.value.message.startswith(f"cannot read manifest file {path}: 'utf-8' codec can't decode")
    assert caught.value.message.endswith("; a dataseal document is UTF-8 JSON")
    assert caught.value.hint == "check that this is the file you meant"


def test_metadata_that_makes_no_valid_manifest_is_refused_at_sealing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x")
    hint = (
        "check the title, description, rights, licence and source given for the data (the title is the data's name "
        "unless one is given)"
    )
    with pytest.raises(ManifestError) as caught:
        seal(path, metadata=ManifestMetadata(rights_type=("processing", "holding")))
    assert caught.value.message.startswith(
        "the manifest is invalid: rights_type: Value error, list each rights type once"
    )
    assert caught.value.hint == hint
    with pytest.raises(ManifestError) as caught:
        seal(path, metadata=ManifestMetadata(title="x\ud800"))
    assert caught.value.message == (
        "the manifest is invalid: title: Input should be a valid string, unable to parse raw data as a unicode string"
    )
    assert caught.value.hint == hint

    def no_canonical_form(self: Manifest) -> bytes:
        raise CanonicalJsonError("float value 0.5 has no canonical JSON form", hint="give a string")

    monkeypatch.setattr(Manifest, "canonical_bytes", no_canonical_form)
    with pytest.raises(ManifestError) as caught:
        seal(path)
    assert str(caught.value) == (
        "the manifest cannot be written as canonical JSON: float value 0.5 has no canonical JSON form: give a string"
    )


def test_rights_names() -> None:
    assert parse_rights("operation, Holding") == ("holding", "operation")
    with pytest.raises(ManifestError) as caught:
        parse_rights("holding,owning")
    assert caught.value.message == "unknown rights type owning"
    assert caught.value.hint == (
        "use one or more of holding, processing, operation, comma-separated (数据资源持有, 数据加工使用, 数据产品经营)"
    )
    assert caught.value.options == ("rights_type",)


ALTERED = "the manifest was altered or is not in dataseal's form"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["tree"].update(leafCount=str(d["tree"]["leafCount"])), "tree.leafCount: Input should be a valid"),
        (lambda d: d["content"].update(chunkSize=256.0), "content.file.chunkSize: Input should be a valid integer"),
        (lambda d: d["content"].update(size=True), "content.file.size: Input should be a valid integer"),
        (
            lambda d: d["tree"].update(leaf_count=d["tree"].pop("leafCount")),
            "tree.leaf_count: Extra inputs are not permitted (keys are camelCase: leafCount)",
        ),
        (
            lambda d: d.update(rights_type=d.pop("rightsType")),
            "rights_type: Extra inputs are not permitted (keys are camelCase: rightsType)",
        ),
        (lambda d: d["tree"].update(depth=3), "tree.depth: Extra inputs are not permitted"),
        (lambda d: d.update(title="x\ud800"), "holds a lone surrogate U+D800"),
    ],
)
def test_manifests_are_read_strictly_so_that_one_hash_means_one_file(
    tmp_path: Path, change: Any, message: str
) -> None:
    """Lax reading coerced "5" to 5 and took snake_case keys: other files, the same manifest hash."""
    data = sealed_manifest(tmp_path)
    change(data)
    with pytest.raises(ManifestError) as caught:
        load_manifest(data, where="m.json")
    assert message in caught.value.message
    assert caught.value.message.startswith("m.json is ")
    assert caught.value.hint == SEALED
    assert "dataseal seal" not in str(caught.value)


def test_a_file_read_strictly_must_also_be_the_manifests_own_canonical_form(tmp_path: Path) -> None:
    data = sealed_manifest(tmp_path)
    manifest = load_manifest(data)
    verify_manifest_form(manifest.canonical_bytes().decode(), manifest)
    other = dict(data, title="Other")
    with pytest.raises(
        ManifestError, match=r"m.json is not in dataseal's form: its canonical JSON differs from the "
        r"manifest read from it at character \d+ .*\"title\":\"Other\".*the manifest was altered"
    ) as caught:
        verify_manifest_form(json.dumps(other, sort_keys=True, separators=(",", ":")), manifest, where="m.json")
    assert caught.value.hint == "use the manifest.json written when the data was sealed"


AS_WRITTEN = "use the file as dataseal wrote it"
MEANT = "check that this is the file you meant"


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ('{"kind": "a", "kind": "b"}', "is not a dataseal document: the key 'kind' appears twice in one object",
         AS_WRITTEN),
        ('{"size": NaN}', "is not a dataseal document: NaN is not JSON; it was altered or written by hand", AS_WRITTEN),
        ("[" * 100_000, "nests arrays or objects more than 64 levels deep; no dataseal proof, evidence bundle", MEANT),
        ("[" * 65 + "]" * 65, "nests arrays or objects more than 64 levels deep", MEANT),
        ('{"a": ' + "{" * 65, "nests arrays or objects more than 64 levels deep", MEANT),
    ],
)
def test_read_json_refuses_repeated_keys_nan_and_absurd_nesting(
    tmp_path: Path, text: str, message: str, hint: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(ManifestError, match="manifest file .*m.json ") as caught:
        read_json(path, "manifest", ManifestError)
    assert message in caught.value.message
    assert caught.value.hint == hint


def test_read_json_reads_nesting_up_to_the_limit_and_ignores_brackets_in_strings(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("[" * 64 + '"]]]][[[[\\"[[[["' + "]" * 64)
    data = read_json(path, "manifest", ManifestError)
    for _ in range(63):
        data = data[0]
    assert data == [']]]][[[["[[[[']


def test_read_json_refuses_integers_of_more_digits_than_python_reads(tmp_path: Path) -> None:
    """json.loads raises a bare ValueError for those: it reached `dataseal check` users as an internal error."""
    limit = sys.get_int_max_str_digits()
    path = tmp_path / "m.json"
    path.write_text('{"a": ' + "9" * (limit + 1) + "}")
    with pytest.raises(ManifestError) as caught:
        read_json(path, "manifest", ManifestError)
    assert caught.value.message == (
        f"manifest file {path} holds an integer of more than {limit} digits; no dataseal proof, evidence bundle, "
        "manifest or tree dump does"
    )
    assert caught.value.hint == "check that this is the file you meant"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # 900 bytes in chunks of 256: 4 chunks
        (lambda d: d["tree"].update(leafCount=3), "tree.leafCount is 3, but the content has 4 chunks"),
        (lambda d: d["tree"].update(leafCount=5), "tree.leafCount is 5, but the content has 4 chunks"),
        (lambda d: d["content"].update(size=10**30), "content.file.size: Input should be less than or equal to "
         "1125899906842624"),
        (lambda d: d["content"].update(chunkSize=2**70), "content.file.chunkSize: Input should be less than or equal "
         "to 1073741824"),
        (lambda d: d["content"].update(size=1 << 40, chunkSize=1), "content: 1099511627776 chunks, more than the "
         "1048576 a sealed file may have"),
        (lambda d: d["tree"].update(leafEncoding=["string", "uint256", "bytes32"]), "tree.leafEncoding is "
         "['string', 'uint256', 'bytes32'], but a file's leaves are ['uint256', 'bytes32']"),
    ],
)
def test_a_manifests_tree_must_agree_with_its_content(tmp_path: Path, change: Any, message: str) -> None:
    data = sealed_manifest(tmp_path)
    assert (data["content"]["size"], data["content"]["chunkSize"], data["tree"]["leafCount"]) == (900, 256, 4)
    change(data)
    with pytest.raises(ManifestError) as caught:
        load_manifest(data, where="m.json")
    assert message in str(caught.value)


def test_a_folder_or_table_manifest_counts_its_files_or_rows(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")
    table = tmp_path / "t.csv"
    table.write_text("id\n1\n2\n3\n")
    for path, options, count_key, words in (
        (folder, SealOptions(), "fileCount", "2 files (fileCount)"), (table, SealOptions(rows=True), "rowCount",
                                                                       "3 rows (rowCount)"),
    ):
        data = json.loads(seal(path, options, out_dir=tmp_path / f"{path.name}.seal")
                          .manifest_path.read_text())
        load_manifest(data)
        data["tree"]["leafCount"] += 1
        with pytest.raises(ManifestError, match=rf"tree.leafCount is {data['tree']['leafCount']}, but the content "
                           rf"has {re.escape(words)}"):
            load_manifest(data)
        data["tree"]["leafCount"] -= 1
        data["content"][count_key] += 1
        with pytest.raises(ManifestError, match="tree.leafCount is"):
            load_manifest(data)


def test_read_json_reads_regular_files_of_at_most_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"a": 1}')
    assert read_json(path, "document", ManifestError, limit=8) == {"a": 1}
    with pytest.raises(ManifestError) as caught:
        read_json(path, "document", ManifestError, limit=7)
    assert str(caught.value) == (
        f"document file {path} is larger than 7 bytes, more than any valid one holds: check that this is the file "
        "you meant"
    )
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ManifestError, match="is not a regular file \\(it is a FIFO\\)"):
        read_json(fifo, "document", ManifestError)
