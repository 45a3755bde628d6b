"""seal and prove: output folders, options from a manifest, what a proof may ask for, and errors of the disk."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.merkle.digests import IndexedDigestTreeBuilder
from dataseal.registry.sealing import EmptyInputError, InputChangedError, SealError, SecretError
from dataseal.registry.sealing import seal as seal_module
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import compute_tree, manifest_options, prove, seal

CSV = "id,name\n1,alice\n2,bob\n3,carol\n"
SECRET = bytes(range(32))


def expected_root(data: bytes, chunk_size: int) -> str:
    """The root as anyone would recompute it: @openzeppelin/merkle-tree with sortLeaves false."""
    values = [
        (i, hashlib.sha256(data[o : o + chunk_size]).digest()) for i, o in enumerate(range(0, len(data), chunk_size))
    ]
    return StandardMerkleTree.of(values, ["uint256", "bytes32"], sort_leaves=False).root_hex


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SealError) as caught:
        seal(tmp_path / "nope.bin")
    assert str(caught.value) == f"{tmp_path / 'nope.bin'} does not exist: check the path"
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_an_output_folder_that_cannot_be_made_names_the_option(tmp_path: Path) -> None:
    path = write(tmp_path, "data.bin", b"x")
    (tmp_path / "taken").write_bytes(b"a file where the folder's parent should be")
    with pytest.raises(SealError) as caught:
        seal(path, out_dir=tmp_path / "taken" / "out")
    assert caught.value.message == f"cannot create the output folder {tmp_path / 'taken' / 'out'}: Not a directory"
    assert caught.value.hint == "choose another output folder, or check that you may write in its parent"
    assert caught.value.options == ("out_dir",)


def test_chunk_digests_reach_the_tree_builder_in_bounded_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(1000)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    calls: list[int] = []
    real_add_many = IndexedDigestTreeBuilder.add_many

    def recording(self: IndexedDigestTreeBuilder, digests: bytes) -> None:
        calls.append(len(digests) // 32)
        real_add_many(self, digests)

    monkeypatch.setattr(IndexedDigestTreeBuilder, "add_many", recording)
    monkeypatch.setattr(seal_module, "_DIGEST_BLOCK", 10, raising=False)
    result = seal(path, SealOptions(chunk_size=16))
    assert result.root == expected_root(data, 16)
    assert sum(calls) == 63 and max(calls) == 10


def test_an_output_folder_inside_the_sealed_folder_is_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    with pytest.raises(SealError, match="is inside the folder being sealed") as caught:
        seal(root, out_dir=root / ".seal")
    assert caught.value.hint == "choose an output folder outside it" and caught.value.options == ("out_dir",)


def test_proving_a_salted_row_needs_the_same_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "people.csv", CSV)
    sealed = seal(path, SealOptions(rows=True, secret=SECRET))
    with pytest.raises(SecretError, match="sealed with per-row salts: give the same salt secret") as caught:
        prove(path, sealed.manifest, row=0)
    assert caught.value.message == f"{path} was sealed with per-row salts"
    assert caught.value.options == ("salt_secret",)
    with pytest.raises(InputChangedError) as changed:
        prove(path, sealed.manifest, row=0, secret=b"another secret of 32 bytes......")
    assert changed.value.message.startswith(f"{path} no longer matches its manifest: root expected {sealed.root}")
    assert changed.value.message.endswith("(the salt secret is not the one it was sealed with, or the table changed)")
    assert changed.value.hint == (
        "give the salt secret it was sealed with; if the table changed, prove from the sealed version of the data, or "
        "seal it again"
    )
    assert changed.value.kind is ErrorKind.CONFLICT and changed.value.options == ("salt_secret",)


def test_proving_from_data_changed_since_it_was_sealed_is_a_conflict(tmp_path: Path) -> None:
    path = write(tmp_path, "data.bin", b"x" * 250)
    sealed = seal(path, SealOptions(chunk_size=100))
    path.write_bytes(b"y" * 250)
    with pytest.raises(InputChangedError) as changed:
        prove(path, sealed.manifest, chunk=0)
    assert changed.value.message.endswith("(it changed since it was sealed)")
    assert changed.value.hint == "prove from the sealed version of the data, or seal it again"
    assert changed.value.kind is ErrorKind.CONFLICT and changed.value.options == ()


def test_a_row_out_of_range_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", CSV)
    sealed = seal(path, SealOptions(rows=True))
    with pytest.raises(SealError) as caught:
        prove(path, sealed.manifest, row=3)
    assert str(caught.value) == f"{path} has 3 rows; row 3 does not exist: give a row from 0 (the first data row) to 2"
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.options == ("row",)


def test_a_failed_first_seal_leaves_no_output_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(EmptyInputError):
        seal(empty)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.bin"]


def test_a_failed_seal_keeps_an_output_folder_it_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(EmptyInputError):
        seal(tmp_path / "empty.bin", out_dir=out)
    assert out.is_dir()



@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("file", SealOptions(chunk_size=100)),
        ("folder", SealOptions(symlinks="skip", special="skip")),
        ("table", SealOptions(rows=True)),
        ("salted table", SealOptions(rows=True, secret=SECRET, salt_context="2024")),
    ],
)
def test_the_options_of_a_manifest_recompute_its_tree(tmp_path: Path, kind: str, options: SealOptions) -> None:
    if kind == "folder":
        path = make_folder(tmp_path / "data", {"a.txt": b"a", "b/c.txt": b"c" * 300})
        (path / "link").symlink_to("a.txt")
    elif kind == "file":
        path = write(tmp_path, "data.bin", os.urandom(1000))
    else:
        path = write(tmp_path, "t.csv", CSV)
    sealed = seal(path, options)
    again = manifest_options(sealed.manifest, secret=options.secret)
    assert again.salt_nonce is not None if kind == "salted table" else again.salt_nonce is None
    assert again == SealOptions(
        rows=options.rows, chunk_size=options.chunk_size if kind == "file" else again.chunk_size,
        table_format="csv" if options.rows else None, secret=options.secret, salt_nonce=again.salt_nonce,
        salt_context=options.salt_context, symlinks=options.symlinks, special=options.special,
    )
    with compute_tree(path, again) as computed:
        assert computed.tree.root_hex == sealed.root


def test_a_folder_is_not_sealed_by_rows(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.csv": b"a\n1\n"})
    with pytest.raises(SealError) as caught:
        seal(root, SealOptions(rows=True), out_dir=tmp_path / "out")
    assert caught.value.message == (
        f"{root} is a folder; only a table file (CSV, JSON Lines, Parquet) is sealed by its rows"
    )
    assert caught.value.hint == "seal the folder without rows (one leaf per file), or one table file of it"
    assert caught.value.options == ("rows",) and "--" not in str(caught.value)


@pytest.mark.parametrize(
    ("parts", "message", "hint"),
    [
        ({"chunk": 1}, "a proof is of one row (asked for chunk 1)", "say which row to prove"),
        ({"file": "a.txt"}, "a proof is of one row (asked for file 'a.txt')", "say which row to prove"),
        ({}, "a proof is of one row", "say which row to prove"),
        ({"chunk": 1, "row": 2}, "a proof is of one row (asked for chunk 1, row 2)", "name only the row to prove"),
    ],
)
def test_a_proof_names_one_part_of_the_kind_that_was_sealed(
    tmp_path: Path, parts: dict[str, object], message: str, hint: str
) -> None:
    path = write(tmp_path, "t.csv", CSV)
    sealed = seal(path, SealOptions(rows=True))
    with pytest.raises(SealError) as caught:
        prove(path, sealed.manifest, **parts)  # type: ignore[arg-type]
    assert caught.value.message == f"{path} was sealed as a table (rows): {message}"
    assert caught.value.hint == hint and caught.value.options == ("row",)


def test_an_unsalted_table_is_proved_without_a_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", CSV)
    sealed = seal(path, SealOptions(rows=True))
    with pytest.raises(SecretError) as caught:
        prove(path, sealed.manifest, row=0, secret=SECRET)
    assert str(caught.value) == f"{path} was sealed without salts: leave out the salt secret"
    assert caught.value.options == ("salt_secret",)


def test_a_chunk_out_of_range_is_not_found(tmp_path: Path) -> None:
    path = write(tmp_path, "data.bin", b"x" * 250)
    sealed = seal(path, SealOptions(chunk_size=100))
    with pytest.raises(SealError) as caught:
        prove(path, sealed.manifest, chunk=3)
    assert str(caught.value) == f"{path} has 3 chunks; chunk 3 does not exist: give a chunk from 0 to 2"
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.options == ("chunk",)


def test_a_file_that_is_not_in_the_sealed_folder_is_not_found(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    sealed = seal(root)
    with pytest.raises(SealError) as caught:
        prove(root, sealed.manifest, file="b.txt")
    assert caught.value.message == f"'b.txt' is not a file of the sealed folder {root}"
    assert caught.value.hint == (
        "give its path relative to the folder, with / separators (the tree dump, tree.json, lists every path)"
    )
    assert caught.value.kind is ErrorKind.NOT_FOUND and caught.value.options == ("file",)


def test_a_full_disk_under_the_trees_temporary_files_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "data.bin", b"x" * 1000)

    def full(self: IndexedDigestTreeBuilder, digests: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(IndexedDigestTreeBuilder, "add_many", full)
    with pytest.raises(SealError, match=f"computing the tree of {path} failed: No space left on device") as caught:
        seal(path, out_dir=tmp_path / "out")
    assert caught.value.kind is ErrorKind.UNAVAILABLE
    assert caught.value.hint == "check the disk (free space, permissions) and try again"
    assert not (tmp_path / "out").exists()
    with pytest.raises(SealError, match=f"computing the tree of {path} failed: No space left on device"):
        compute_tree(path)
