"""Sealing a folder: one leaf per regular file, deterministic order, symlinks and special files by policy."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.sealing import (
    EmptyInputError,
    InputChangedError,
    SealError,
    SpecialFileError,
    UnreadableInputError,
)
from dataseal.registry.sealing import folders as folders_module
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import prove, seal


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


FILES = {"b.txt": b"bee", "a/z.txt": b"zed", "a/ä.txt": b"umlaut", "A.txt": b"upper", "a b/c.csv": b"1,2\n"}


def leaves_of(files: dict[str, bytes]) -> list[tuple[str, int, bytes]]:
    ordered = sorted(files, key=lambda rel: rel.encode("utf-8"))
    return [(rel, len(files[rel]), hashlib.sha256(files[rel]).digest()) for rel in ordered]


def test_one_leaf_per_file_sorted_by_utf8_path(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", FILES)
    (root / "empty-dir").mkdir()
    result = seal(root)
    expected = StandardMerkleTree.of(leaves_of(FILES), ["string", "uint256", "bytes32"], sort_leaves=False)
    assert result.root == expected.root_hex
    assert [v["value"][0] for v in StandardMerkleTree.loads(result.tree_path.read_text()).dump()["values"]] == [
        "A.txt",
        "a b/c.csv",
        "a/z.txt",
        "a/ä.txt",
        "b.txt",
    ]
    content = result.manifest.content
    assert content.kind == "folder"
    assert (content.file_count, content.size) == (5, sum(len(v) for v in FILES.values()))  # type: ignore[union-attr]
    assert result.manifest_path.parent == tmp_path / "data.dataseal"


def test_the_root_does_not_depend_on_creation_order(tmp_path: Path) -> None:
    first = seal(make_folder(tmp_path / "one", FILES), out_dir=tmp_path / "s1")
    second = seal(make_folder(tmp_path / "two", dict(reversed(list(FILES.items())))), out_dir=tmp_path / "s2")
    assert first.root == second.root


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty" / "only-dirs").mkdir(parents=True)
    with pytest.raises(EmptyInputError) as caught:
        seal(tmp_path / "empty")
    assert caught.value.message == (
        f"{tmp_path / 'empty'} holds no regular files: there is nothing to seal, a tree needs at least one leaf"
    )
    assert caught.value.hint == "check that this is the folder you meant"
    (tmp_path / "empty" / "link").symlink_to("only-dirs")
    with pytest.raises(EmptyInputError) as caught:
        seal(tmp_path / "empty", SealOptions(symlinks="skip"))
    assert caught.value.message.startswith(f"{tmp_path / 'empty'} holds no regular files (1 entry left out by policy)")


def test_a_broken_symlink_followed_is_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    (root / "dangling").symlink_to("gone.txt")
    with pytest.raises(UnreadableInputError) as caught:
        seal(root, SealOptions(symlinks="follow"))
    assert caught.value.message == "dangling is a broken symlink (No such file or directory)"
    assert caught.value.hint == "restore what it points to, remove the link, or skip links"
    assert caught.value.options == ("symlinks",)


def test_symlinks_are_refused_unless_a_policy_says_otherwise(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"real.txt": b"real", "sub/x.txt": b"x"})
    (root / "link.txt").symlink_to("real.txt")
    with pytest.raises(
        SpecialFileError, match=r"link.txt is a symlink \(to 'real.txt'\); dataseal never follows"
    ) as caught:
        seal(root)
    assert caught.value.hint == "skip links, or follow them to seal what they point to inside the folder"
    assert caught.value.options == ("symlinks",) and "--" not in str(caught.value)
    skipped = seal(root, SealOptions(symlinks="skip"), out_dir=tmp_path / "skip")
    assert skipped.leaf_count == 2
    assert [(s.path, s.reason) for s in skipped.manifest.content.skipped] == [("link.txt", "symlink")]  # type: ignore[union-attr]
    followed = seal(root, SealOptions(symlinks="follow"), out_dir=tmp_path / "follow")
    expected = leaves_of({"link.txt": b"real", "real.txt": b"real", "sub/x.txt": b"x"})
    assert (
        followed.root == StandardMerkleTree.of(expected, ["string", "uint256", "bytes32"], sort_leaves=False).root_hex
    )


def test_links_escaping_the_folder_are_refused_even_when_following(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    (tmp_path / "outside.txt").write_bytes(b"secret")
    (root / "escape.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(
        SpecialFileError, match="escape.txt is a symlink to .*outside.txt, outside the folder"
    ) as caught:
        seal(root, SealOptions(symlinks="follow"))
    assert caught.value.hint == "remove the link, or skip links" and caught.value.options == ("symlinks",)


def test_symlink_loops_are_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"sub/a.txt": b"a"})
    (root / "sub" / "back").symlink_to("..")
    with pytest.raises(
        SpecialFileError, match="sub/back leads back into a folder that contains it .a symlink loop.: remove the link"
    ) as caught:
        seal(root, SealOptions(symlinks="follow"))
    assert caught.value.options == ("symlinks",)
    (root / "sub" / "back").unlink()
    (root / "sub" / "deeper").mkdir()
    (root / "sub" / "deeper" / "up").symlink_to("../..")  # to the root, two levels up
    with pytest.raises(SpecialFileError, match="sub/deeper/up leads back into a folder that contains it"):
        seal(root, SealOptions(symlinks="follow"))


def test_following_a_link_to_a_sibling_folder_is_not_a_loop(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a/x.txt": b"x", "b/y.txt": b"y"})
    (root / "b" / "to-a").symlink_to("../a")  # a sibling folder, not one b lies in
    (root / "link").symlink_to("a")
    result = seal(root, SealOptions(symlinks="follow"))
    expected = leaves_of({"a/x.txt": b"x", "b/to-a/x.txt": b"x", "b/y.txt": b"y", "link/x.txt": b"x"})
    assert result.root == StandardMerkleTree.of(expected, ["string", "uint256", "bytes32"], sort_leaves=False).root_hex


def test_special_files_are_refused_or_skipped(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    os.mkfifo(root / "pipe")
    with pytest.raises(SpecialFileError, match="pipe is a fifo, not a regular file: leave special files out") as caught:
        seal(root)
    assert caught.value.hint == "leave special files out, or remove it from the folder"
    assert caught.value.options == ("special",) and "--" not in str(caught.value)
    result = seal(root, SealOptions(special="skip"))
    assert [(s.path, s.reason) for s in result.manifest.content.skipped] == [("pipe", "fifo")]  # type: ignore[union-attr]


def test_devices_are_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    try:
        os.mknod(root / "null", 0o600 | 0o020000, os.makedev(1, 3))
    except (PermissionError, OSError):
        pytest.skip("cannot create a device node here")
    with pytest.raises(SpecialFileError, match="null is a device, not a regular file"):
        seal(root)


def test_names_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})
    with open(os.path.join(os.fsencode(root), b"bad-\xff.txt"), "wb") as f:
        f.write(b"x")
    with pytest.raises(UnreadableInputError) as caught:
        seal(root)
    assert caught.value.message == (
        f"the name 'bad-\ufffd.txt' in {root} is not valid UTF-8, and leaf paths are UTF-8 strings"
    )
    assert caught.value.hint == "rename the file"


def test_an_unreadable_member_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a", "locked.txt": b"l"})
    real_open = os.open

    def denied(target: object, flags: int, *args: object) -> int:
        if str(target).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(target))
        return real_open(target, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(UnreadableInputError, match="cannot read .*locked.txt: permission denied"):
        seal(root, out_dir=tmp_path / "out")


def test_a_member_changing_between_listing_and_hashing_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a", "grows.txt": b"12345"})
    real_hash = folders_module.hash_whole

    def grow_then_hash(path: Path, **kwargs: bool) -> tuple[int, bytes]:
        if path.name == "grows.txt":
            with open(path, "ab") as f:
                f.write(b"678")
        return real_hash(path, **kwargs)

    monkeypatch.setattr(folders_module, "hash_whole", grow_then_hash)
    with pytest.raises(InputChangedError) as caught:
        seal(root)
    assert str(caught.value) == (
        "grows.txt changed while the folder was being read: 5 bytes when listed, 8 when hashed: try again when nothing "
        "is writing to it"
    )


def test_prove_a_file_of_a_folder(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "data", FILES)
    result = seal(root)
    proof = prove(root, result.manifest, file="a/ä.txt")
    assert proof.value == ("a/ä.txt", "6", "0x" + hashlib.sha256(b"umlaut").hexdigest())
    with pytest.raises(SealError, match="'a/missing.txt' is not a file of the sealed folder"):
        prove(root, result.manifest, file="a/missing.txt")
    with pytest.raises(
        SealError, match=r"was sealed as a folder \(files\): a proof is of one file \(asked for chunk 1\): say which "
        "file to prove, by its path relative to the folder"
    ) as caught:
        prove(root, result.manifest, chunk=1)
    assert caught.value.options == ("file",)


def test_listing_a_folder_that_does_not_exist_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError) as caught:
        folders_module.list_folder(tmp_path / "nothere")
    assert str(caught.value) == f"{tmp_path / 'nothere'} does not exist: check the path"
    assert caught.value.kind is ErrorKind.NOT_FOUND
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(UnreadableInputError) as caught:
        folders_module.list_folder(tmp_path / "file")
    assert str(caught.value) == f"{tmp_path / 'file'} is not a folder: give a folder, or seal it as a file"
    assert caught.value.kind is ErrorKind.INVALID_INPUT


def test_a_folder_that_cannot_be_listed_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a"})

    def failing(path: object) -> object:
        raise (PermissionError(13, "Permission denied") if denied else OSError(5, "Input/output error"))

    monkeypatch.setattr(folders_module.os, "scandir", failing)
    denied = True
    with pytest.raises(UnreadableInputError) as caught:
        folders_module.list_folder(root)
    assert str(caught.value) == f"cannot list {root}: permission denied: fix its permissions, or seal another folder"
    denied = False
    with pytest.raises(UnreadableInputError) as caught:
        folders_module.list_folder(root)
    assert caught.value.message == f"cannot list {root}: Input/output error"
    assert caught.value.hint == "check that the folder is readable and that nothing is changing it, then try again"


def test_a_member_deleted_between_listing_and_hashing_is_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_folder(tmp_path / "data", {"a.txt": b"a", "gone.txt": b"12345"})
    real_hash = folders_module.hash_whole

    def delete_then_hash(path: Path, **kwargs: bool) -> tuple[int, bytes]:
        if path.name == "gone.txt":
            path.unlink()
        return real_hash(path, **kwargs)

    monkeypatch.setattr(folders_module, "hash_whole", delete_then_hash)
    with pytest.raises(InputChangedError) as caught:
        seal(root)
    assert caught.value.message.endswith("gone.txt was deleted while the folder was being read")
    assert caught.value.hint == "try again when nothing is changing the folder"
    assert caught.value.kind is ErrorKind.CONFLICT
