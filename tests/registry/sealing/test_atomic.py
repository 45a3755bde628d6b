"""Interrupting a seal never leaves a half-written manifest or tree file (nor temporary files)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle.digests import IndexedDigestTree
from dataseal.registry.sealing import SealError
from dataseal.registry.sealing.atomic import StagedFiles, atomic_writer
from dataseal.registry.sealing.options import SealOptions
from dataseal.registry.sealing.seal import seal


def test_an_interrupt_while_writing_the_tree_keeps_the_previous_seal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"a" * 10_000)
    first = seal(data, SealOptions(chunk_size=100))
    before = {p.name: p.read_bytes() for p in first.manifest_path.parent.iterdir()}
    data.write_bytes(b"b" * 10_000)
    real_write = IndexedDigestTree.write_dump

    def interrupted(self: IndexedDigestTree, out: object, progress: object = None) -> None:
        real_write(self, out, progress)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(IndexedDigestTree, "write_dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        seal(data, SealOptions(chunk_size=100), replace=True)
    after = {p.name: p.read_bytes() for p in first.manifest_path.parent.iterdir()}
    assert after == before  # same two files, same bytes, no temporary file left


def test_an_interrupted_first_seal_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"a" * 1000)

    def interrupted(self: object, out: object, progress: object = None) -> None:
        out.write('{"format":"standard-v1","tree":[')  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(IndexedDigestTree, "write_dump", interrupted)
    with pytest.raises(KeyboardInterrupt):
        seal(data, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # the folder the seal made is gone too


def test_staged_files_move_in_together_and_take_the_umask_mode(tmp_path: Path) -> None:
    with StagedFiles() as stage:
        with stage.open(tmp_path / "a.json") as f:
            f.write("A")
        with stage.open(tmp_path / "b.json") as f:
            f.write("B")
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
        stage.commit()
    assert (tmp_path / "a.json").read_text() + (tmp_path / "b.json").read_text() == "AB"
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~mask
    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "a.json", replace=True) as f:
        f.write("half")
        raise RuntimeError
    assert (tmp_path / "a.json").read_text() == "A"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_a_full_disk_while_writing_is_a_typed_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(SealError, match="writing .*a.json failed: No space left on device: free disk space and try "
                       "again$") as caught:
        with StagedFiles() as stage, stage.open(tmp_path / "a.json") as f:
            f.write("A")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert caught.value.kind is ErrorKind.UNAVAILABLE
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_to_write_into_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(SealError, match="cannot write .*nothere/a.json: the folder .*nothere does not exist") as caught:
        with StagedFiles() as stage, stage.open(tmp_path / "nothere" / "a.json"):
            pass
    assert caught.value.kind is ErrorKind.NOT_FOUND
    assert caught.value.hint == "create the folder first, or choose a path in an existing folder"
