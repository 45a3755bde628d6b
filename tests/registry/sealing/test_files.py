"""Sealing a file: chunk leaves, parallel hashing, change detection, and every bad input."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.merkle import StandardMerkleTree
from dataseal.registry.sealing import EmptyInputError, InputChangedError, SealError, UnreadableInputError
from dataseal.registry.sealing import files as files_module
from dataseal.registry.sealing.files import hash_chunks
from dataseal.registry.sealing.options import MAX_FILE_CHUNKS, SealOptions
from dataseal.registry.sealing.seal import seal


def expected_root(data: bytes, chunk_size: int) -> str:
    """The root as anyone would recompute it: @openzeppelin/merkle-tree with sortLeaves false."""
    values = [
        (i, hashlib.sha256(data[o : o + chunk_size]).digest()) for i, o in enumerate(range(0, len(data), chunk_size))
    ]
    return StandardMerkleTree.of(values, ["uint256", "bytes32"], sort_leaves=False).root_hex


@pytest.mark.parametrize(("size", "chunk_size"), [(1, 1024), (4096, 1024), (4097, 1024), (10_000, 333), (5, 1)])
def test_file_root_is_the_tree_of_chunk_hashes(tmp_path: Path, size: int, chunk_size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    result = seal(path, SealOptions(chunk_size=chunk_size))
    assert result.root == expected_root(data, chunk_size)
    assert result.leaf_count == -(-size // chunk_size)
    content = result.manifest.content
    assert (content.kind, content.size, content.chunk_size) == ("file", size, chunk_size)  # type: ignore[union-attr]
    assert result.manifest_path == tmp_path / "data.bin.dataseal" / "manifest.json"
    assert StandardMerkleTree.loads(result.tree_path.read_text()).root_hex == result.root


def test_the_number_of_threads_does_not_change_the_digests(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(50_000))
    one = hash_chunks(path, 1000, workers=1)
    many = hash_chunks(path, 1000, workers=5)
    assert one == many and len(one.digests) == 50


def test_progress_reports_bytes_up_to_the_size(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(10_000))
    seen: list[tuple[str, int, int | None]] = []
    hash_chunks(path, 1000, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert seen[-1] == ("hash", 10_000, 10_000)
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    with pytest.raises(EmptyInputError) as caught:
        seal(path)
    assert caught.value.message == (
        f"{path} is empty (0 bytes): there is nothing to seal, a tree needs at least one leaf"
    )
    assert caught.value.hint == "check that this is the file you meant"
    assert not (tmp_path / "empty.bin.dataseal" / "manifest.json").exists()


def test_an_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.bin"
    path.write_bytes(b"x" * 10)
    real_open = os.open

    def denied(target: object, flags: int, *args: object) -> int:
        if Path(str(target)) == path:
            raise PermissionError(13, "Permission denied", str(target))
        return real_open(target, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(files_module.os, "open", denied)
    with pytest.raises(UnreadableInputError) as caught:
        hash_chunks(path)
    assert caught.value.message == f"cannot read {path}: permission denied"
    assert caught.value.hint == "run as a user who can read it, or fix its permissions"


def test_a_path_that_cannot_be_opened_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "far.bin"
    path.write_bytes(b"x")

    def too_long(target: object, flags: int, *args: object) -> int:
        raise OSError(errno.ENAMETOOLONG, "File name too long", str(target))

    monkeypatch.setattr(files_module.os, "open", too_long)
    with pytest.raises(UnreadableInputError) as caught:
        hash_chunks(path)
    assert str(caught.value) == (
        f"cannot open {path}: File name too long: check that the path names a regular file that you can read"
    )


def test_a_read_that_fails_midway_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "disk.bin"
    path.write_bytes(b"x" * 100)

    def broken(fd: int, buffers: object, offset: int) -> int:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files_module.os, "preadv", broken)
    with pytest.raises(UnreadableInputError) as caught:
        hash_chunks(path, 10, workers=1)
    assert caught.value.message == f"reading {path} failed at byte 0: Input/output error"
    assert caught.value.hint == "check the disk or the network share it is on, and try again"
    assert caught.value.kind is ErrorKind.UNAVAILABLE


def test_a_file_without_read_permission_is_refused(tmp_path: Path) -> None:
    """A real mode-000 file. Root reads every file, so as root (CI) the check runs in a child
    process that drops to the unprivileged user `nobody` once its imports are done."""
    folder = Path(tempfile.mkdtemp(prefix="dataseal-perm-"))
    try:
        folder.chmod(0o777)  # nobody may create the output folder; only the input is unreadable
        path = folder / "locked.bin"
        path.write_bytes(b"x" * 10)
        path.chmod(0)
        script = (
            "import os, sys\n"
            "from dataseal.registry.sealing import UnreadableInputError\n"
            "from dataseal.registry.sealing.seal import seal\n"
            "if os.geteuid() == 0: os.setgid(65534); os.setuid(65534)\n"
            "try:\n"
            "    seal(sys.argv[1])\n"
            "except UnreadableInputError as exc:\n"
            "    print(exc)\n"
            "    sys.exit(3)\n"
        )
        child = subprocess.run(
            [sys.executable, "-c", script, str(path)], capture_output=True, text=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        assert child.returncode == 3, child.stderr
        assert "permission denied" in child.stdout
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_folder_given_as_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="is a folder: seal it as a folder") as caught:
        hash_chunks(tmp_path)
    assert caught.value.message == f"{tmp_path} is a folder"
    assert caught.value.hint == "seal it as a folder (one leaf per file), not as a file"


def test_a_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # keep a reader so that opening does not block
    try:
        with pytest.raises(UnreadableInputError) as caught:
            hash_chunks(fifo)
        assert caught.value.message == f"{fifo} is not a regular file (it is a fifo); only regular files are sealed"
        assert caught.value.hint == "copy what it holds into a regular file, and seal that"
    finally:
        os.close(fd)


def test_a_file_growing_while_read_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "log.bin"
    path.write_bytes(b"a" * 64_000)

    def append(phase: str, done: int, total: int | None) -> None:
        if done == 1000:
            with open(path, "ab") as f:
                f.write(b"more")

    with pytest.raises(InputChangedError) as caught:
        hash_chunks(path, 1000, workers=1, progress=append)
    assert str(caught.value) == (
        f"{path} changed while it was being read: its size was 64000 bytes when the read began, 64004 bytes at the "
        "end: try again when nothing is writing to it"
    )


def test_a_file_rewritten_in_place_while_read_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "db.bin"
    path.write_bytes(b"a" * 64_000)

    def rewrite(phase: str, done: int, total: int | None) -> None:
        if done == 1000:
            with open(path, "r+b") as f:
                f.write(b"b" * 10)
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    with pytest.raises(InputChangedError) as caught:
        hash_chunks(path, 1000, workers=1, progress=rewrite)
    assert caught.value.message.endswith("its modification time moved during the read")
    assert caught.value.hint == "try again when nothing is writing to it"


def test_a_file_shrinking_while_read_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"a" * 64_000)

    def truncate(phase: str, done: int, total: int | None) -> None:
        if done == 1000:
            os.truncate(path, 5000)

    with pytest.raises(InputChangedError, match="its size was 64000 bytes when the read began, 5000 bytes at the end"):
        hash_chunks(path, 1000, workers=1, progress=truncate)


def test_a_file_replaced_while_read_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"a" * 64_000)
    other = tmp_path / "other.bin"
    other.write_bytes(b"b" * 64_000)

    def replace(phase: str, done: int, total: int | None) -> None:
        if done == 1000:
            os.replace(other, path)

    with pytest.raises(InputChangedError) as caught:
        hash_chunks(path, 1000, workers=1, progress=replace)
    assert str(caught.value) == (
        f"{path} was replaced by another file while it was being read: try again when nothing is replacing it"
    )


def test_a_chunk_is_read_and_hashed_in_blocks_of_at_most_8_mib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One buffer of the chunk size per worker was 128 MiB × cores with --chunk-size 128MiB."""
    chunk_size = (16 << 20) + 3
    data = os.urandom(chunk_size + 1000)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    reads: list[int] = []
    real_read_full = files_module._read_full

    def recording(fd: int, buffer: bytearray | memoryview, offset: int, where: Path) -> int:
        reads.append(len(buffer))
        return real_read_full(fd, buffer, offset, where)

    monkeypatch.setattr(files_module, "_read_full", recording)
    digests = hash_chunks(path, chunk_size, workers=2)
    assert digests.digests == [hashlib.sha256(data[:chunk_size]).digest(), hashlib.sha256(data[chunk_size:]).digest()]
    assert max(reads) <= 8 << 20 and sum(reads) == len(data)


def test_a_file_rewritten_with_its_modification_time_set_back_is_detected(tmp_path: Path) -> None:
    """Same size, same mtime (a tool restored it): only the status-change time (ctime) tells."""
    path = tmp_path / "db.bin"
    path.write_bytes(b"a" * 64_000)
    st = os.stat(path)

    def rewrite(phase: str, done: int, total: int | None) -> None:
        if done == 1000:
            time.sleep(0.05)  # past the file system's clock tick, so that ctime moves
            with open(path, "r+b") as f:
                f.write(b"b" * 10)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))

    with pytest.raises(InputChangedError) as caught:
        hash_chunks(path, 1000, workers=1, progress=rewrite)
    assert "its status-change time (ctime) moved during the read" in caught.value.message
    assert caught.value.hint == "try again when nothing is touching it"
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError) as caught:
        hash_chunks(tmp_path / "nope.bin")
    assert str(caught.value) == f"{tmp_path / 'nope.bin'} does not exist: check the path"
    assert caught.value.kind is ErrorKind.NOT_FOUND


def test_a_folder_member_that_became_a_symlink_is_a_change(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_bytes(b"x")
    (tmp_path / "link.txt").symlink_to("real.txt")
    with pytest.raises(InputChangedError) as caught:
        files_module.hash_whole(tmp_path / "link.txt")
    assert str(caught.value) == (
        f"{tmp_path / 'link.txt'} became a symlink while the folder was read: try again when nothing is changing the "
        "folder"
    )


def test_a_file_of_more_chunks_than_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_CHUNKS + 1)  # sparse: the size is all that counts
    with pytest.raises(SealError) as caught:
        hash_chunks(path, 1)
    assert caught.value.message == (
        f"{path} is 1,048,577 bytes: in chunks of 1 bytes that is 1,048,577 chunks, more than the 1,048,576 a sealed "
        "file may have"
    )
    assert caught.value.hint == "use a chunk size of at least 2 bytes" and caught.value.options == ("chunk_size",)
    assert len(hash_chunks(path, 2).digests) == MAX_FILE_CHUNKS // 2 + 1
