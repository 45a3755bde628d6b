"""Device nodes for tests of what dataseal refuses to read or write.

Tests never point dataseal at the system's own /dev/null or /dev/zero: should the refusal regress,
the code under test would replace that device with a regular file for everyone on the machine
(it happened once), or read /dev/zero until the kernel kills it. They make their own node in a
temporary folder instead, with /dev/null's numbers: replacing it harms nothing, and reading it
ends at once.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


def null_device(folder: Path, name: str = "null") -> Path:
    """A character device node like /dev/null (major 1, minor 3) in ``folder``; the test is skipped where
    making one is not allowed (it needs root, as the tests of the CI and of this machine run)."""
    path = folder / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    return path
