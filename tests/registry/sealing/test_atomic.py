"""Interrupting a seal never leaves a half-written manifest or tree file (nor temporary files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataseal.registry.merkle.digests import IndexedDigestTree
from dataseal.registry.sealing import EmptyInputError
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
        seal(data, SealOptions(chunk_size=100))
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
    with pytest.raises(RuntimeError), atomic_writer(tmp_path / "a.json") as f:
        f.write("half")
        raise RuntimeError
    assert (tmp_path / "a.json").read_text() == "A"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


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
