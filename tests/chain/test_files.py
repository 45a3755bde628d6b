"""chain.files.write_atomic: the content, the mode, and the fsync of the file and of its folder."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from dataseal.chain import files
from dataseal.chain.files import write_atomic


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
