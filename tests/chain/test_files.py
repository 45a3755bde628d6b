"""chain.files.write_atomic: the content, the mode, and the fsync of the file and of its folder."""
from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from dataseal.chain import files
from dataseal.chain.files import write_atomic
from dataseal.errors import ErrorKind
from tests.support.devices import null_device


def test_the_content_replaces_the_file_and_no_temp_file_is_left(tmp_path: Path) -> None:
    target = tmp_path / "deployments.json"
    target.write_bytes(b"old")
    write_atomic(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["deployments.json"]


def test_the_folder_is_synced_after_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, Any]] = []
    opened: dict[int, str] = {}
    real_open, real_fsync, real_replace = os.open, os.fsync, os.replace

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = os.fspath(path) if os.path.isdir(path) else "file"
        return fd

    def recording_fsync(fd: int) -> None:
        events.append(("fsync", opened.get(fd, "file")))
        real_fsync(fd)

    def recording_replace(src: Any, dst: Any) -> None:
        events.append(("replace", os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    target = tmp_path / "key.json"
    write_atomic(target, b"{}")
    assert events == [("fsync", "file"), ("replace", str(target)), ("fsync", str(tmp_path))]


def test_a_folder_that_cannot_be_opened_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def windows_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", windows_open)
    write_atomic(tmp_path / "a.json", b"1")
    assert (tmp_path / "a.json").read_bytes() == b"1"


def test_a_failing_folder_sync_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync
    calls: list[int] = []

    def failing_second_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the folder's: the disk failed
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_second_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        files.write_atomic(tmp_path / "a.json", b"1")


# ---------------------------------------------------------------------- what may be written


def test_a_device_a_fifo_a_folder_or_a_symlink_is_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    link = tmp_path / "link"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    device = null_device(tmp_path)  # never the system's own (tests/support/devices.py says why)
    cases = [(device, "a character device"), (fifo, "a FIFO"), (folder, "a folder"),
             (link, "a symbolic link"), (dangling, "a symbolic link")]
    for target, what in cases:
        with pytest.raises(files.FileRefused) as caught:
            write_atomic(target, b"new")
        assert caught.value.message == (
            f"refusing to write output file {target}: it is {what}, not a regular file, and writing would replace it"
        )
        assert caught.value.kind is ErrorKind.INVALID_INPUT
    assert stat.S_ISCHR(os.lstat(device).st_mode) and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.path.islink(link) and victim.read_bytes() == b"keep" and not (tmp_path / "nowhere").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_an_existing_file_is_replaced_only_when_allowed_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with pytest.raises(files.FileRefused) as caught, files.open_output(target, options=("out",)) as out:
        out.write(b"new")
    assert caught.value.message == f"output file {target} already exists"
    assert caught.value.options == ("out", "force") and caught.value.kind is ErrorKind.CONFLICT
    assert target.read_bytes() == b"old"
    with files.open_output(target, replace=True) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_read_only_file_is_refused_from_its_mode_even_when_replacing_is_allowed(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    target.chmod(0o444)  # root could write it: the refusal must not come from a permission error
    with pytest.raises(files.FileRefused) as caught:
        write_atomic(target, b"new", replace=True)
    assert caught.value.message == f"refusing to replace output file {target}: it is read-only (mode 0444)"
    assert target.read_bytes() == b"old" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_target_that_turns_into_a_link_while_written_is_refused_at_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    with pytest.raises(files.FileRefused, match="it is a symbolic link"), files.open_output(target) as out:
        out.write(b"new")
        target.symlink_to(victim)
    assert os.path.islink(target) and victim.read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "victim"]


def test_a_new_output_gets_the_umasks_mode_and_a_record_is_private(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        with files.open_output(tmp_path / "a") as out:
            out.write(b"1")
        write_atomic(tmp_path / "b", b"1")
        write_atomic(tmp_path / "c", b"1", mode=0o644)
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "b").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o644


# ---------------------------------------------------------------------- what may be read


def test_read_limited_reads_up_to_its_limit_and_refuses_one_byte_more(tmp_path: Path) -> None:
    path = tmp_path / "doc"
    path.write_bytes(b"x" * 10)
    assert files.read_limited(path, 10) == b"x" * 10
    with pytest.raises(files.FileRefused) as caught:
        files.read_limited(path, 9, what="document", options=("manifest",))
    assert caught.value.message == f"document {path} is larger than 9 bytes, more than any valid one holds"
    assert caught.value.options == ("manifest",)


def test_read_limited_refuses_what_is_not_a_regular_file_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: a blocking open would wait for ever
    for path, what in ((null_device(tmp_path), "a character device"), (tmp_path, "a folder"), (fifo, "a FIFO")):
        with pytest.raises(files.FileRefused, match=re.escape(f"file {path} is not a regular file (it is {what})")):
            files.read_limited(path, 100)
    with pytest.raises(FileNotFoundError):
        files.read_limited(tmp_path / "missing", 100)


def test_read_limited_caps_a_file_whose_size_says_nothing(tmp_path: Path) -> None:
    # /proc files say 0 bytes: only the bounded read stops them.
    data = files.read_limited(Path("/proc/self/status"), 1 << 20)
    assert data.startswith(b"Name:")
    with pytest.raises(files.FileRefused, match="is larger than 16 bytes"):
        files.read_limited(Path("/proc/self/status"), 16)


def test_a_target_in_a_missing_folder_names_the_folder_not_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "deeper" / "cert.pdf"
    for attempt in (lambda: files.check_output(target, replace=False, options=("out",)),
                    lambda: write_atomic(target, b"content")):
        with pytest.raises(files.FileRefused) as caught:
            attempt()
        error = caught.value
        assert error.message == f"cannot write output file {target}: the folder {target.parent} does not exist"
        assert error.kind == ErrorKind.NOT_FOUND and "create the folder first" in error.hint
        assert ".tmp" not in str(error)
    assert list(tmp_path.iterdir()) == []
