"""Writing small files so that a reader never sees half of one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(target: Path, content: bytes, *, mode: int | None = None) -> None:
    """Write ``content`` to ``target``: a temp file in the same folder, fsync, then rename over it.

    ``mode`` (e.g. 0o600 for secrets) is set on the temp file before anything is written to it.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
